// The GEMM kernels (shaders/matmul-*.wgsl) and the choice between them per adapter and problem.
//
//   naive     one invocation per output; correct everywhere, the baseline of the benchmarks.
//   tiled     workgroup-memory tiling: what GPUs want.
//   subgroup  CPU adapters (lavapipe) with 8-lane subgroups: loads are what costs there, so each value
//             is loaded once per subgroup and shared by subgroupBroadcast (see the shader's comment).
//             Workgroup memory only adds loads on a CPU, which is why tiling loses there.
//   gemv      the same adapters, x·Wᵀ with at most 4 rows (decoding): each weight serves only M rows, so
//             the kernel spends its loads on W, eight halves per load, and computes no padding rows. From
//             5 rows on, the subgroup kernel's 8-row tile wastes little and wins (fewer x loads per weight).
import type { Gpu } from '../../gpu/device.ts';
import type { Defines } from '../../gpu/pipelines.ts';
import type { DType } from '../dtype.ts';
import type { GemmPiece, Operand } from './matmul-plan.ts';
import { Params, engine, k } from './launch.ts';

/** A kernel variant: its shader, defines, and the output tile one workgroup computes. */
export interface GemmVariant {
  name: string;
  file: string;
  rows: number;
  cols: number;
  defines?: Defines;
  /** Has a VEC4 form, used when every base, ld and stride of A and B is a multiple of 4 elements. */
  vec4?: boolean;
  /** The GEMV kernel: vector reads (VEC4, and B8 for halves eight-aligned) only for A·Bᵀ. */
  gemv?: boolean;
  /** Takes K in multiples of 4 only: gemm runs the last K % 4 of each piece with the naive kernel. */
  k4?: boolean;
  /** Reads f32 operands whose rows are a multiple of 1 KiB apart through a copy (matmul-pack.ts). */
  pack?: boolean;
  /** Runs the pieces this variant is not built for: those without the VEC4 form, and transposed A ones. */
  fallback?: GemmVariant;
}

export const NAIVE: GemmVariant = { name: 'naive', file: 'matmul-naive.wgsl', rows: 16, cols: 16 };
export const TILED: GemmVariant = { name: 'tiled', file: 'matmul-tiled.wgsl', rows: 64, cols: 64 };

/** The subgroup kernel with `rg` groups of 8 rows, one subgroup per workgroup. */
function subgroupVariant(rg: 1 | 4, fallback?: GemmVariant): GemmVariant {
  return {
    name: `subgroup-${8 * rg}x32`,
    file: 'matmul-subgroup.wgsl',
    rows: 8 * rg,
    cols: 32,
    defines: { RG4: rg === 4 },
    vec4: true,
    k4: true,
    pack: rg === 4,
    fallback,
  };
}

// Tall tiles share each loaded B value among more rows (beyond 32 rows or columns, the unrolled step
// outgrows what the CPU's instruction caches and 32 vector registers hold: measured slower); short ones
// waste less on a short M. LLVM takes 10–20 s to compile each form of the tall one (two cores, shader
// cache cold), so it has only the forms the model's big products use — VEC4, A not transposed — and
// leaves the rest (odd leading dimensions, Aᵀ of weight gradients and attention backward) to the short.
const SUBGROUP_SHORT = subgroupVariant(1);
const SUBGROUP_TALL = subgroupVariant(4, SUBGROUP_SHORT);

/** The GEMV kernel for up to `rows` rows of x. Two columns per lane: one leaves loads of x less shared, four
 *  more than lavapipe's 32 vector registers hold (measured at Llama-1B shapes). */
function gemvVariant(rows: 1 | 2 | 4): GemmVariant {
  const cpl = 2;
  return { name: `gemv-${rows}`, file: 'matmul-gemv.wgsl', rows, cols: 8 * cpl, defines: { ROWS: rows, CPL: cpl }, vec4: true, gemv: true };
}
const GEMV = { 1: gemvVariant(1), 2: gemvVariant(2), 4: gemvVariant(4) };

/** Every variant by name, for tests and benchmarks that force one. */
export const VARIANTS: Record<string, GemmVariant> = {
  naive: NAIVE,
  tiled: TILED,
  subgroup: SUBGROUP_TALL,
  'subgroup-short': SUBGROUP_SHORT,
  'gemv-1': GEMV[1],
  'gemv-4': GEMV[4],
};

let forced: GemmVariant | null = null;

/** Makes every gemm use a variant (by name, or a lab kernel); null restores the per-adapter choice. */
export function forceGemmVariant(v: string | GemmVariant | null): void {
  if (typeof v === 'string' && !VARIANTS[v]) throw new Error(`gemm: no variant "${v}" (have ${Object.keys(VARIANTS).join(', ')})`);
  forced = typeof v === 'string' ? VARIANTS[v] : v;
}

/** Whether the subgroup kernel can run: it hard-codes 8 lanes, so the subgroup size must be exactly 8. */
export function hasSubgroupsOf8(gpu: Gpu): boolean {
  const info = gpu.device.adapterInfo;
  return gpu.hasSubgroups && info?.subgroupMinSize === 8 && info?.subgroupMaxSize === 8;
}

/** The variant for this adapter and an M-row problem (transA / transB: the stored layouts). */
export function chooseVariant(M = Infinity, transA = false, transB = false): GemmVariant {
  if (forced) return forced;
  const { gpu } = engine();
  if (!gpu.report.isCpu || !hasSubgroupsOf8(gpu)) return TILED;
  if (M <= 4 && transB && !transA) return GEMV[M <= 1 ? 1 : M <= 2 ? 2 : 4];
  return M <= 8 ? SUBGROUP_SHORT : SUBGROUP_TALL;
}

const B_DEFINE: Record<string, string> = { f32: 'B_F32', bf16: 'B_BF16', f16: 'B_F16' };

/** Records the dispatch for one piece of a GEMM (operand windows already known to fit). */
export function dispatchGemm(
  v: GemmVariant,
  ops: { a: Operand; b: Operand; c: Operand },
  bDtype: DType,
  piece: GemmPiece,
  alpha: number,
  spans: { a: [number, number] | null; b: [number, number] | null; c: [number, number] },
): void {
  const M = piece.m[1] - piece.m[0];
  const N = piece.n[1] - piece.n[0];
  const K = piece.k[1] - piece.k[0];
  const inner = piece.i[1] - piece.i[0];
  const batches = (piece.o[1] - piece.o[0]) * inner;
  const tilesM = Math.ceil(M / v.rows);
  const tilesN = Math.ceil(N / v.cols);
  // Windows end on a 16-byte boundary (when the buffer allows), so that vec4 reads reach every element;
  // an empty K range still writes C (zeros, or C unchanged when accumulating): bind a token window.
  const bind = (x: Operand, span: [number, number] | null) => {
    if (!span) return x.t.bind(0, Math.min(1, x.t.size));
    const perVec = x.t.dtype === 'f32' ? 4 : 8;
    return x.t.bind(span[0], Math.ceil((span[1] + 1) / perVec) * perVec);
  };
  const wa = bind(ops.a, spans.a);
  const wb = bind(ops.b, spans.b);
  const wc = bind(ops.c, spans.c);
  const multiple = (n: number, ...xs: number[]) => xs.every((x) => x % n === 0);
  const vec4 =
    !!v.vec4 &&
    (!v.gemv || (!ops.a.trans && ops.b.trans)) &&
    multiple(4, wa.base, ops.a.ld, ...ops.a.strides, wb.base, ops.b.ld, ...ops.b.strides) &&
    // A windowed binding starts on the offset alignment: vec4 indices need it to be a multiple of 16 bytes.
    engine().gpu.limits.minStorageBufferOffsetAlignment % 16 === 0;
  if (v.fallback && (!vec4 || ops.a.trans)) {
    dispatchGemm(v.fallback, ops, bDtype, piece, alpha, spans);
    return;
  }
  const b8 = vec4 && !!v.gemv && bDtype !== 'f32' && multiple(8, wb.base, ops.b.ld, ...ops.b.strides);
  const p = new Params()
    .u32(M, N, K, inner, batches, tilesM, tilesN, piece.accumulate ? 1 : 0)
    .f32(alpha)
    .u32(wa.base, ops.a.ld, ops.a.strides[0], ops.a.strides[1])
    .u32(wb.base, ops.b.ld, ops.b.strides[0], ops.b.strides[1])
    .u32(wc.base, ops.c.ld, ops.c.strides[0], ops.c.strides[1]);
  const kern = k(v.file, 'main', {
    ...v.defines,
    [B_DEFINE[bDtype]]: true,
    TRANS_A: ops.a.trans,
    TRANS_B: ops.b.trans,
    VEC4: vec4,
    B8: b8,
  });
  engine().cmd.dispatch(kern, [wa.binding, wb.binding, wc.binding], p, batches * tilesM * tilesN);
}
