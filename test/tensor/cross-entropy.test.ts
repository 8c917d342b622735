import { describe, expect, it } from 'vitest';
import * as ref from '../../src/tensor/cpu-reference.ts';
import { crossEntropy } from '../../src/tensor/ops/cross-entropy.ts';
import { engine, fill, tensor } from '../../src/tensor/index.ts';
import { UNIT_ROUNDOFF, checkOp } from '../helpers/check.ts';
import { forEachVariant } from '../helpers/variants.ts';

const u = UNIT_ROUNDOFF.f32;

// With each form of the row reductions (workgroup-memory tree, subgroup operations).
forEachVariant('cross-entropy', 'reduce', () => {
  for (const [N, V] of [[5, 11], [7, 300]]) {
    // lse = m + log Σ exp: the sum has V terms (≤ V·u relative), exp/log ≤ 30 ULP each; the loss is ~ log V
    // + a few, and the mean adds N roundings. Gradients are (softmax − onehot)·g/count, |·| ≤ 1·|g|.
    it(`matches the float64 reference on (${N}, ${V}) with ignored targets`, async () => {
      const targets = Array.from({ length: N }, (_, i) => (i % 3 === 1 ? -100 : (i * 7) % V));
      await checkOp({
        name: 'crossEntropy',
        inputs: [{ shape: [N, V], grad: true, scale: 2 }, { shape: [N], values: targets, dtype: 'i32' }],
        gpu: crossEntropy,
        cpu: (x) => ref.crossEntropy(x, targets),
        fwdTol: (V + N + 60) * u * 20,
        gradTol: (V + 60) * u * 4,
      });
    });
  }

  it('is 0 with a zero gradient when every target is ignored', async () => {
    const { backward, tidy } = await import('../../src/tensor/index.ts');
    const x = fill([2, 3], 1);
    x.requiresGrad = true;
    const loss = tidy(() => {
      const l = crossEntropy(x, tensor([-100, -100], [2], 'i32'));
      backward(l);
      return l;
    });
    expect(await loss.item()).toBe(0);
    expect([...(await x.grad!.read())]).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

describe('cross-entropy', () => {
  it('rejects targets that do not match the rows', () => {
    expect(() => crossEntropy(fill([2, 3], 1), tensor([1], [1], 'i32'))).toThrow(/crossEntropy: .* does not give one target per row/);
  });

  it('works on logits larger than one storage binding (a 128,256-token vocabulary)', async () => {
    const V = 128256;
    const N = Math.ceil((engine().gpu.limits.maxStorageBufferBindingSize / 4 / V) * 1.1);
    // Uniform logits: every row's loss is exactly log V up to the V-term sum's rounding.
    const loss = await crossEntropy(fill([N, V], 0.5), tensor(Array.from({ length: N }, (_, i) => i * 1000), [N], 'i32')).item();
    expect(Math.abs(loss - Math.log(V))).toBeLessThan((V + 60) * u * Math.log(V));
  });
});

forEachVariant('weighted cross-entropy (independent sequences in one batch)', 'reduce', () => {
  it('is Σ w_r·loss_r, with its gradient', async () => {
    const [N, V] = [6, 13];
    const targets = [3, -100, 7, 0, 12, 5];
    const weights = [0.5, 0.5, 0.25, 0.25, 0.25, 1];
    await checkOp({
      name: 'weighted crossEntropy',
      inputs: [{ shape: [N, V], grad: true, scale: 2 }, { shape: [N], values: targets, dtype: 'i32' }, { shape: [N], values: weights }],
      gpu: crossEntropy,
      cpu: (x) => ref.crossEntropy(x, targets, weights),
      fwdTol: (V + N + 60) * u * 20,
      gradTol: (V + 60) * u * 4,
    });
  });
});
