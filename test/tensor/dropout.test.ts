import { describe, expect, it } from 'vitest';
import * as ref from '../../src/tensor/cpu-reference.ts';
import { dropout } from '../../src/tensor/ops/dropout.ts';
import { engine, fill } from '../../src/tensor/index.ts';
import { UNIT_ROUNDOFF, checkOp, expectAllClose } from '../helpers/check.ts';

const u = UNIT_ROUNDOFF.f32;

describe('dropout', () => {
  for (const p of [0.1, 0.5, 0.9]) {
    it(`keeps the reference's mask and scales by 1/(1 − p), forward and backward (p = ${p})`, async () => {
      // A kept element is x·f32(1/(1 − p)), one rounding of the scale and one of the product: ≤ 2u·|x|/(1 − p),
      // with |x| < 6 for these few hundred N(0, 1) values. A wrong mask bit is off by |x|/(1 − p), far above it.
      // The backward applies the same mask to the upstream gradient: the same bound with |g| < 6.
      const tol = (2 * u * 6) / (1 - p);
      await checkOp({
        name: `dropout p=${p}`,
        inputs: [{ shape: [7, 61], grad: true }],
        gpu: (x) => dropout(x, p, 1234),
        cpu: (x) => ref.dropout(x, p, 1234),
        fwdTol: tol,
        gradTol: tol,
      });
    });
  }

  it('drops a share p of the elements, the same ones for the same seed, other ones for another', async () => {
    const n = 100_000;
    for (const p of [0.05, 0.5, 0.95]) {
      const kept = (await dropout(fill([n], 1), p, 7).read()).filter((v) => v !== 0).length / n;
      // Binomial: 5 standard deviations of the kept share.
      expect(Math.abs(kept - (1 - p))).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
    }
    const mask = async (seed: number) => Array.from(await dropout(fill([4096], 1), 0.5, seed).read(), (v) => v !== 0);
    const [a, again, b] = [await mask(1), await mask(1), await mask(2)];
    expect(again).toEqual(a);
    const differ = a.filter((keep, i) => keep !== b[i]).length;
    expect(differ).toBeGreaterThan(4096 * 0.4); // independent masks differ in half the places
  });

  it('is the identity at p = 0 and rejects a probability outside [0, 1)', () => {
    const x = fill([3], 2);
    expect(dropout(x, 0, 1)).toBe(x);
    for (const p of [1, -0.1, Number.NaN]) expect(() => dropout(x, p, 1)).toThrow(/dropout: probability .* is not in \[0, 1\)/);
  });

  it('masks a tensor larger than one storage binding by each element’s global index', async () => {
    const N = Math.ceil((engine().gpu.limits.maxStorageBufferBindingSize / 4) * 1.1);
    const p = 0.25;
    const y = await dropout(fill([N], 1), p, 99).read();
    for (const start of [0, N >> 1, N - 1000]) {
      // A kept 1 becomes f32(1/(1 − p)) exactly.
      const expected = Array.from({ length: 1000 }, (_, j) => (ref.dropoutKeeps(start + j, p, 99) ? Math.fround(1 / (1 - p)) : 0));
      expectAllClose(y.subarray(start, start + 1000), expected, { atol: 0 }, `elements ${start}…`);
    }
  });
});
