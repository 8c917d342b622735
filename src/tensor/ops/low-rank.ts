// A linear layer with a low-rank update beside it, as one op: y = x·Wᵀ + s·(x̃·Aᵀ)·Bᵀ, PEFT's LoRA Linear
// (x̃ is x after LoRA's dropout, or x itself). The update's product is added onto y by the GEMM (alpha = s,
// accumulate), and in backward the branch's dx onto the frozen path's, so the adapter costs its GEMMs and
// nothing else: no scale, no add, no gradient accumulation of its own.
//
// With `slots` > 1, A (S, r, Cin) and B (S, Cout, r) stack independent adapters (parallel inner loops): the
// rows of x split into S equal consecutive groups of n, and group s uses adapter s (batched GEMMs).
import { type Tensor, assertDtype, empty, numel, recordOp, shapeStr } from '../tensor.ts';
import { type GemmOperand, gemm } from './matmul.ts';

export interface LowRankOptions {
  /** s = α / r. */
  scale: number;
  /** Independent adapters stacked in A and B (default 1). */
  slots?: number;
  /** x̃: x after dropout, read by the update only (default: x itself). */
  dropped?: Tensor;
}

// x (N, Cin), W (Cout, Cin), A (S, r, Cin) or (r, Cin), B (S, Cout, r) or (Cout, r) → (N, Cout)
export function lowRankLinear(x: Tensor, w: Tensor, a: Tensor, b: Tensor, opts: LowRankOptions): Tensor {
  const S = opts.slots ?? 1;
  const xd = opts.dropped ?? x;
  for (const [name, t] of [
    ['x', x],
    ['A', a],
    ['B', b],
    ['x̃', xd],
  ] as const)
    assertDtype(`lowRankLinear (${name})`, t, 'f32');
  assertDtype('lowRankLinear (W)', w, 'f32', 'bf16', 'f16');
  const [Cout, Cin] = w.shape;
  const r = a.shape[a.shape.length - 2];
  const N = numel(x.shape.slice(0, -1));
  const stacked = (t: Tensor, rows: number, cols: number) =>
    t.shape.length === (S > 1 ? 3 : 2) && t.size === S * rows * cols && t.shape[t.shape.length - 1] === cols;
  if (w.shape.length !== 2 || x.shape[x.shape.length - 1] !== Cin || !stacked(a, r, Cin) || !stacked(b, Cout, r) || xd.size !== x.size || N % S) {
    const what = `x ${shapeStr(x.shape)}, W ${shapeStr(w.shape)}, A ${shapeStr(a.shape)}, B ${shapeStr(b.shape)}, ${S} slot(s)`;
    throw new TypeError(`lowRankLinear: shapes do not fit (${what})`);
  }
  if (w.requiresGrad && w.dtype !== 'f32') throw new TypeError(`lowRankLinear: ${w.describe()} requires grad, but half-precision weights are frozen storage`);
  const n = N / S;
  // Operands of the per-slot products: batch s starts `stride` elements after batch s − 1.
  const per = (t: Tensor, ld: number, stride: number, trans = false): GemmOperand => ({ t, ld, trans, strides: [stride, 0] });
  const batch: [number, number] = [S, 1];

  const out = empty([...x.shape.slice(0, -1), Cout]);
  gemm({ a: { t: x, ld: Cin }, b: { t: w, ld: Cin, trans: true }, c: { t: out, ld: Cout }, M: N, N: Cout, K: Cin });
  // h_s (n, r) = x̃_s · A_sᵀ;  y_s += s · h_s · B_sᵀ
  const h = empty([S, n, r]);
  gemm({ a: per(xd, Cin, n * Cin), b: per(a, Cin, r * Cin, true), c: per(h, r, n * r), M: n, N: r, K: Cin, batch });
  gemm({ a: per(h, r, n * r), b: per(b, r, Cout * r, true), c: per(out, Cout, n * Cout), M: n, N: Cout, K: r, batch, alpha: opts.scale, accumulate: true });

  const inputs = xd === x ? [x, w, a, b] : [x, w, a, b, xd];
  recordOp('lowRankLinear', out, inputs, [w, a, b, h, xd, ...(w.requiresGrad ? [x] : [])], (g, needs) => {
    const [needX, needW, needA, needB, needXd] = needs;
    // dh_s (n, r) = s · G_s · B_s
    const dh = empty([S, n, r]);
    gemm({ a: per(g, Cout, n * Cout), b: per(b, r, Cout * r), c: per(dh, r, n * r), M: n, N: r, K: Cout, batch, alpha: opts.scale });
    let dx: Tensor | null = null;
    let dxd: Tensor | null = null;
    if (needX) {
      // dX (N, Cin) = G · W, plus the update's dh_s · A_s when x̃ is x
      dx = empty(x.shape);
      gemm({ a: { t: g, ld: Cout }, b: { t: w, ld: Cin }, c: { t: dx, ld: Cin }, M: N, N: Cin, K: Cout });
      if (xd === x) gemm({ a: per(dh, r, n * r), b: per(a, Cin, r * Cin), c: per(dx, Cin, n * Cin), M: n, N: Cin, K: r, batch, accumulate: true });
    }
    if (xd !== x && needXd) {
      dxd = empty(xd.shape);
      gemm({ a: per(dh, r, n * r), b: per(a, Cin, r * Cin), c: per(dxd, Cin, n * Cin), M: n, N: Cin, K: r, batch });
    }
    let dw: Tensor | null = null;
    if (needW) {
      // dW (Cout, Cin) = Gᵀ · X
      dw = empty(w.shape);
      gemm({ a: { t: g, ld: Cout, trans: true }, b: { t: x, ld: Cin }, c: { t: dw, ld: Cin }, M: Cout, N: Cin, K: N });
    }
    let da: Tensor | null = null;
    if (needA) {
      // dA_s (r, Cin) = dh_sᵀ · x̃_s
      da = empty(a.shape);
      gemm({ a: per(dh, r, n * r, true), b: per(xd, Cin, n * Cin), c: per(da, Cin, r * Cin), M: r, N: Cin, K: n, batch });
    }
    let db: Tensor | null = null;
    if (needB) {
      // dB_s (Cout, r) = s · G_sᵀ · h_s
      db = empty(b.shape);
      gemm({ a: per(g, Cout, n * Cout, true), b: per(h, r, n * r), c: per(db, r, Cout * r), M: Cout, N: r, K: n, batch, alpha: opts.scale });
    }
    dh.dispose();
    return [dx, dw, da, db, ...(xd === x ? [] : [dxd])];
  });
  h.dispose();
  return out;
}
