import { afterEach, describe, expect, it } from 'vitest';
import * as ref from '../../src/tensor/cpu-reference.ts';
import { type AttentionShape, attention, attentionKernel, forceAttentionKernel } from '../../src/tensor/ops/attention.ts';
import { type Tensor, backward, engine, fill, noGrad, tensor, tidy } from '../../src/tensor/index.ts';
import { Rng } from '../../src/util/random.ts';
import { UNIT_ROUNDOFF, checkOp, expectAllClose } from '../helpers/check.ts';
import { itOnceOnly } from '../helpers/variants.ts';

const u = UNIT_ROUNDOFF.f32;

// Scores are D-term dot products of N(0,1) values (error ≤ D·u·Σ|q·k| ≈ D²·u·0.8), scaled by 1/√D; the
// softmax adds keys·u + exp's ULPs (the fused kernel's online softmax rescales each row once per key tile:
// ≤ 2 more roundings per tile, inside the keys term); the output sums `keys` terms p·v with |v| ≲ 4. The
// backward chains three more such products. Bounds below follow that chain with magnitudes ≲ 4 per factor.
const tols = (D: number, keys: number) => ({
  fwdTol: (D * D + keys + 30) * u * 4 * 4,
  gradTol: (D * D + 2 * keys + 30) * u * 4 * 4 * 4 * keys,
});

const qkv = (s: AttentionShape, grad = true) => [
  { shape: [s.B, s.T, s.H * s.D], grad },
  { shape: [s.B, s.S, s.Hkv * s.D], grad },
  { shape: [s.B, s.S, s.Hkv * s.D], grad },
];

// Both implementations answer every case: the fused kernels (FlashAttention-2) and the materialised
// GEMM + softmax path they replace.
for (const kind of ['fused', 'materialised'] as const) {
  describe(`attention (${kind})`, () => {
    const run = (q: Tensor, k: Tensor, v: Tensor, s: AttentionShape, opts = {}) => {
      forceAttentionKernel(kind);
      try {
        return attention(q, k, v, s, opts);
      } finally {
        forceAttentionKernel(null);
      }
    };

    it('training shape: B=2, T=5, H=4, Hkv=2, D=8, with a key-padding mask', async () => {
      const s = { B: 2, T: 5, H: 4, Hkv: 2, D: 8, S: 5, keys: 5, past: 0 };
      const mask = [1, 1, 1, 1, 1, /* b=1 right-padded */ 1, 1, 1, 0, 0];
      await checkOp({
        name: 'attention',
        inputs: [...qkv(s), { shape: [s.B, s.S], values: mask, dtype: 'i32' }],
        gpu: (q, k, v, m) => run(q, k, v, s, { keyMask: m }),
        cpu: (q, k, v, m) => ref.attention(q, k, v, s, m),
        ...tols(s.D, s.keys),
        fdSamples: 40,
      });
    });

    it('T = 37 (not a multiple of any tile), D = 32, G = 4', async () => {
      const s = { B: 2, T: 37, H: 8, Hkv: 2, D: 32, S: 37, keys: 37, past: 0 };
      await checkOp({
        name: 'attention T=37',
        inputs: qkv(s),
        gpu: (q, k, v) => run(q, k, v, s),
        cpu: (q, k, v) => ref.attention(q, k, v, s),
        ...tols(s.D, s.keys),
        fdSamples: 24,
      });
    });

    it('packed documents (segment ids, 0 for padding), D = 64, G = 1', async () => {
      const s = { B: 2, T: 41, H: 2, Hkv: 2, D: 64, S: 41, keys: 41, past: 0 };
      const docs = (sizes: [number, number][]) => sizes.flatMap(([id, n]) => new Array(n).fill(id));
      const segments = [
        ...docs([
          [1, 15],
          [2, 20],
          [3, 4],
          [0, 2],
        ]),
        ...docs([
          [7, 3],
          [9, 38],
        ]),
      ];
      await checkOp({
        name: 'attention segments',
        inputs: [...qkv(s), { shape: [s.B, s.T], values: segments, dtype: 'i32' }],
        gpu: (q, k, v, m) => run(q, k, v, s, { keyMask: m, segments: true }),
        cpu: (q, k, v, m) => ref.attention(q, k, v, s, m, { segments: true }),
        ...tols(s.D, s.keys),
        fdSamples: 24,
      });
    });

    it('KV-cache prefill: 7 queries after 29 cached keys in a cache of 40, left padding, D = 64, G = 2', async () => {
      const s = { B: 2, T: 7, H: 4, Hkv: 2, D: 64, S: 40, keys: 36, past: 29 };
      // The mask covers the whole cache (B, S); rows past `keys` are never read.
      const mask = [...new Array(3).fill(0), ...new Array(37).fill(1), ...new Array(40).fill(1)];
      await checkOp({
        name: 'attention prefill',
        inputs: [...qkv(s), { shape: [s.B, s.S], values: mask, dtype: 'i32' }],
        gpu: (q, k, v, m) => run(q, k, v, s, { keyMask: m }),
        cpu: (q, k, v, m) => ref.attention(q, k, v, s, m),
        ...tols(s.D, s.keys),
        fdSamples: 24,
      });
    });

    it('decoding: one query against a longer cache, H = Hkv, D = 4', async () => {
      const s = { B: 2, T: 1, H: 2, Hkv: 1, D: 4, S: 9, keys: 7, past: 6 };
      await checkOp({
        name: 'attention decode',
        inputs: qkv(s),
        gpu: (q, k, v) => run(q, k, v, s),
        cpu: (q, k, v) => ref.attention(q, k, v, s),
        ...tols(s.D, s.keys),
      });
    });

    it('without the causal mask, with padding, G = 4, D = 16', async () => {
      const s = { B: 1, T: 9, H: 4, Hkv: 1, D: 16, S: 9, keys: 9, past: 0 };
      const mask = [1, 1, 0, 1, 1, 1, 1, 1, 0];
      await checkOp({
        name: 'attention non-causal',
        inputs: [...qkv(s), { shape: [s.B, s.S], values: mask, dtype: 'i32' }],
        gpu: (q, k, v, m) => run(q, k, v, s, { keyMask: m, causal: false }),
        cpu: (q, k, v, m) => ref.attention(q, k, v, s, m, { causal: false }),
        ...tols(s.D, s.keys),
        fdSamples: 24,
      });
    });
  });
}

describe('attention: which implementation runs', () => {
  afterEach(() => forceAttentionKernel(null));
  const training = (B: number, T: number, H: number, Hkv: number, D: number) => ({ B, T, H, Hkv, D, S: T, keys: T, past: 0 });

  it('a CPU adapter materialises shapes whose probabilities take ≤ 4 MiB a layer, a GPU never does; forcing wins', () => {
    const materialised = engine().gpu.report.isCpu ? 'materialised' : 'fused';
    const small = training(1, 256, 8, 2, 64); // the 30M bench shape: 2 MiB of probabilities a layer
    expect(attentionKernel(small)).toBe(materialised);
    expect(attentionKernel(training(2, 64, 4, 2, 16))).toBe(materialised); // the tiny shape
    expect(attentionKernel({ B: 1, T: 1, H: 32, Hkv: 8, D: 64, S: 1024, keys: 1024, past: 1023 })).toBe(materialised); // decoding
    expect(attentionKernel(training(1, 256, 32, 8, 64))).toBe('fused'); // the 1B shape: 8 MiB a layer
    expect(attentionKernel(training(1, 1630, 32, 8, 64))).toBe('fused'); // ARC's longest sequence
    expect(attentionKernel(training(1, 16, 2, 1, 6))).toBe('materialised'); // D not a multiple of 4
    forceAttentionKernel('fused');
    expect(attentionKernel(small)).toBe('fused');
    forceAttentionKernel('materialised');
    expect(attentionKernel(training(1, 256, 32, 8, 64))).toBe('materialised');
  });
});

describe('attention (fused) on adapter limits', () => {
  afterEach(() => forceAttentionKernel(null));

  itOnceOnly('grids above 65,535 workgroups: 70,000 batch entries', async () => {
    forceAttentionKernel('fused');
    const s = { B: 70_000, T: 2, H: 2, Hkv: 1, D: 4, S: 2, keys: 2, past: 0 };
    await checkOp({
      name: 'attention 70k entries',
      inputs: qkv(s),
      gpu: (q, k, v) => attention(q, k, v, s),
      cpu: (q, k, v) => ref.attention(q, k, v, s),
      ...tols(s.D, s.keys),
      fdSamples: 16,
    });
  });

  itOnceOnly('q, out and their gradients larger than one storage binding: batch entries split across dispatches', async () => {
    forceAttentionKernel('fused');
    const { limits } = engine().gpu;
    const [T, H, Hkv, D] = [8, 16, 4, 64];
    const B = Math.ceil((limits.maxStorageBufferBindingSize / 4 / (T * H * D)) * 1.1);
    const s = { B, T, H, Hkv, D, S: T, keys: T, past: 0 };
    const rng = new Rng(3);
    const normals = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
    const host = { q: normals(B * T * H * D), k: normals(B * T * Hkv * D), v: normals(B * T * Hkv * D), dout: normals(B * T * H * D) };
    expect(host.q.byteLength).toBeGreaterThan(limits.maxStorageBufferBindingSize);

    // Forward and backward on the GPU: all at once, and for a few entries alone (one dispatch each).
    const onGpu = async (entries: number, slice: (a: Float32Array, row: number) => Float32Array) => {
      const shape = { ...s, B: entries };
      const [q, k, v] = [slice(host.q, T * H * D), slice(host.k, T * Hkv * D), slice(host.v, T * Hkv * D)].map((a, i) => {
        const t = tensor(a, [entries, T, (i ? Hkv : H) * D]);
        t.requiresGrad = true;
        return t;
      });
      const out = tidy(() => {
        const o = attention(q, k, v, shape);
        backward(o, tensor(slice(host.dout, T * H * D), o.shape));
        return o;
      });
      const result = { out: await out.read(), dq: await q.grad!.read(), dk: await k.grad!.read(), dv: await v.grad!.read() };
      [out, q, k, v].forEach((t) => t.dispose());
      return result;
    };
    const all = await onGpu(B, (a) => a);
    const perDispatch = Math.floor(limits.maxStorageBufferBindingSize / (T * H * D * 4));
    for (const b of [0, perDispatch - 1, perDispatch, B - 1]) {
      const alone = await onGpu(1, (a, row) => a.subarray(b * row, (b + 1) * row));
      // The same kernel on the same entry: only the windows' offsets differ, so the bits are the same.
      for (const [name, row] of [
        ['out', T * H * D],
        ['dq', T * H * D],
        ['dk', T * Hkv * D],
        ['dv', T * Hkv * D],
      ] as const) {
        expectAllClose(all[name].subarray(b * row, (b + 1) * row), alone[name], { atol: 0 }, `entry ${b} ${name}`);
      }
      // And the forward against the reference.
      const cpu = (a: Float32Array, row: number) => ref.cpu(a.subarray(b * row, (b + 1) * row), []);
      const expected = ref.attention(cpu(host.q, T * H * D), cpu(host.k, T * Hkv * D), cpu(host.v, T * Hkv * D), { ...s, B: 1 });
      expectAllClose(alone.out, expected.data, { atol: tols(D, T).fwdTol }, `entry ${b} out vs reference`);
    }
  });

  itOnceOnly('one batch entry larger than one storage binding (prefill): its queries split across dispatches', async () => {
    forceAttentionKernel('fused');
    const { limits } = engine().gpu;
    // 3 queries whose rows of H·D are 0.4 bindings each: two dispatches. The G = H query heads share one
    // key/value head, so k and v stay small.
    const D = 64;
    const H = Math.ceil((limits.maxStorageBufferBindingSize * 0.4) / (D * 4));
    const s = { B: 1, T: 3, H, Hkv: 1, D, S: 3, keys: 3, past: 0 };
    const rng = new Rng(4);
    const qHost = Float32Array.from({ length: s.T * H * D }, () => rng.normal());
    const kHost = Float32Array.from({ length: s.T * D }, () => rng.normal());
    const vHost = Float32Array.from({ length: s.T * D }, () => rng.normal());
    const out = await noGrad(() => tidy(() => attention(tensor(qHost, [1, s.T, H * D]), tensor(kHost, [1, s.T, D]), tensor(vHost, [1, s.T, D]), s))).read();
    // Heads are independent given the shared keys: check a few against the reference.
    const heads = [0, 1, H >> 1, H - 1];
    const qSub = new Float64Array(s.T * heads.length * D);
    for (let t = 0; t < s.T; t++) heads.forEach((h, i) => qSub.set(qHost.subarray((t * H + h) * D, (t * H + h + 1) * D), (t * heads.length + i) * D));
    const sub = { ...s, H: heads.length };
    const expected = ref.attention(ref.cpu(qSub, []), ref.cpu(kHost, []), ref.cpu(vHost, []), sub).data;
    const got = new Float64Array(expected.length);
    for (let t = 0; t < s.T; t++) heads.forEach((h, i) => got.set(out.subarray((t * H + h) * D, (t * H + h + 1) * D), (t * heads.length + i) * D));
    expectAllClose(got, expected, { atol: tols(D, s.keys).fwdTol }, 'heads of a split entry');
  });
});

describe('attention input checks', () => {
  it('rejects heads that do not group, tensors of the wrong size and a mask of the wrong shape', () => {
    const s = { B: 1, T: 2, H: 3, Hkv: 2, D: 4, S: 2, keys: 2, past: 0 };
    expect(() => attention(fill([1, 2, 12], 0), fill([1, 2, 8], 0), fill([1, 2, 8], 0), s)).toThrow(/3 query heads are not a multiple of 2/);
    const t = { ...s, H: 2 };
    expect(() => attention(fill([1, 2, 12], 0), fill([1, 2, 8], 0), fill([1, 2, 8], 0), t)).toThrow(/attention: q .* is not \(B=1, T=2, H·D=8\)/);
    const mask = tensor([1], [1, 1], 'i32');
    expect(() => attention(fill([1, 2, 8], 0), fill([1, 2, 8], 0), fill([1, 2, 8], 0), t, { keyMask: mask })).toThrow(/key mask .* is not \(B=1, ≥ keys=2\)/);
  });
});
