// A linear layer with a low-rank update beside it, as one op: y = x·Wᵀ + s·(x̃·Aᵀ)·Bᵀ, PEFT's LoRA Linear
// (x̃ is x after LoRA's dropout, or x itself). The update's product is added onto y by the GEMM (alpha = s,
// accumulate), and in backward the branch's dx onto the frozen path's, so the adapter costs its GEMMs and
// nothing else: no scale, no add, no gradient accumulation of its own.
//
// With `slots` > 1, A (S, r, Cin) and B (S, Cout, r) stack independent adapters (parallel inner loops): the
// rows of x split into S equal consecutive groups of n, and group s uses adapter s (batched GEMMs).
//
// Kernels (family `lora`): `gemm` runs the branch as GEMMs, two forward (h = x̃·Aᵀ, y += s·h·Bᵀ) and two
// backward (dh = s·G·B, dx += dh·A); `fused` runs each pair as one dispatch of shaders/low-rank.wgsl (a
// subgroup per 8 rows, their h or dh in registers), for ranks up to MAX_FUSED_RANK. CPU adapters with
// subgroups take `fused`: lavapipe spends about 56 µs on any dispatch, more than these products cost at
// small shapes. GPUs keep the GEMMs, whose tiles use the device far better at large shapes.
import { type Tensor, assertDtype, empty, numel, recordOp, shapeStr } from '../tensor.ts';
import { engine, k } from './launch.ts';
import { type GemmOperand, gemm } from './matmul.ts';
import { subgroupLanes } from './matmul-kernels.ts';
import { variantFamily } from './variants.ts';

export const LORA = variantFamily('lora', ['fused', 'gemm'] as const, (v) => v === 'gemm' || subgroupLanes(engine().gpu) > 0);

/** Rows a workgroup of the fused kernel takes (shaders/low-rank.wgsl's R). */
const FUSED_ROWS = 8;

/** Above this rank GEMMs instead: each lane holds 8 rows' r values of h (or dh) in registers, and at r 32
 *  they spill. Measured on lavapipe (8 lanes): r 16 at 512 wide took 0.93× the GEMMs' time (bench low-rank);
 *  r 32 took 1.04–1.05× at 512 and 2048 wide, and the 30M step (bench lora 30M, r 32 on q and v) ran at
 *  0.85–0.87× the GEMMs' tok/s in three runs of one session (×1.06 in one run the session before). */
export const MAX_FUSED_RANK = 16;

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
  const fused = useFused(r, [x, xd, out]);
  if (fused) {
    branch({ src: xd, u: a, uT: true, v: b, vT: true, mid: h, dst: out, accumulate: true, midScale: 1, outScale: opts.scale, S, n, K: Cin, r, cols: Cout });
  } else {
    gemm({ a: per(xd, Cin, n * Cin), b: per(a, Cin, r * Cin, true), c: per(h, r, n * r), M: n, N: r, K: Cin, batch });
    gemm({ a: per(h, r, n * r), b: per(b, r, Cout * r, true), c: per(out, Cout, n * Cout), M: n, N: Cout, K: r, batch, alpha: opts.scale, accumulate: true });
  }

  const inputs = xd === x ? [x, w, a, b] : [x, w, a, b, xd];
  recordOp('lowRankLinear', out, inputs, [w, a, b, h, xd, ...(w.requiresGrad ? [x] : [])], (g, needs) => {
    const [needX, needW, needA, needB, needXd] = needs;
    let dx: Tensor | null = null;
    let dxd: Tensor | null = null;
    // dX (N, Cin) = G · W, plus the update's dh_s · A_s when x̃ is x
    if (needX) {
      dx = empty(x.shape);
      gemm({ a: { t: g, ld: Cout }, b: { t: w, ld: Cin }, c: { t: dx, ld: Cin }, M: N, N: Cin, K: Cout });
    }
    if (xd !== x && needXd) dxd = empty(xd.shape);
    // Where the update's dh_s · A_s goes: onto dX (x̃ is x), into dX̃, or nowhere (dh for dA only).
    const dst = xd === x ? dx : dxd;
    // dh_s (n, r) = s · G_s · B_s
    const dh = empty([S, n, r]);
    if (fused && dst) {
      branch({
        src: g,
        u: b,
        uT: false,
        v: a,
        vT: false,
        mid: dh,
        dst,
        accumulate: dst === dx,
        midScale: opts.scale,
        outScale: 1,
        S,
        n,
        K: Cout,
        r,
        cols: Cin,
      });
    } else {
      gemm({ a: per(g, Cout, n * Cout), b: per(b, r, Cout * r), c: per(dh, r, n * r), M: n, N: r, K: Cout, batch, alpha: opts.scale });
      if (dst) gemm({ a: per(dh, r, n * r), b: per(a, Cin, r * Cin), c: per(dst, Cin, n * Cin), M: n, N: Cin, K: r, batch, accumulate: dst === dx });
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

/** Whether rank r runs fused on this adapter: the `lora` family's choice and a rank the kernel holds. */
export function fusedLora(r: number): boolean {
  const { gpu } = engine();
  const lanes = subgroupLanes(gpu);
  const variant = LORA.pick(() => (gpu.report.isCpu && lanes ? 'fused' : 'gemm'));
  if (variant !== 'fused' || r > MAX_FUSED_RANK) return false;
  if (!lanes) throw new Error('lowRankLinear: the fused kernel needs subgroups, which this adapter does not offer');
  return true;
}

/** Whether this call runs the branch fused: fusedLora, and every row-sized operand within one storage
 *  binding (the GEMMs split larger ones; the kernel does not). */
function useFused(r: number, rowOperands: Tensor[]): boolean {
  if (!fusedLora(r)) return false;
  const { gpu } = engine();
  const budget = gpu.limits.maxStorageBufferBindingSize - gpu.limits.minStorageBufferOffsetAlignment - 16;
  for (const t of rowOperands) if (t.bytes > budget) return false;
  return true;
}

interface Branch {
  src: Tensor;
  u: Tensor;
  uT: boolean;
  v: Tensor;
  vT: boolean;
  mid: Tensor;
  dst: Tensor;
  accumulate: boolean;
  midScale: number;
  outScale: number;
  S: number;
  n: number;
  K: number;
  r: number;
  cols: number;
}

/** One dispatch of shaders/low-rank.wgsl: mid = midScale · src·U, dst (+)= outScale · mid·V, per slot. */
function branch(d: Branch): void {
  // src (S·n, K), U (S, K, r) [stored (S, r, K) when uT], mid (S·n, r), V (S, r, cols) [stored (S, cols, r) when vT], dst (S·n, cols)
  const { S, n, K, r, cols } = d;
  const ws = d.src.bind();
  const wu = d.u.bind();
  const wv = d.v.bind();
  const wm = d.mid.bind();
  const wd = d.dst.bind();
  // Vector reads need four-element alignment (and a binding offset that is a multiple of 16 bytes).
  const vec4 = K % 4 === 0 && cols % 4 === 0 && ws.base % 4 === 0 && wd.base % 4 === 0 && engine().gpu.limits.minStorageBufferOffsetAlignment % 16 === 0;
  const uv4 = vec4 && r % 4 === 0 && wu.base % 4 === 0 && wv.base % 4 === 0;
  const defines = { LANES: subgroupLanes(engine().gpu), RQ: Math.ceil(r / 4), U_T: d.uT, V_T: d.vT, VEC4: vec4, UV4: uv4 };
  const kern = k('low-rank.wgsl', 'main', defines);
  const tiles = Math.ceil(n / FUSED_ROWS);
  const p = {
    slots: S,
    n,
    tiles,
    k: K,
    r,
    cols,
    accumulate: d.accumulate ? 1 : 0,
    mid_scale: d.midScale,
    out_scale: d.outScale,
    src_base: ws.base,
    src_ld: K,
    u_base: wu.base,
    u_slot: K * r,
    u_ld: d.uT ? K : r,
    v_base: wv.base,
    v_slot: r * cols,
    v_ld: d.vT ? r : cols,
    mid_base: wm.base,
    dst_base: wd.base,
    dst_ld: cols,
  };
  engine().cmd.dispatch(kern, [ws.binding, wu.binding, wv.binding, wm.binding, wd.binding], p, S * tiles);
}
