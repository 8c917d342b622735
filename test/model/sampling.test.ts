import { describe, expect, it } from 'vitest';
import { argmax, sampleToken } from '../../src/model/sampling.ts';
import { Rng } from '../../src/util/random.ts';

describe('sampling', () => {
  it('is greedy at temperature 0, taking the first of tied maxima as torch.argmax does', () => {
    expect(argmax([0, 3, 3, 1])).toBe(1);
    expect(sampleToken(Float32Array.of(0, 2, 5, 1), {}, new Rng(1))).toBe(2);
  });

  it('keeps the smallest set of most likely tokens whose mass reaches top-p (the crossing token included)', () => {
    // probabilities 0.5, 0.3, 0.15, 0.05: top-p 0.7 keeps {0, 1}; 0.5 keeps {0}; 0.81 keeps {0, 1, 2}
    const logits = Float32Array.from([0.5, 0.3, 0.15, 0.05].map(Math.log));
    const seen = (topP: number) => {
      const rng = new Rng(7);
      const s = new Set<number>();
      for (let i = 0; i < 2000; i++) s.add(sampleToken(logits, { temperature: 1, topP }, rng));
      return [...s].sort();
    };
    expect(seen(0.5)).toEqual([0]);
    expect(seen(0.7)).toEqual([0, 1]);
    expect(seen(0.81)).toEqual([0, 1, 2]);
    expect(seen(1)).toEqual([0, 1, 2, 3]);
  });

  it('draws with the softmax probabilities at temperature 1 and is reproducible with a seed', () => {
    const logits = Float32Array.from([0.2, 0.8].map(Math.log));
    const draw = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 4000 }, () => sampleToken(logits, { temperature: 1 }, rng));
    };
    const a = draw(3);
    expect(draw(3)).toEqual(a);
    const ones = a.filter((x) => x === 1).length / a.length;
    // Binomial(4000, 0.8): standard deviation 0.0063; 5σ
    expect(Math.abs(ones - 0.8)).toBeLessThan(0.032);
  });
});
