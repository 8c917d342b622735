// The GEMM kernels (shaders/matmul-*.wgsl) and the choice between them per adapter and problem.
//
//   naive           one invocation per output; correct everywhere, the baseline of the benchmarks.
//   gpu             GPUs: register blocking over tiles staged in workgroup memory (a 64 × 64 block per
//                   workgroup, 4 × 4 per invocation, vec4 loads; B widened from bf16/f16 as it is staged).
//   subgroup        CPU adapters (lavapipe): loads are what costs there, so each value is loaded once per
//                   subgroup and shared by subgroupBroadcast (see the shader's comment). Workgroup memory
//                   only adds loads on a CPU, which is why tiling loses there. 32 rows by 4 columns a lane.
//   subgroup-short  the same with 8 rows, for short products (M ≤ 8) and the forms the tall one lacks.
//   gemv-1/2/4      the same adapters, x·Wᵀ with at most 4 rows (decoding): each weight serves only M rows, so
//                   the kernel spends its loads on W, eight halves per load, and computes no padding rows. From
//                   5 rows on, the subgroup kernel's 8-row tile wastes little and wins (fewer x loads per weight).
//   gpu-gemv-1/4    GPUs, x·Wᵀ with at most 4 rows: a workgroup per row of W, its invocations side by side
//                   along K (reads coalesce), summed across the workgroup; N workgroups keep the GPU busy where
//                   the GEMM's 64-column tiles would be few. Other layouts go to the gpu kernel.
//
// The subgroup kernels run one subgroup per workgroup with as many lanes as the adapter's smallest subgroup
// (LANES, set in the preprocessor; WebGPU guarantees at least 4): where the driver picks a larger size, the
// workgroup is one partial subgroup, and lanes are numbered by subgroup_invocation_id, so the kernels are
// right at any size. Tests force every variant at lavapipe's sizes 4, 8 and 16 (vitest.config.ts).
import type { Gpu } from '../../gpu/device.ts';
import type { Defines } from '../../gpu/pipelines.ts';
import type { DType } from '../dtype.ts';
import type { GemmPiece, Operand } from './matmul-plan.ts';
import { engine, k, reduction } from './launch.ts';
import { variantFamily } from './variants.ts';

/** A kernel variant: its shader, defines, and the output tile one workgroup computes. */
export interface GemmVariant {
  name: string;
  file: string;
  rows: number;
  cols: number;
  defines?: Defines;
  /** Has a VEC4 form, used when every base, ld and stride of A and B is a multiple of 4 elements. */
  vec4?: boolean;
  /** A GEMV kernel: vector reads (VEC4) only for A·Bᵀ. */
  gemv?: boolean;
  /** Reads halves eight at a time (B8) when B is eight-aligned. */
  b8?: boolean;
  /** Sums across its workgroup (shaders/workgroup.wgsl): takes the adapter's reduction form. */
  reduces?: boolean;
  /** Takes K in multiples of 4 only: gemm runs the last K % 4 of each piece with the naive kernel. */
  k4?: boolean;
  /** Reads f32 operands whose rows are a multiple of 1 KiB apart through a copy (matmul-pack.ts). */
  pack?: boolean;
  /** Its element-wise form takes the operands' layout at run time (STRIDED, matmul-operands.wgsl): one
   *  pipeline for every transpose combination instead of four. */
  strided?: boolean;
  /** Runs the pieces this variant is not built for: those without the VEC4 form, and transposed A ones. */
  fallback?: GemmVariant;
}

export const NAIVE: GemmVariant = { name: 'naive', file: 'matmul-naive.wgsl', rows: 16, cols: 16, strided: true };
const GPU: GemmVariant = { name: 'gpu', file: 'matmul-gpu.wgsl', rows: 64, cols: 64, vec4: true };

// Tall tiles share each loaded B value among more rows (beyond 32 rows or columns, the unrolled step
// outgrows what the CPU's instruction caches and 32 vector registers hold: measured slower); short ones
// waste less on a short M. LLVM takes 10–20 s to compile each form of the tall one (two cores, shader
// cache cold), so it has only the forms the model's big products use — VEC4, A not transposed — and
// leaves the rest (odd leading dimensions, Aᵀ of weight gradients and attention backward) to the short.

/** The subgroup kernel with `rg` groups of 8 rows and 4 columns per lane, one subgroup per workgroup. */
function subgroupVariant(rg: 1 | 4, lanes: number, fallback?: GemmVariant): GemmVariant {
  return {
    name: rg === 4 ? 'subgroup' : 'subgroup-short',
    file: 'matmul-subgroup.wgsl',
    rows: 8 * rg,
    cols: 4 * lanes,
    defines: { RG4: rg === 4, LANES: lanes, LANES_4: lanes === 4, LANES_WIDE: lanes > 8 },
    vec4: true,
    strided: true,
    k4: true,
    pack: rg === 4,
    fallback,
  };
}

/** The GEMV kernel for up to `rows` rows of x. Two columns per lane: one leaves loads of x less shared, four
 *  more than lavapipe's 32 vector registers hold (measured at Llama-1B shapes). */
function gemvVariant(rows: 1 | 2 | 4, lanes: number): GemmVariant {
  const cpl = 2;
  return {
    name: `gemv-${rows}`,
    file: 'matmul-gemv.wgsl',
    rows,
    cols: lanes * cpl,
    defines: { ROWS: rows, CPL: cpl, LANES: lanes },
    vec4: true,
    gemv: true,
    b8: true,
    strided: true,
  };
}

/** The GPU GEMV for up to `rows` rows of x: one output column per workgroup. */
function gpuGemvVariant(rows: 1 | 4): GemmVariant {
  return {
    name: `gpu-gemv-${rows}`,
    file: 'matmul-gemv-gpu.wgsl',
    rows,
    cols: 1,
    defines: { ROWS: rows },
    vec4: true,
    gemv: true,
    reduces: true,
    fallback: GPU,
  };
}
const GPU_GEMV = { 1: gpuGemvVariant(1), 4: gpuGemvVariant(4) };

/** Every variant by name: the production choice differs per adapter, tests and benchmarks force each. */
export const GEMM_VARIANTS = ['naive', 'gpu', 'gpu-gemv-1', 'gpu-gemv-4', 'subgroup', 'subgroup-short', 'gemv-1', 'gemv-2', 'gemv-4'] as const;
export type GemmVariantName = (typeof GEMM_VARIANTS)[number];
export const GEMM = variantFamily<GemmVariantName>('gemm', GEMM_VARIANTS, (v) => /^(naive|gpu)/.test(v) || subgroupLanes(engine().gpu) > 0);

/** Lanes the subgroup kernels run with on this adapter: its smallest subgroup size; 0 without subgroups. */
export function subgroupLanes(gpu: Gpu): number {
  return gpu.hasSubgroups ? gpu.report.subgroupMinSize : 0;
}

const built = new Map<string, GemmVariant>();

/** The variant `name` as this adapter runs it (the subgroup kernels' tiles follow its subgroup size). */
export function gemmVariant(name: GemmVariantName): GemmVariant {
  if (name === 'naive') return NAIVE;
  if (name === 'gpu') return GPU;
  if (name === 'gpu-gemv-1' || name === 'gpu-gemv-4') return GPU_GEMV[name === 'gpu-gemv-1' ? 1 : 4];
  const lanes = subgroupLanes(engine().gpu);
  if (!lanes) throw new Error(`gemm: the ${name} kernel needs subgroups, which this adapter does not offer`);
  const key = `${name}/${lanes}`;
  let v = built.get(key);
  if (!v) {
    if (name === 'subgroup') v = subgroupVariant(4, lanes, gemmVariant('subgroup-short'));
    else if (name === 'subgroup-short') v = subgroupVariant(1, lanes);
    else v = gemvVariant(Number(name.slice(5)) as 1 | 2 | 4, lanes);
    built.set(key, v);
  }
  return v;
}

let lab: GemmVariant | null = null;

/** Makes every gemm use a variant (by name, or a lab kernel); null restores the per-adapter choice. Same
 *  as forceKernels({ gemm: name }) for the named ones. */
export function forceGemmVariant(v: string | GemmVariant | null): void {
  lab = v !== null && typeof v === 'object' ? v : null;
  GEMM.force(typeof v === 'string' ? v : null);
}

/** The variant for this adapter and an M-row problem (transA / transB: the stored layouts). */
export function chooseVariant(M = Infinity, transA = false, transB = false): GemmVariant {
  if (lab) return lab;
  return gemmVariant(
    GEMM.pick(() => {
      const { gpu } = engine();
      const gemv = M <= 4 && transB && !transA;
      if (!gpu.report.isCpu || !subgroupLanes(gpu)) return gemv ? (M <= 1 ? 'gpu-gemv-1' : 'gpu-gemv-4') : 'gpu';
      if (gemv) return M <= 1 ? 'gemv-1' : M <= 2 ? 'gemv-2' : 'gemv-4';
      return M <= 8 ? 'subgroup-short' : 'subgroup';
    }),
  );
}

const B_DEFINE: Record<string, string> = { f32: 'B_F32', bf16: 'B_BF16', f16: 'B_F16' };

// Windows end on a 16-byte boundary (when the buffer allows), so that vec4 reads reach every element;
// an empty K range still writes C (zeros, or C unchanged when accumulating): bind a token window.
function bindSpan(x: Operand, span: [number, number] | null) {
  if (!span) return x.t.bind(0, Math.min(1, x.t.size));
  const perVec = x.t.dtype === 'f32' ? 4 : 8;
  return x.t.bind(span[0], Math.ceil((span[1] + 1) / perVec) * perVec);
}

function multiple(n: number, ...xs: number[]): boolean {
  for (const x of xs) if (x % n !== 0) return false;
  return true;
}

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
  const wa = bindSpan(ops.a, spans.a);
  const wb = bindSpan(ops.b, spans.b);
  const wc = bindSpan(ops.c, spans.c);
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
  const b8 = vec4 && !!v.b8 && bDtype !== 'f32' && multiple(8, wb.base, ops.b.ld, ...ops.b.strides);
  const strided = !vec4 && !!v.strided;
  const kern = k(v.file, 'main', {
    ...v.defines,
    [B_DEFINE[bDtype]]: true,
    TRANS_A: !strided && ops.a.trans,
    TRANS_B: !strided && ops.b.trans,
    STRIDED: strided,
    VEC4: vec4,
    B8: b8,
    ...(v.reduces ? reduction() : {}),
  });
  const [a, b, c] = [ops.a, ops.b, ops.c];
  const p = {
    m: M,
    n: N,
    k: K,
    batch_inner: inner,
    batches,
    tiles_m: tilesM,
    tiles_n: tilesN,
    accumulate: piece.accumulate ? 1 : 0,
    alpha,
    a_base: wa.base,
    a_ld: a.ld,
    a_s0: a.strides[0],
    a_s1: a.strides[1],
    b_base: wb.base,
    b_ld: b.ld,
    b_s0: b.strides[0],
    b_s1: b.strides[1],
    c_base: wc.base,
    c_ld: c.ld,
    c_s0: c.strides[0],
    c_s1: c.strides[1],
    // Element strides of logical A[m, k] and B[k, n], read by the STRIDED form.
    a_ms: a.trans ? 1 : a.ld,
    a_ks: a.trans ? a.ld : 1,
    b_ks: b.trans ? 1 : b.ld,
    b_ns: b.trans ? b.ld : 1,
  };
  engine().cmd.dispatch(kern, [wa.binding, wb.binding, wc.binding], p, batches * tilesM * tilesN);
}
