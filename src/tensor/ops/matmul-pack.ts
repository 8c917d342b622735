// Operand copies for the CPU GEMM: a matrix whose rows lie a multiple of 1 KiB apart (ld = 1024 f32, the
// square benchmark; 2048 and 8192, Llama's activations) puts the 32 rows a tile reads at once into the
// same few sets of the CPU's L1 cache (64 sets of 64 B: rows 4 KiB apart share one set), which evict each
// other's lines between the tile's steps. A copy with 16 more elements per row spreads them over every
// set. Measured at 1024² f32 (lavapipe, CPU time): the 32×32 subgroup kernel +50 % on copied operands;
// the copy itself costs about one more load and store per element, against ≥ 8 loads in the product.
import { empty } from '../tensor.ts';
import type { Operand } from './matmul-plan.ts';
import { engine, groups, k } from './launch.ts';

/** Rows per tile of the kernels that want copies: an operand is re-read once per tile of the other side. */
const TILE = 32;
/** Copy only operands re-read at least this often (the copy costs about two reads). */
const MIN_REUSE = 4;
/** Quads of columns one invocation copies: on lavapipe one each ran 3× slower (see the shader). */
const QUADS = 8;

/** The stored (rows, cols) of an operand: A is (M, K) or, transposed, (K, M); B is (K, N) or (N, K). */
function stored(which: 'a' | 'b', x: Operand, M: number, N: number, K: number): [number, number] {
  if (which === 'a') return x.trans ? [K, M] : [M, K];
  return x.trans ? [N, K] : [K, N];
}

/**
 * The operand, or a dense copy of it with a row stride that spreads its rows over the cache sets, when
 * that pays: an f32 matrix of one batch whose rows are a multiple of 1 KiB apart, re-read often, and whose
 * copy fits one binding. The copy is the caller's to dispose once the product is recorded.
 */
export function cacheFriendly(which: 'a' | 'b', x: Operand, M: number, N: number, K: number, batches: number): Operand {
  if (x.t.dtype !== 'f32' || batches !== 1 || (x.ld * 4) % 1024 !== 0) return x;
  const [rows, cols] = stored(which, x, M, N, K);
  const reuse = Math.ceil((which === 'a' ? N : M) / TILE);
  if (rows < TILE || reuse < MIN_REUSE) return x;
  // 16 elements (64 bytes, one cache line) past a multiple of 16: consecutive rows start one set apart.
  const ld = Math.ceil(cols / 16) * 16 + 16;
  const { limits } = engine().gpu;
  if (rows * ld * 4 > limits.maxStorageBufferBindingSize || x.t.bytes > limits.maxStorageBufferBindingSize) return x;
  const copy = empty([rows, ld]);
  const src = x.t.bind();
  const base = src.base + x.offset;
  const vec4 = base % 4 === 0 && x.ld % 4 === 0 && limits.minStorageBufferOffsetAlignment % 16 === 0;
  const kern = k('matmul-pack.wgsl', 'main', { VEC4: vec4, QUADS });
  const perRow = groups(ld, 4 * QUADS * kern.workgroupSize[0]);
  const p = { rows, cols, base, ld: x.ld, dst_ld: ld, groups_per_row: perRow };
  engine().cmd.dispatch(kern, [src.binding, copy.bind().binding], p, rows * perRow);
  return { t: copy, offset: 0, ld, trans: x.trans, strides: [0, 0] };
}
