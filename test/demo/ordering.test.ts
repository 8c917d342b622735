// The demo's ordering check: gaps paired within seed, and what each gap's spread adapter by adapter says
// about the evaluation size it needs. Expected values are worked by hand in the comments.
import { describe, expect, it } from 'vitest';
import { gapPower, gapTable, pairedGaps } from '../../src/demo/ordering.ts';

describe('ordering', () => {
  // Two seeds of two adapters each; "lower" scores 0.4 everywhere.
  const adapters = {
    higher: new Map([
      ['0/0', 0.6],
      ['0/4', 0.4],
      ['1/0', 0.8],
      ['1/4', 0.6],
    ]),
    lower: new Map([
      ['0/0', 0.4],
      ['0/4', 0.4],
      ['1/0', 0.4],
      ['1/4', 0.4],
    ]),
  };
  // Seed means: higher 0.5, 0.7; lower 0.4, 0.4.
  const gaps = pairedGaps({ higher: [0.5, 0.7], lower: [0.4, 0.4] }, [['higher', 'lower']]);

  it('pairs seeds: gaps 0.1 and 0.3, mean 0.2, sample std √0.02 ≈ 0.1414, which does not clear 2·std', () => {
    expect(gaps[0].perSeed.map((x) => +x.toFixed(12))).toEqual([0.1, 0.3]);
    expect(gaps[0].mean).toBeCloseTo(0.2, 12);
    expect(gaps[0].std).toBeCloseTo(Math.sqrt(0.02), 12);
    expect(gaps[0].holds).toBe(false);
  });

  it('needs (2·adapterStd/mean)² adapters a seed: differences 0.2, 0, 0.4, 0.2 → std √(0.08/3), so ⌈8/3⌉ = 3', () => {
    const [g] = gapPower(gaps, adapters);
    expect(g.power!.adapterStd).toBeCloseTo(Math.sqrt(0.08 / 3), 12);
    expect(g.power!.adaptersPerSeed).toBe(2);
    expect(g.power!.adaptersNeeded).toBe(3);
    expect(gapTable([g])).toContain('| higher − lower | 10.0, 30.0 | 20.0 ± 14.1 | **no** | 16.3 | 2 / 3 |');
  });

  it('has no finite need for a gap of the wrong sign, and no power columns without adapter data', () => {
    const [g] = gapPower(pairedGaps({ a: [0.4, 0.4], b: [0.5, 0.7] }, [['a', 'b']]), { a: adapters.lower, b: adapters.higher });
    expect(g.power!.adaptersNeeded).toBe(Number.POSITIVE_INFINITY);
    expect(gapTable([g])).toContain('2 / — |');
    expect(gapTable(gaps)).not.toContain('adapters a seed');
  });
});
