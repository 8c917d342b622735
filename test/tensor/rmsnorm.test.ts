import { afterEach, describe, expect, it } from 'vitest';
import * as ref from '../../src/tensor/cpu-reference.ts';
import { rmsnorm } from '../../src/tensor/ops/rmsnorm.ts';
import { backward, engine, fill, forceKernels, tensor } from '../../src/tensor/index.ts';
import { UNIT_ROUNDOFF, checkOp, expectAllClose } from '../helpers/check.ts';
import { forEachRowForm } from '../helpers/variants.ts';

const u = UNIT_ROUNDOFF.f32;
const EPS = 1e-5;

function referenceChecks() {
  for (const [N, C] of [
    [3, 7],
    [5, 64],
    [2, 300],
  ]) {
    // mean(x²) sums C squares (relative error ≤ C·u), rstd inherits half of it, then two more roundings;
    // |y| ≤ |w|·|x|·rstd ≲ 1.5·4·1.5. The gradient adds a second C-term sum, with terms up to ~10.
    const fwdTol = (C + 4) * u * 10;
    const gradTol = (2 * C + 8) * u * 20;
    it(`matches the float64 reference on (${N}, ${C}), weights in f32, bf16 and f16`, async () => {
      for (const dtype of ['f32', 'bf16', 'f16'] as const) {
        await checkOp({
          name: `rmsnorm ${dtype}`,
          inputs: [
            { shape: [N, C], grad: true },
            { shape: [C], dtype, grad: dtype === 'f32', scale: 0.5 },
          ],
          gpu: (x, w) => rmsnorm(x, w, EPS),
          cpu: (x, w) => ref.rmsnorm(x, w, EPS),
          fwdTol,
          gradTol,
        });
      }
    });
  }
}

// Every case with each form of the kernels: a workgroup per row under each form of the row reductions
// (workgroup-memory tree, subgroup operations), and an invocation per row.
forEachRowForm('rmsnorm', 'rmsnorm', referenceChecks);

describe('rmsnorm: the two forms', () => {
  afterEach(() => forceKernels(null));

  it('gives the workgroup form’s bits where that form sums with the workgroup-memory tree', async () => {
    // Rows of 3 to 300 columns (fewer and more than the tree's 64 partial sums); forward and both gradients.
    for (const [N, C] of [
      [70, 3],
      [3, 64],
      [5, 300],
    ]) {
      const rng = (i: number) => Math.sin(i * 0.731) * 2;
      const xs = Array.from({ length: N * C }, (_, i) => rng(i));
      const ws = Array.from({ length: C }, (_, i) => 1 + rng(i + 7) / 4);
      const dys = Array.from({ length: N * C }, (_, i) => rng(i + 13));
      const run = async (form: string) => {
        forceKernels({ rmsnorm: form, reduce: 'workgroup' });
        const x = tensor(xs, [N, C]);
        const w = tensor(ws, [C], 'f32');
        x.requiresGrad = true;
        w.requiresGrad = true;
        const y = rmsnorm(x, w, EPS);
        backward(y, tensor(dys, [N, C]));
        const out = [await y.readF32(), await x.grad!.readF32(), await w.grad!.readF32()];
        [x, w, y].forEach((t) => t.dispose());
        return out.map((a) => Array.from(a));
      };
      expect(await run('row'), `(${N}, ${C})`).toEqual(await run('workgroup'));
    }
  });
});

describe('rmsnorm', () => {
  it('rejects a weight that does not match the last dimension', () => {
    expect(() => rmsnorm(fill([2, 4], 1), fill([3], 1), EPS)).toThrow(/rmsnorm: weight .*\[3\] does not match the last dimension of .*\[2, 4\]/);
  });

  it('normalises rows of a tensor larger than one storage binding', async () => {
    const C = 2048;
    const N = Math.ceil((engine().gpu.limits.maxStorageBufferBindingSize / 4 / C) * 1.1);
    const x = fill([N, C], 3);
    const w = tensor(
      Array.from({ length: C }, (_, c) => (c % 7) - 3),
      [C],
      'bf16',
    );
    const y = await rmsnorm(x, w, EPS).read();
    // Every row is constant 3: rstd = 1/√(9 + eps), y = w·3·rstd.
    const expected = Array.from({ length: C }, (_, c) => (((c % 7) - 3) * 3) / Math.sqrt(9 + EPS));
    for (const r of [0, N >> 1, N - 1]) expectAllClose(y.subarray(r * C, (r + 1) * C), expected, { atol: (C + 4) * u * 10 }, `row ${r}`);
  });
});
