import { afterEach, describe, expect, it } from 'vitest';
import * as ref from '../../src/tensor/cpu-reference-matmul.ts';
import { type DType, decode, encode } from '../../src/tensor/dtype.ts';
import { tensor, tidy } from '../../src/tensor/index.ts';
import { forceGemmVariant, VARIANTS } from '../../src/tensor/ops/matmul-kernels.ts';
import { gemm, linear, matmul } from '../../src/tensor/ops/matmul.ts';
import { Rng } from '../../src/util/random.ts';
import { checkOp, expectAllClose, f32Bound } from '../helpers/check.ts';

// Tolerances. Every output element is an f32 dot product of K terms; its error is at most
// f32Bound(K, Σ_k |a_mk·b_kn|) (Higham's bound for recursive summation, any order, fused or not). We
// compute the largest Σ|a·b| from the very inputs, so the bound is tight to within the worst element and
// never a guess. Gradients are dot products over N (dA = G·Bᵀ) or M (dB = Aᵀ·G) with the upstream G of
// checkOp, N(0,1) values that stay below 6 in magnitude for the sizes used here.
const G_MAX = 6;

/** Normal values rounded to `dtype`, as the GPU will hold them. */
function values(n: number, rng: Rng, dtype: DType = 'f32'): Float64Array {
  const v = Array.from({ length: n }, () => rng.normal());
  return Float64Array.from(decode(encode(v, dtype), dtype));
}

/** Largest Σ over the reduced index of |x|·|y| for a product of (R×S)·(S×C) with R, C kept (row-major). */
function maxAbsDot(x: Float64Array, y: Float64Array, R: number, S: number, C: number, xAt: (r: number, s: number) => number, yAt: (s: number, c: number) => number): number {
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
  const av = values(aShape.reduce((x, y) => x * y, 1), rng);
  const bv = values(bShape.reduce((x, y) => x * y, 1), rng);
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

afterEach(() => forceGemmVariant(null));

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
      expect(() => gemm({ a: { t: a, ld: 3 }, b: { t: b, ld: 5 }, c: { t: b, ld: 5 }, M: 3, N: 5, K: 3 })).toThrow(/gemm: operand A reaches element 8 of Tensor f32\[2, 3\]/);
    });
  });
});
