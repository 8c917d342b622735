// The GEMM kernels (shaders/matmul-*.wgsl) and the choice between them per adapter.
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
}

export const NAIVE: GemmVariant = { name: 'naive', file: 'matmul-naive.wgsl', rows: 16, cols: 16 };

/** Every variant by name, for tests and benchmarks that force one. */
export const VARIANTS: Record<string, GemmVariant> = { naive: NAIVE };

let forced: GemmVariant | null = null;

/** Makes every gemm use `name` (tests and benchmarks); null restores the per-adapter choice. */
export function forceGemmVariant(name: string | null): void {
  if (name !== null && !VARIANTS[name]) throw new Error(`gemm: no variant "${name}" (have ${Object.keys(VARIANTS).join(', ')})`);
  forced = name === null ? null : VARIANTS[name];
}

/** The variant for this adapter and problem. */
export function chooseVariant(): GemmVariant {
  return forced ?? NAIVE;
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
  // An empty K range still writes C (zeros, or C unchanged when accumulating): bind a token window.
  const bind = (x: Operand, span: [number, number] | null) =>
    span ? x.t.bind(span[0], span[1] + 1) : x.t.bind(0, Math.min(1, x.t.size));
  const wa = bind(ops.a, spans.a);
  const wb = bind(ops.b, spans.b);
  const wc = bind(ops.c, spans.c);
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
  });
  engine().cmd.dispatch(kern, [wa.binding, wb.binding, wc.binding], p, batches * tilesM * tilesN);
}
