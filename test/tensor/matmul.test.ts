import { afterEach, describe, expect, it } from 'vitest';
import * as ref from '../../src/tensor/cpu-reference-matmul.ts';
import { type DType, decode, encode } from '../../src/tensor/dtype.ts';
import { backward, engine, f32ToBf16, fill, forceKernels, fromBytes, kernelFamilies, tensor, tidy } from '../../src/tensor/index.ts';
import { GEMM_VARIANTS, chooseVariant, forceGemmVariant, subgroupLanes } from '../../src/tensor/ops/matmul-kernels.ts';
import { gemm, linear, matmul } from '../../src/tensor/ops/matmul.ts';
import { cacheFriendly } from '../../src/tensor/ops/matmul-pack.ts';
import { Rng } from '../../src/util/random.ts';
import { checkOp, expectAllClose, f32Bound } from '../helpers/check.ts';
import { itOnceOnly } from '../helpers/variants.ts';

// Tolerances. Every output element is an f32 dot product of K terms; its error is at most
// f32Bound(K, Σ_k |a_mk·b_kn|) (Higham's bound for recursive summation, any order, fused or not). We
// compute the largest Σ|a·b| from the very inputs, so the bound is tight to within the worst element and
// never a guess. Gradients are dot products over N (dA = G·Bᵀ) or M (dB = Aᵀ·G) with the upstream G of
// checkOp, N(0,1) values that stay below 6 in magnitude for the sizes used here.
const G_MAX = 6;

// The lavapipe-subgroup-N projects exist to run kernels with subgroup operations at other subgroup sizes.
// Kernels without any (naive, gpu, and the GPU GEMVs summing through workgroup memory: no `subgroup*` call
// in matmul-naive/-gpu/-gemv-gpu.wgsl) compute the same at every subgroup size, so those projects skip
// them. On an empty shader cache (their pipelines compile again for each vector width) the tests skipped
// took 126 s of the file's 494 s at 16 lanes, besides their share of the GEMV read-path tests.
const SUBGROUP_PROJECT = !!process.env.SEAL_TEST_SUBGROUP_SIZE;
function subgroupFree(name: string, reduce: string | null = null): boolean {
  return name === 'naive' || name === 'gpu' || (name.startsWith('gpu-gemv') && reduce !== 'subgroup');
}

/** Normal values rounded to `dtype`, as the GPU will hold them. */
function values(n: number, rng: Rng, dtype: DType = 'f32'): Float64Array {
  const v = Array.from({ length: n }, () => rng.normal());
  return Float64Array.from(decode(encode(v, dtype), dtype));
}

/** Largest Σ over the reduced index of |x|·|y| for a product of (R×S)·(S×C) with R, C kept (row-major). */
function maxAbsDot(
  x: Float64Array,
  y: Float64Array,
  R: number,
  S: number,
  C: number,
  xAt: (r: number, s: number) => number,
  yAt: (s: number, c: number) => number,
): number {
  let worst = 0;
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let k = 0; k < S; k++) s += Math.abs(x[xAt(r, k)] * y[yAt(k, c)]);
      worst = Math.max(worst, s);
    }
  }
  return worst;
}

/** Largest row sum of |x| along one axis (x indexed by at(r, s), summing s). */
function maxAbsSum(x: Float64Array, R: number, S: number, at: (r: number, s: number) => number): number {
  let worst = 0;
  for (let r = 0; r < R; r++) {
    let s = 0;
    for (let k = 0; k < S; k++) s += Math.abs(x[at(r, k)]);
    worst = Math.max(worst, s);
  }
  return worst;
}

interface Case {
  batch: number; // 0: rank 2
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  sharedB?: boolean;
}

async function checkMatmul(c: Case, seed = 1): Promise<void> {
  const rng = new Rng(seed);
  const lead = c.batch ? [c.batch] : [];
  const aShape = [...lead, ...(c.transA ? [c.K, c.M] : [c.M, c.K])];
  const bShape = [...(c.sharedB ? [] : lead), ...(c.transB ? [c.N, c.K] : [c.K, c.N])];
  const av = values(
    aShape.reduce((x, y) => x * y, 1),
    rng,
  );
  const bv = values(
    bShape.reduce((x, y) => x * y, 1),
    rng,
  );
  // Bounds over every batch: A element (m, k) of batch t, B element (k, n).
  const B = Math.max(1, c.batch);
  const aAt = (t: number) => (m: number, k: number) => t * c.M * c.K + (c.transA ? k * c.M + m : m * c.K + k);
  const bAt = (t: number) => (k: number, n: number) => (c.sharedB ? 0 : t * c.K * c.N) + (c.transB ? n * c.K + k : k * c.N + n);
  let fwd = 0;
  let gradA = 0;
  let gradB = 0;
  for (let t = 0; t < B; t++) {
    fwd = Math.max(fwd, maxAbsDot(av, bv, c.M, c.K, c.N, aAt(t), bAt(t)));
    gradA = Math.max(gradA, G_MAX * maxAbsSum(bv, c.K, c.N, bAt(t)));
    // A shared b sums its gradient over the batch as well: B·M terms.
    gradB = Math.max(gradB, G_MAX * maxAbsSum(av, c.K, c.M, (k, m) => aAt(t)(m, k)) * (c.sharedB ? B : 1));
  }
  const name = `matmul ${JSON.stringify(c)}`;
  await checkOp({
    name,
    inputs: [
      { shape: aShape, values: av, grad: true },
      { shape: bShape, values: bv, grad: true },
    ],
    gpu: (a, b) => matmul(a, b, { transA: c.transA, transB: c.transB }),
    cpu: (a, b) => ref.matmul(a, b, c.transA, c.transB),
    fwdTol: f32Bound(c.K, fwd),
    // dA sums N terms, dB sums M (times the batch when b is shared).
    gradTol: Math.max(f32Bound(c.N, gradA), f32Bound(c.M * (c.sharedB ? B : 1), gradB)),
    seed,
    fdSamples: 24,
  });
}

afterEach(() => forceKernels(null));

const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [7, 13, 5],
  [33, 65, 17],
  [130, 3, 257],
];

describe('matmul against the float64 reference (forward and backward)', () => {
  for (const [M, N, K] of SHAPES) {
    it(`${M}×${N}×${K}, every transpose combination`, async () => {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) await checkMatmul({ batch: 0, M, N, K, transA, transB });
      }
    });
  }

  it('batched (rank 3), and a rank-2 b shared by every batch', async () => {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        await checkMatmul({ batch: 3, M: 9, N: 11, K: 21, transA, transB });
        await checkMatmul({ batch: 3, M: 9, N: 11, K: 21, transA, transB, sharedB: true });
      }
    }
  });

  it('names the op and both shapes on bad input', () => {
    tidy(() => {
      const a = tensor(new Array(6).fill(0), [2, 3]);
      const b = tensor(new Array(20).fill(0), [4, 5]);
      expect(() => matmul(a, b)).toThrow('matmul: inner dimensions differ: a [2, 3] · b [4, 5]');
      expect(() => matmul(tensor(new Array(6).fill(0), [6]), b)).toThrow(/matmul: operands must have rank 2 or 3: a \[6\] · b \[4, 5\]/);
      expect(() => matmul(tensor(new Array(6).fill(0), [2, 3], 'bf16'), b)).toThrow(/matmul: .* has dtype bf16; expected f32/);
      expect(() => linear(a, tensor(new Array(8).fill(0), [2, 4]))).toThrow('linear: inner dimensions differ: x [2, 3] · W [2, 4]ᵀ');
      expect(() => gemm({ a: { t: a, ld: 3 }, b: { t: b, ld: 5 }, c: { t: b, ld: 5 }, M: 3, N: 5, K: 3 })).toThrow(
        /gemm: operand A reaches element 8 of Tensor f32\[2, 3\]/,
      );
    });
  });
});

// ---------------------------------------------------------------------------------------------------------
// gemm with strided, offset operands (the attention layouts), alpha and accumulate, half B

interface GemmCase {
  name: string;
  aSize: number;
  bSize: number;
  cSize: number;
  bDtype?: DType;
  desc: {
    a: Omit<ref.CpuOperand, 'data'>;
    b: Omit<ref.CpuOperand, 'data'>;
    c: Omit<ref.CpuOperand, 'data' | 'trans'>;
    M: number;
    N: number;
    K: number;
    batch?: [number, number];
    alpha?: number;
    accumulate?: boolean;
  };
}

/**
 * Runs one gemm on the GPU and on the float64 reference; compares all of C, untouched elements included.
 * `poison` marks elements of A and B that the product must not read: they are set to Inf, so any read
 * that is not masked away turns results into Inf or NaN.
 */
async function checkGemm(g: GemmCase, seed = 7, poison?: { a?: (e: number) => boolean; b?: (e: number) => boolean }): Promise<void> {
  const rng = new Rng(seed);
  const av = values(g.aSize, rng);
  const bv = values(g.bSize, rng, g.bDtype ?? 'f32');
  for (let e = 0; poison?.a && e < av.length; e++) if (poison.a(e)) av[e] = Infinity;
  for (let e = 0; poison?.b && e < bv.length; e++) if (poison.b(e)) bv[e] = Infinity;
  const cv = values(g.cSize, rng);
  const expected = Float64Array.from(cv);
  ref.gemm({ ...g.desc, a: { ...g.desc.a, data: av }, b: { ...g.desc.b, data: bv }, c: { ...g.desc.c, data: expected } });
  // The error bound of each element: f32Bound over K products, the alpha scaling and the accumulation,
  // applied to |alpha|·Σ|a·b| + |c| — the same reference run on absolute values.
  const abs = (v: Float64Array) => v.map(Math.abs);
  const magnitude = abs(cv);
  ref.gemm({
    ...g.desc,
    alpha: Math.abs(g.desc.alpha ?? 1),
    accumulate: true,
    a: { ...g.desc.a, data: abs(av) },
    b: { ...g.desc.b, data: abs(bv) },
    c: { ...g.desc.c, data: magnitude },
  });
  const atol = f32Bound(g.desc.K + 2, Math.max(...magnitude));
  const got = tidy(() => {
    const a = tensor(av, [g.aSize]);
    const b = tensor(bv, [g.bSize], g.bDtype ?? 'f32');
    const c = tensor(cv, [g.cSize]);
    gemm({ ...g.desc, a: { ...g.desc.a, t: a }, b: { ...g.desc.b, t: b }, c: { ...g.desc.c, t: c } });
    return c;
  });
  expectAllClose(await got.read(), expected, { atol }, g.name);
  got.dispose();
}

/** Attention's two products over (B, T, H, D) activations with grouped KV heads (GQA). */
function attentionCases(B: number, T: number, H: number, Hkv: number, D: number, bDtype: DType = 'f32'): GemmCase[] {
  const G = H / Hkv; // query heads per KV head
  const cases: GemmCase[] = [];
  for (let g = 0; g < G; g++) {
    // scores (B, H, T, T) = Q·Kᵀ / √D for query heads kv·G + g
    cases.push({
      name: `scores, group member ${g}`,
      aSize: B * T * H * D,
      bSize: B * T * Hkv * D,
      cSize: B * H * T * T,
      bDtype,
      desc: {
        a: { offset: g * D, ld: H * D, strides: [T * H * D, G * D] },
        b: { ld: Hkv * D, trans: true, strides: [T * Hkv * D, D] },
        c: { offset: g * T * T, ld: T, strides: [H * T * T, G * T * T] },
        M: T,
        N: T,
        K: D,
        batch: [B, Hkv],
        alpha: 1 / Math.sqrt(D),
      },
    });
    // out (B, T, H, D) += P (B, H, T, T) · V (B, T, Hkv, D)
    cases.push({
      name: `P·V, group member ${g}`,
      aSize: B * H * T * T,
      bSize: B * T * Hkv * D,
      cSize: B * T * H * D,
      bDtype,
      desc: {
        a: { offset: g * T * T, ld: T, strides: [H * T * T, G * T * T] },
        b: { ld: Hkv * D, strides: [T * Hkv * D, D] },
        c: { offset: g * D, ld: H * D, strides: [T * H * D, G * D] },
        M: T,
        N: D,
        K: T,
        batch: [B, Hkv],
        accumulate: true,
      },
    });
  }
  return cases;
}

describe('gemm with strided operands', () => {
  it('attention layouts: two-level batches, offsets, alpha, accumulate (GQA, T not a tile multiple)', async () => {
    for (const c of attentionCases(2, 13, 4, 2, 8)) await checkGemm(c);
  });

  it('transposed A through a strided view, alpha = −0.5, accumulate', async () => {
    // A stored (K, M) inside a wider (K, 40) buffer at offset 3; C inside a (M, 50) buffer.
    await checkGemm({
      name: 'Aᵀ strided',
      aSize: 3 + 37 * 40,
      bSize: 37 * 29,
      cSize: 31 * 50,
      desc: { a: { offset: 3, ld: 40, trans: true }, b: { ld: 29 }, c: { offset: 2, ld: 50 }, M: 31, N: 29, K: 37, alpha: -0.5, accumulate: true },
    });
  });

  it('K = 0 writes zeros (or leaves C when accumulating)', async () => {
    await checkGemm({ name: 'K=0', aSize: 1, bSize: 1, cSize: 12, desc: { a: { ld: 1 }, b: { ld: 4 }, c: { ld: 4 }, M: 3, N: 4, K: 0 } });
    await checkGemm({ name: 'K=0 acc', aSize: 1, bSize: 1, cSize: 12, desc: { a: { ld: 1 }, b: { ld: 4 }, c: { ld: 4 }, M: 3, N: 4, K: 0, accumulate: true } });
  });

  for (const dtype of ['bf16', 'f16'] as const) {
    it(`${dtype} B: both layouts, odd offsets into the packed words`, async () => {
      for (const trans of [false, true]) {
        // An odd ld and offset put rows at both halves of the u32 words.
        await checkGemm({
          name: `${dtype} B trans=${trans}`,
          aSize: 19 * 45,
          bSize: 1 + 45 * 35,
          cSize: 19 * 35,
          bDtype: dtype,
          desc: { a: { ld: 45 }, b: trans ? { offset: 1, ld: 45, trans } : { offset: 1, ld: 35 }, c: { ld: 35 }, M: 19, N: 35, K: 45 },
        });
      }
      for (const c of attentionCases(1, 9, 2, 1, 6, dtype)) await checkGemm(c);
    });
  }
});

describe('linear', () => {
  for (const dtype of ['f32', 'bf16', 'f16'] as const) {
    it(`x (2, 5, 37) · Wᵀ with W (23, 37) in ${dtype}`, async () => {
      const rng = new Rng(3);
      const wv = values(23 * 37, rng, dtype);
      const half = dtype !== 'f32';
      const xv = values(2 * 5 * 37, rng);
      const fwd = maxAbsDot(
        xv,
        wv,
        10,
        37,
        23,
        (t, c) => t * 37 + c,
        (c, o) => o * 37 + c,
      );
      await checkOp({
        name: `linear ${dtype}`,
        inputs: [
          { shape: [2, 5, 37], values: xv, grad: true },
          { shape: [23, 37], values: wv, dtype, grad: !half },
        ],
        gpu: linear,
        cpu: (x, w) => {
          const y = ref.matmul({ data: x.data, shape: [10, 37] }, w, false, true);
          return { data: y.data, shape: [2, 5, 23] };
        },
        fwdTol: f32Bound(37, fwd),
        // dX sums Cout = 23 terms of |g|·|w|; dW sums T = 10 terms of |g|·|x|.
        gradTol: Math.max(f32Bound(23, G_MAX * maxAbsSum(wv, 37, 23, (c, o) => o * 37 + c)), f32Bound(10, G_MAX * maxAbsSum(xv, 37, 10, (c, t) => t * 37 + c))),
        fdSamples: 24,
      });
    });
  }

  it('refuses a half weight that requires grad; a frozen weight gets no gradient', async () => {
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const w = tensor(new Array(12).fill(1), [4, 3], 'bf16');
    w.requiresGrad = true;
    expect(() => linear(x, w)).toThrow(/linear: Tensor bf16\[4, 3\] requires grad, but half-precision weights are frozen/);
    w.requiresGrad = false;
    x.requiresGrad = true;
    tidy(() => backward(linear(x, w), tensor(new Array(8).fill(1), [2, 4])));
    expect(w.grad).toBeNull();
    // dX = G·W with G and W all ones: every element is Cout = 4.
    expectAllClose(await x.grad!.read(), new Array(6).fill(4), { atol: 0 }, 'dX');
    [x, w].forEach((t) => t.dispose());
  });
});

// ---------------------------------------------------------------------------------------------------------
// Adapter limits: operands larger than one storage binding, grids above 65,535 workgroups

describe('limits', () => {
  // Small integers / 8 in bf16 are exact, and so is every product and partial sum below 2^24 / 64: the
  // results must match the float64 reference exactly, whatever the split.
  const pattern = (r: number, c: number) => (((r * 7 + c * 3) % 17) - 8) / 8;

  itOnceOnly('LM head x·Eᵀ with a bf16 E (V, C) over one binding, and dX = dY·E with K = V split and accumulated', async () => {
    const { limits } = engine().gpu;
    const C = 64;
    const V = Math.ceil((limits.maxStorageBufferBindingSize / 2 / C) * 1.1); // 1.1 bindings of bf16
    const T = 3;
    const eBits = new Uint16Array(V * C);
    for (let v = 0; v < V; v++) for (let c = 0; c < C; c++) eBits[v * C + c] = f32ToBf16(pattern(v, c));
    const E = fromBytes(new Uint8Array(eBits.buffer), [V, C], 'bf16');
    const xv = Array.from({ length: T * C }, (_, i) => ((i % 5) - 2) / 4);
    const x = tensor(xv, [T, C]);
    x.requiresGrad = true;
    // Upstream gradient: a few nonzero logits per row, so dX sums over every window of E.
    const gv = new Float32Array(T * V);
    const hot = [0, 1, V >> 1, V - 2, V - 1];
    for (let t = 0; t < T; t++) for (const v of hot) gv[t * V + v] = t + 1;
    const { cmd } = engine();
    const before = cmd.dispatches;
    const logits = linear(x, E);
    const read = await logits.read();
    expect(cmd.dispatches - before, 'forward dispatches (E split into windows)').toBeGreaterThan(1);
    const mid = cmd.dispatches;
    backward(logits, tensor(gv, [T, V]));
    expect(cmd.dispatches - mid, 'backward dispatches (K split, accumulated)').toBeGreaterThan(1);
    const dx = await x.grad!.read();
    // One row (decoding; the GEMV kernel on CPU adapters) gives exactly the first row of the three.
    const x1 = tensor(xv.slice(0, C), [1, C]);
    const logits1 = linear(x1, E);
    const row0 = await logits1.read();
    expect(
      row0.findIndex((v, i) => v !== read[i]),
      'first logit of the one-row product that differs',
    ).toBe(-1);
    [x1, logits1].forEach((t) => t.dispose());
    // Reference on sampled columns (all of them would be 3·V·C operations in JS: fine, but slow to check).
    let bad = -1;
    for (let t = 0; t < T && bad < 0; t++) {
      for (let v = 0; v < V; v += v < 1000 || v > V - 1000 ? 1 : 997) {
        let s = 0;
        for (let c = 0; c < C; c++) s += xv[t * C + c] * pattern(v, c);
        if (read[t * V + v] !== s) {
          bad = t * V + v;
          break;
        }
      }
    }
    expect(bad, 'first wrong logit').toBe(-1);
    const dxExpected = Array.from({ length: T * C }, (_, i) => {
      const t = Math.floor(i / C);
      return hot.reduce((s, v) => s + (t + 1) * pattern(v, i % C), 0);
    });
    expectAllClose(dx, dxExpected, { atol: 0 }, 'dX');
    [E, x, logits].forEach((t) => t.dispose());
  });

  itOnceOnly('f32 weight over one binding: y = x·Wᵀ splits B by rows, dW = Gᵀ·X splits C', async () => {
    const { limits } = engine().gpu;
    const C = 32;
    const V = Math.ceil((limits.maxStorageBufferBindingSize / 4 / C) * 1.05);
    const T = 2;
    const W = tidy(() => {
      const w = new Float32Array(V * C);
      for (let v = 0; v < V; v++) for (let c = 0; c < C; c++) w[v * C + c] = pattern(v, c);
      return tensor(w, [V, C]);
    });
    W.requiresGrad = true;
    const xv = Array.from({ length: T * C }, (_, i) => ((i % 3) - 1) / 2);
    const x = tensor(xv, [T, C]);
    const y = linear(x, W);
    const got = await y.read();
    for (const v of [0, 1, V >> 1, V - 1]) {
      for (let t = 0; t < T; t++) {
        let s = 0;
        for (let c = 0; c < C; c++) s += xv[t * C + c] * pattern(v, c);
        expect(got[t * V + v], `y[${t}, ${v}]`).toBe(s);
      }
    }
    // G = 1 at (0, v) for a few v: dW row v = X row 0, every other row 0.
    const gv = new Float32Array(T * V);
    const hot = [3, V >> 1, V - 1];
    for (const v of hot) gv[v] = 1;
    backward(y, tensor(gv, [T, V]));
    const dw = await W.grad!.read();
    for (const v of [0, 3, V >> 1, (V >> 1) + 1, V - 1]) {
      const row = Array.from(dw.subarray(v * C, (v + 1) * C));
      expect(row, `dW row ${v}`).toEqual(hot.includes(v) ? xv.slice(0, C) : new Array(C).fill(0));
    }
    [W, x, y].forEach((t) => t.dispose());
  });

  it('grids above 65,535 workgroups: 70,000 tiny batched products, and one very tall product', async () => {
    const { limits } = engine().gpu;
    const count = limits.maxComputeWorkgroupsPerDimension + 4465;
    // C[t] (1×1) = A[t] · B[t] with A[t] = t % 13, B[t] = 2
    const a = tensor(
      Array.from({ length: count }, (_, t) => t % 13),
      [count, 1, 1],
    );
    const b = fill([count, 1, 1], 2);
    const c = await matmul(a, b).read();
    expect(
      Array.from(c).findIndex((v, t) => v !== (t % 13) * 2),
      'first wrong batch',
    ).toBe(-1);
    // Tall: M rows at two columns; enough tiles of the chosen kernel's height.
    const rows = (limits.maxComputeWorkgroupsPerDimension + 10) * chooseVariant().rows;
    const tall = fill([rows, 2], 0.5);
    const w = tensor([1, 2, 3, 4], [2, 2]);
    const y = await matmul(tall, w).read();
    const wrong = Array.from(y).findIndex((v, i) => v !== (i % 2 ? 3 : 2));
    expect(wrong, 'first wrong element of the tall product').toBe(-1);
    [a, b, tall, w].forEach((t) => t.dispose());
  });
});

// ---------------------------------------------------------------------------------------------------------
// The GEMV kernel (x·Wᵀ with at most 4 rows: decoding). Its three read paths: B8 (halves eight-aligned, eight
// per load), VEC4 (four-aligned) and element-wise (anything else); K tails of a 32-k iteration; N not a
// multiple of the 16 columns of a workgroup; batched decode attention.

describe('GEMV (decoding)', () => {
  it('is the choice for x·Wᵀ with up to 4 rows, and only there', () => {
    const { gpu } = engine();
    // CPU adapters with subgroups run the subgroup GEMVs; GPUs (and CPU adapters without subgroups) the GPU ones.
    const cpu = gpu.report.isCpu && subgroupLanes(gpu) > 0;
    expect(chooseVariant(1, false, true).name).toBe(cpu ? 'gemv-1' : 'gpu-gemv-1');
    expect(chooseVariant(2, false, true).name).toBe(cpu ? 'gemv-2' : 'gpu-gemv-4');
    expect(chooseVariant(3, false, true).name).toBe(cpu ? 'gemv-4' : 'gpu-gemv-4');
    expect(chooseVariant(5, false, true).name).not.toMatch(/gemv/);
    expect(chooseVariant(1, false, false).name).not.toMatch(/gemv/);
    expect(chooseVariant(1, true, true).name).not.toMatch(/gemv/);
  });

  // The CPU GEMVs (subgroups), and the GPU GEMVs with each form of the workgroup sum.
  const gemvs = [
    ['gemv-1', 1, null],
    ['gemv-2', 2, null],
    ['gemv-4', 3, null],
    ['gpu-gemv-1', 1, 'workgroup'],
    ['gpu-gemv-4', 3, 'workgroup'],
    ['gpu-gemv-1', 1, 'subgroup'],
    ['gpu-gemv-4', 2, 'subgroup'],
  ] as const;
  for (const dtype of ['f32', 'bf16', 'f16'] as const) {
    it(`${dtype} W: every read path, K tails (Inf past K), N not a tile multiple`, async () => {
      for (const [name, M, reduce] of gemvs) {
        if (!kernelFamilies().get('gemm')!.available(name) || (reduce && !kernelFamilies().get('reduce')!.available(reduce))) continue;
        if (SUBGROUP_PROJECT && subgroupFree(name, reduce)) continue;
        forceGemmVariant(name);
        forceKernels({ reduce });
        // K = 64: whole iterations (of 4·LANES k for the CPU GEMVs, at 4, 8 or 16 lanes); K = 77: a tail. ld 80
        // and offset 0 take B8 (halves, CPU GEMVs) or VEC4; offset 4 takes VEC4 (vec2 of halves); ld 77 and
        // offset 1 the element-wise reads (the GPU GEMVs leave those to the gpu kernel).
        for (const [K, ld, offset] of [
          [64, 64, 0],
          [77, 80, 0],
          [77, 80, 4],
          [77, 77, 1],
        ]) {
          const N = 37;
          await checkGemm(
            {
              name: `${name}${reduce ? ` (${reduce} sum)` : ''} ${dtype} M=${M} K=${K} ld=${ld} offset=${offset}`,
              aSize: M * ld,
              bSize: offset + N * ld,
              cSize: M * 40,
              bDtype: dtype,
              desc: { a: { ld }, b: { offset, ld, trans: true }, c: { ld: 40 }, M, N, K, alpha: 0.5, accumulate: true },
            },
            11,
            { a: (e) => e % ld >= K, b: (e) => e < offset || (e - offset) % ld >= K },
          );
        }
      }
    });
  }

  for (const name of ['gemv-1', 'gpu-gemv-1'] as const) {
    it(`batched decode attention: one query row per head against a strided KV cache (GQA), ${name}`, async (ctx) => {
      if (!kernelFamilies().get('gemm')!.available(name)) ctx.skip(); // the CPU GEMV needs subgroups
      if (SUBGROUP_PROJECT && subgroupFree(name)) ctx.skip();
      forceGemmVariant(name);
      // q (B, 1, H, D), K cache (B, T, Hkv, D): scores (B, H, 1, T) = q·Kᵀ for each of the G heads of a KV head.
      const [B, T, H, Hkv, D] = [2, 13, 4, 2, 8];
      const G = H / Hkv;
      for (let g = 0; g < G; g++) {
        await checkGemm({
          name: `decode scores, group member ${g}`,
          aSize: B * H * D,
          bSize: B * T * Hkv * D,
          cSize: B * H * T,
          desc: {
            a: { offset: g * D, ld: H * D, strides: [H * D, G * D] },
            b: { ld: Hkv * D, trans: true, strides: [T * Hkv * D, D] },
            c: { offset: g * T, ld: T, strides: [H * T, G * T] },
            M: 1,
            N: T,
            K: D,
            batch: [B, Hkv],
            alpha: 1 / Math.sqrt(D),
          },
        });
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------------------
// Operand copies: the 32-row subgroup kernel reads f32 operands whose rows are a multiple of 1 KiB apart
// through copies with a padded row stride (matmul-pack.ts).

describe('operand copies with a cache-friendly row stride', () => {
  it('are made for f32 rows 1 KiB apart that are re-read often, and only then', () => {
    const t = tensor(new Float32Array(256 * 256), [256, 256]);
    const op = (ld: number, trans = false) => ({ t, offset: 0, ld, trans, strides: [0, 0] as [number, number] });
    const copy = cacheFriendly('a', op(256), 100, 256, 250, 1);
    // 250 columns round up to 256, plus one cache line of 16 elements.
    expect(copy.ld).toBe(272);
    expect(copy.t).not.toBe(t);
    copy.t.dispose();
    expect(cacheFriendly('a', op(255), 100, 255, 250, 1).t).toBe(t); // rows not 1 KiB apart
    expect(cacheFriendly('a', op(256), 100, 64, 250, 1).t).toBe(t); // re-read twice: not worth a copy
    expect(cacheFriendly('b', op(256), 100, 256, 250, 2).t).toBe(t); // batched
    t.dispose();
  });

  it('products through the copies: VEC4 and element-wise copies, K tail, B both layouts, padding never read', async (ctx) => {
    if (!subgroupLanes(engine().gpu)) ctx.skip(); // the copies serve the subgroup kernel
    forceGemmVariant('subgroup');
    // A (100 × 250) in rows of 256 (offset 0: copied four columns per load; 1: one by one); B (250 × 256)
    // or, transposed, (256 × 250) in rows of 256. Columns past K hold Inf: a copy or kernel that let them
    // into a result would show.
    const [M, N, K, ld] = [100, 256, 250, 256];
    for (const offset of [0, 1]) {
      for (const trans of [false, true]) {
        await checkGemm(
          {
            name: `copies: A offset ${offset}, B${trans ? 'ᵀ' : ''}`,
            aSize: offset + M * ld,
            bSize: (trans ? N : K) * ld,
            cSize: M * N,
            desc: { a: { offset, ld }, b: { ld, trans }, c: { ld: N }, M, N, K, alpha: 0.5, accumulate: true },
          },
          11,
          {
            a: (e) => e >= offset && (e - offset) % ld >= K,
            b: (e) => (trans ? e % ld >= K : Math.floor(e / ld) >= K),
          },
        );
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// Every kernel variant (the production choice differs per adapter: test them all on this one). Shapes with
// lds that are multiples of 4 take the VEC4 form of a kernel; others the element-wise one.

describe('every kernel variant', () => {
  // Six tests per variant rather than one: on an empty shader cache each GEMM pipeline costs LLVM seconds
  // at its first dispatch, and the 32-row subgroup kernel's forms at 16 lanes take 20–40 s each: six of them
  // overran one test's timeout, so did the four of half B together on a busy machine, and two took 86 s.
  // gemv-2 differs from gemv-4 only in its row count; the GEMV tests above check it on every read path.
  for (const name of GEMM_VARIANTS.filter((v) => v !== 'gemv-2')) {
    const variantIt = (what: string, body: () => Promise<void>) =>
      it(`${name}: ${what}`, async (ctx) => {
        if (!kernelFamilies().get('gemm')!.available(name)) ctx.skip(); // the subgroup kernels need subgroups
        if (SUBGROUP_PROJECT && subgroupFree(name)) ctx.skip(); // on CPU adapters the GPU GEMVs sum in workgroup memory
        forceGemmVariant(name);
        await body();
      });

    variantIt('transposes at unaligned and aligned shapes', async () => {
      for (const [M, N, K] of [
        [33, 65, 17],
        [36, 68, 20],
        [9, 4, 8],
      ] as const) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) await checkMatmul({ batch: 0, M, N, K, transA, transB });
        }
      }
      await checkMatmul({ batch: 2, M: 12, N: 40, K: 24, transA: false, transB: true, sharedB: true });
    });

    variantIt('strided attention, K tails', async () => {
      for (const c of attentionCases(2, 13, 4, 2, 8)) await checkGemm(c);
      // Aligned lds with K = 37: the last chunk of four k reaches three padding columns holding Inf.
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          const [M, N, K, ldA, ldB] = [13, 29, 37, transA ? 16 : 40, transB ? 40 : 32];
          await checkGemm(
            {
              name: `K tail ${transA ? 'Aᵀ' : 'A'} ${transB ? 'Bᵀ' : 'B'}`,
              aSize: (transA ? K + 3 : M) * ldA,
              bSize: (transB ? N : K + 3) * ldB,
              cSize: M * 32,
              desc: { a: { ld: ldA, trans: transA }, b: { ld: ldB, trans: transB }, c: { ld: 32 }, M, N, K, alpha: 0.5, accumulate: true },
            },
            5,
            {
              a: (e) => (transA ? Math.floor(e / ldA) >= K || e % ldA >= M : e % ldA >= K),
              b: (e) => (transB ? e % ldB >= K : Math.floor(e / ldB) >= K || e % ldB >= N),
            },
          );
        }
      }
    });

    for (const dtype of ['bf16', 'f16'] as const) {
      for (const trans of [false, true]) {
        variantIt(`${dtype} B${trans ? 'ᵀ' : ''}`, async () => {
          for (const offset of [0, 1]) {
            // offset 0 with lds of 48: aligned (VEC4 reads of packed halves); offset 1: element-wise.
            await checkGemm({
              name: `${name} ${dtype} B trans=${trans} offset=${offset}`,
              aSize: 19 * 48,
              bSize: offset + 48 * 48,
              cSize: 19 * 35,
              bDtype: dtype,
              desc: { a: { ld: 48 }, b: { offset, ld: 48, trans }, c: { ld: 35 }, M: 19, N: 35, K: 45 },
            });
          }
        });
      }
    }
  }
});
