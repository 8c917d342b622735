import { describe, expect, it } from 'vitest';
import * as ref from '../../src/tensor/cpu-reference.ts';
import { matmul as refMatmul } from '../../src/tensor/cpu-reference-matmul.ts';
import { crossEntropy, linearCrossEntropy } from '../../src/tensor/ops/cross-entropy.ts';
import { engine, fill, tensor } from '../../src/tensor/index.ts';
import { UNIT_ROUNDOFF, checkOp, expectAllClose } from '../helpers/check.ts';
import { forEachVariant } from '../helpers/variants.ts';

const u = UNIT_ROUNDOFF.f32;

// With each form of the row reductions (workgroup-memory tree, subgroup operations).
forEachVariant('cross-entropy', 'reduce', () => {
  for (const [N, V] of [
    [5, 11],
    [7, 300],
  ]) {
    // lse = m + log Σ exp: the sum has V terms (≤ V·u relative), exp/log ≤ 30 ULP each; the loss is ~ log V
    // + a few, and the mean adds N roundings. Gradients are (softmax − onehot)·g/count, |·| ≤ 1·|g|.
    it(`matches the float64 reference on (${N}, ${V}) with ignored targets`, async () => {
      const targets = Array.from({ length: N }, (_, i) => (i % 3 === 1 ? -100 : (i * 7) % V));
      await checkOp({
        name: 'crossEntropy',
        inputs: [
          { shape: [N, V], grad: true, scale: 2 },
          { shape: [N], values: targets, dtype: 'i32' },
        ],
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
    const loss = await crossEntropy(
      fill([N, V], 0.5),
      tensor(
        Array.from({ length: N }, (_, i) => i * 1000),
        [N],
        'i32',
      ),
    ).item();
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
      inputs: [
        { shape: [N, V], grad: true, scale: 2 },
        { shape: [N], values: targets, dtype: 'i32' },
        { shape: [N], values: weights },
      ],
      gpu: crossEntropy,
      cpu: (x) => ref.crossEntropy(x, targets, weights),
      fwdTol: (V + N + 60) * u * 20,
      gradTol: (V + 60) * u * 4,
    });
  });
});

describe('linearCrossEntropy (LM head and loss in row chunks, no (N, V) logits)', () => {
  // Logits are C-term dot products (error ≤ C·u·Σ|x·w| ≈ C²·0.64·s·u for x ~ N(0, 1), w ~ N(0, s²), ×4 for
  // the tails); the loss moves by at most twice that beside the cross-entropy's own bound. Each gradient
  // entry sums V (dX) or N (dW) terms dlogit·factor, with |factor| ≲ 4·max(1, s) and each dlogit off by the
  // cross-entropy's gradient bound plus the logits' error.
  const tols = (N: number, V: number, C: number, s: number) => {
    const logitErr = C * C * 0.64 * s * u * 4;
    return { fwdTol: (V + N + 60) * u * 20 + 2 * logitErr, gradTol: ((V + 60) * u * 4 + logitErr) * Math.max(V, N) * 4 * Math.max(1, s) };
  };
  const [N, C, V] = [37, 24, 53];
  const targets = Array.from({ length: N }, (_, i) => (i % 5 === 2 ? -100 : (i * 11) % V));
  const logitsOf = (x: ref.Cpu, w: ref.Cpu) => refMatmul(x, w, false, true);

  it('matches crossEntropy(x·Wᵀ) with a trainable f32 W, 3 chunks of rows', async () => {
    await checkOp({
      name: 'linearCrossEntropy',
      inputs: [
        { shape: [N, C], grad: true },
        { shape: [V, C], grad: true, scale: 0.5 },
        { shape: [N], values: targets, dtype: 'i32' },
      ],
      gpu: (x, w, t) => linearCrossEntropy(x, w, t, undefined, { chunkRows: 16 }),
      cpu: (x, w) => ref.crossEntropy(logitsOf(x, w), targets),
      ...tols(N, V, C, 0.5),
      fdSamples: 30,
    });
  });

  it('weighted rows, a frozen bf16 W, chunks of 5 rows', async () => {
    const weights = Array.from({ length: N }, (_, i) => 1 / (1 + (i % 4)));
    await checkOp({
      name: 'weighted linearCrossEntropy',
      inputs: [
        { shape: [N, C], grad: true },
        { shape: [V, C], dtype: 'bf16', scale: 0.5 },
        { shape: [N], values: targets, dtype: 'i32' },
        { shape: [N], values: weights },
      ],
      gpu: (x, w, t, wt) => linearCrossEntropy(x, w, t, wt, { chunkRows: 5 }),
      cpu: (x, w) => {
        const logits = logitsOf(x, w);
        let total = 0;
        for (let r = 0; r < N; r++) {
          if (targets[r] === -100) continue;
          total += weights[r] * ref.crossEntropy({ data: logits.data.subarray(r * V, (r + 1) * V), shape: [1, V] }, [targets[r]]).data[0];
        }
        return { data: Float64Array.of(total), shape: [] };
      },
      ...tols(N, V, C, 0.5),
      fdSamples: 30,
    });
  });

  it('gives the unchunked value and gradient bit for bit when one chunk holds every row', async () => {
    const { backward, linear, tidy } = await import('../../src/tensor/index.ts');
    const x = tensor(
      Array.from({ length: N * C }, (_, i) => Math.sin(i)),
      [N, C],
    );
    const w = tensor(
      Array.from({ length: V * C }, (_, i) => Math.cos(i) * 0.5),
      [V, C],
    );
    const t = tensor(targets, [N], 'i32');
    x.requiresGrad = true;
    const run = async (fused: boolean) => {
      const loss = tidy(() => {
        const l = fused ? linearCrossEntropy(x, w, t) : crossEntropy(linear(x, w), t);
        backward(l);
        return l;
      });
      const out = { loss: await loss.item(), grad: await x.grad!.read() };
      x.grad!.dispose();
      x.grad = null;
      return out;
    };
    const [plain, fused] = [await run(false), await run(true)];
    expect(fused.loss).toBe(plain.loss);
    // The gradient is scaled by g/count after the product instead of before: a rounding apart at most.
    expectAllClose(fused.grad, plain.grad, { atol: 4 * u * Math.max(...plain.grad.map(Math.abs)) }, 'dX');
  });
});
