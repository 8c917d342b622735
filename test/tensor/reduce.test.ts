import { describe, expect, it } from 'vitest';
import * as ref from '../../src/tensor/cpu-reference.ts';
import { engine, fill, max, mean, sum, sumTo, tensor } from '../../src/tensor/index.ts';
import { checkOp, expectAllClose, f32Bound } from '../helpers/check.ts';
import { forEachVariant } from '../helpers/variants.ts';

// Row reductions run as a workgroup-memory tree (CPU adapters) or with subgroup operations (GPUs): both.
forEachVariant('sum, mean, max along the last axis', 'reduce', () => {
  // Sums of C N(0,1) values: absolute sum ≈ 0.8·C; the gradient is a broadcast copy (exact).
  for (const shape of [[5, 7], [3, 300], [2, 3, 1], [1000]]) {
    const C = shape[shape.length - 1];
    it(`sum, mean, max over ${JSON.stringify(shape)}`, async () => {
      const inputs = [{ shape, grad: true }];
      await checkOp({ name: 'sum', inputs, gpu: sum, cpu: ref.sum, fwdTol: f32Bound(C, 4 * C), gradTol: 0 });
      await checkOp({ name: 'mean', inputs, gpu: mean, cpu: ref.mean, fwdTol: f32Bound(C, 4), gradTol: f32Bound(2, 4 / C) }); // alpha = 1/C rounded, times |g| ≤ 4
      // max is exact; its gradient is exact away from ties (random normals have none).
      await checkOp({ name: 'max', inputs, gpu: max, cpu: ref.max, fwdTol: 0, gradTol: 0 });
    });
  }

  it('splits the gradient of max evenly between tied maxima', async () => {
    const x = tensor([1, 3, 3, 0], [1, 4]);
    x.requiresGrad = true;
    const { backward, tidy } = await import('../../src/tensor/index.ts');
    tidy(() => backward(max(x).reshape([1]), tensor([1], [1])));
    expectAllClose(await x.grad!.read(), [0, 0.5, 0.5, 0], { atol: 0 });
  });
});

describe('reductions along the last axis', () => {
  it('sums a broadcast gradient back to each operand shape (sumTo)', async () => {
    const g = tensor(
      Array.from({ length: 24 }, (_, i) => i),
      [2, 3, 4],
    );
    expectAllClose(await sumTo(g, [4]).read(), [60, 66, 72, 78], { atol: 0 });
    expectAllClose(await sumTo(g, [3, 1]).read(), [60, 92, 124], { atol: 0 });
    expectAllClose(await sumTo(g, [2, 1, 4]).read(), [12, 15, 18, 21, 48, 51, 54, 57], { atol: 0 });
  });

  it('reduces rows of a tensor larger than one storage binding', async () => {
    const cols = 4096;
    const rows = Math.ceil((engine().gpu.limits.maxStorageBufferBindingSize / 4 / cols) * 1.2);
    const x = fill([rows, cols], 0.25);
    const s = await sum(x).read();
    expect(s.length).toBe(rows);
    // 4096 × 0.25 = 1024 exactly, in any order of summation.
    expect(s.every((v) => v === 1024)).toBe(true);
    const m = sumTo(x, [cols]);
    expectAllClose(await m.read(), new Array(cols).fill(rows * 0.25), { atol: 0 });
    x.dispose();
  });
});
