import { describe, expect, it } from 'vitest';
import { learningRate } from '../../src/train/schedule.ts';

// Values worked by hand from transformers' get_{constant,linear,cosine}_schedule_with_warmup lambdas.
describe('learning-rate schedules (Hugging Face semantics)', () => {
  it('linear decay to 0 without warmup: SEAL inner loop, 10 steps', () => {
    [1e-3, 9e-4, 5e-4, 1e-4].forEach((lr, i) => expect(learningRate('linear', 1e-3, [0, 1, 5, 9][i], 10)).toBeCloseTo(lr, 15));
  });
  it('warmup rises from 0, then each schedule takes over', () => {
    expect(learningRate('constant', 1, 0, 10, 4)).toBe(0);
    expect(learningRate('constant', 1, 2, 10, 4)).toBe(0.5);
    expect(learningRate('constant', 1, 7, 10, 4)).toBe(1);
    expect(learningRate('linear', 1, 4, 10, 4)).toBe(1);
    expect(learningRate('linear', 1, 7, 10, 4)).toBe(0.5);
    expect(learningRate('cosine', 1, 4, 10, 4)).toBe(1);
    expect(learningRate('cosine', 1, 7, 10, 4)).toBeCloseTo(0.5, 12); // progress 1/2: (1 + cos π/2) / 2
    expect(learningRate('cosine', 1, 10, 10, 4)).toBeCloseTo(0, 12);
  });
});
