// Float64 twins of the matrix products (see cpu-reference.ts): plain loops, written for clarity.
import type { Cpu } from './cpu-reference.ts';

/** a (..., M, K) · b (..., K, N) → (..., M, N); transA / transB read a as (..., K, M) / b as (..., N, K).
 *  Rank 2 or 3, with a rank-2 b shared by every batch of a rank-3 a. */
export function matmul(a: Cpu, b: Cpu, transA = false, transB = false): Cpu {
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const [M, K] = transA ? [ac, ar] : [ar, ac];
  const N = transB ? br : bc;
  const batch = a.shape.length === 3 ? a.shape[0] : 1;
  const sharedB = b.shape.length === 2;
  const out = new Float64Array(batch * M * N);
  for (let bt = 0; bt < batch; bt++) {
    const ao = bt * M * K;
    const bo = sharedB ? 0 : bt * K * N;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const av = a.data[ao + (transA ? k * M + m : m * K + k)];
          const bv = b.data[bo + (transB ? n * K + k : k * N + n)];
          s += av * bv;
        }
        out[bt * M * N + m * N + n] = s;
      }
    }
  }
  return { data: out, shape: a.shape.length === 3 ? [batch, M, N] : [M, N] };
}

/** A strided GEMM operand over a flat array (the layout gemm() takes; see src/tensor/ops/matmul.ts). */
export interface CpuOperand {
  data: Float64Array;
  offset?: number;
  ld: number;
  trans?: boolean;
  strides?: [number, number];
}

/** C[o,i] = alpha · op(A[o,i]) · op(B[o,i]) (+ C[o,i] when accumulate), in place on c.data. */
export function gemm(d: {
  a: CpuOperand;
  b: CpuOperand;
  c: Omit<CpuOperand, 'trans'>;
  M: number;
  N: number;
  K: number;
  batch?: [number, number];
  alpha?: number;
  accumulate?: boolean;
}): void {
  const [O, I] = d.batch ?? [1, 1];
  const at = (x: CpuOperand, o: number, i: number, r: number, col: number) =>
    (x.offset ?? 0) + o * (x.strides?.[0] ?? 0) + i * (x.strides?.[1] ?? 0) + r * x.ld + col;
  for (let o = 0; o < O; o++) {
    for (let i = 0; i < I; i++) {
      for (let m = 0; m < d.M; m++) {
        for (let n = 0; n < d.N; n++) {
          let s = 0;
          for (let k = 0; k < d.K; k++) {
            const av = d.a.data[d.a.trans ? at(d.a, o, i, k, m) : at(d.a, o, i, m, k)];
            const bv = d.b.data[d.b.trans ? at(d.b, o, i, n, k) : at(d.b, o, i, k, n)];
            s += av * bv;
          }
          const e = at(d.c, o, i, m, n);
          d.c.data[e] = (d.alpha ?? 1) * s + (d.accumulate ? d.c.data[e] : 0);
        }
      }
    }
  }
}

/** x (N, Cin) · Wᵀ + scale · (x̃ (N, Cin) · A_sᵀ) · B_sᵀ, the rows split into `slots` equal groups, group s
 *  using A_s (r, Cin) and B_s (Cout, r): a linear layer with LoRA beside it (x̃: x after LoRA's dropout). */
export function lowRankLinear(x: Cpu, w: Cpu, a: Cpu, b: Cpu, scale: number, slots = 1, dropped: Cpu = x): Cpu {
  const [N, Cin] = x.shape;
  const [Cout] = w.shape;
  const r = a.shape[a.shape.length - 2];
  const n = N / slots;
  const base = matmul(x, w, false, true);
  for (let s = 0; s < slots; s++) {
    const rows = (t: Cpu, cols: number) => ({ data: t.data.slice(s * n * cols, (s + 1) * n * cols), shape: [n, cols] });
    const slot = (t: Cpu, size: number, shape: number[]) => ({ data: t.data.slice(s * size, (s + 1) * size), shape });
    const h = matmul(rows(dropped, Cin), slot(a, r * Cin, [r, Cin]), false, true);
    const delta = matmul(h, slot(b, Cout * r, [Cout, r]), false, true);
    for (let i = 0; i < n * Cout; i++) base.data[s * n * Cout + i] += scale * delta.data[i];
  }
  return base;
}
