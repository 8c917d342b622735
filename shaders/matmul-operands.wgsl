// What every GEMM kernel shares: the parameters, the bindings, and reading one element of each operand.
//
// C[bt] (M×N) = alpha · op(A[bt]) (M×K) · op(B[bt]) (K×N) (+ C[bt] when accumulate), for bt in the
// dispatch's batches. Operand X's matrix of batch (o, i) starts at x_base + o·x_s0 + i·x_s1 in its
// binding, and its stored rows are x_ld elements apart. TRANS_A / TRANS_B: the stored matrix is the
// transpose of the logical one. B is f32 (B_F32), or bf16 / f16 packed two per u32 (B_BF16 / B_F16).
// STRIDED (element-wise reads only): the layout comes at run time instead, as the element strides of
// logical A[m, k] and B[k, n] (a_ms, a_ks, b_ks, b_ns; TRANS_A and TRANS_B are off). One pipeline then
// serves all four transpose combinations: on lavapipe each pipeline costs seconds of LLVM compile at its
// first dispatch, and element-wise reads cost the same per element whatever the stride.
#include "common.wgsl"

struct Params {
  m: u32, n: u32, k: u32,
  batch_inner: u32,  // batches are numbered o·batch_inner + i
  batches: u32,
  tiles_m: u32,      // output tiles per matrix, for decoding the linear workgroup index
  tiles_n: u32,
  accumulate: u32,
  alpha: f32,
  a_base: u32, a_ld: u32, a_s0: u32, a_s1: u32,
  b_base: u32, b_ld: u32, b_s0: u32, b_s1: u32,
  c_base: u32, c_ld: u32, c_s0: u32, c_s1: u32,
  a_ms: u32, a_ks: u32, b_ks: u32, b_ns: u32,  // STRIDED only
}

// VEC4: A read four f32 at a time, B four elements at a time (vec4<f32>, or vec2<u32> of packed halves);
// the host picks it only when every base, ld and stride is a multiple of 4 elements.
// B8 (GEMV only): packed halves read eight at a time, as vec4<u32>; the host checks eight-alignment.
#if VEC4
@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
#if B_F32
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
#elif B8
@group(0) @binding(1) var<storage, read> b: array<vec4<u32>>;
#else
@group(0) @binding(1) var<storage, read> b: array<vec2<u32>>;
#endif
#else
@group(0) @binding(0) var<storage, read> a: array<f32>;
#if B_F32
@group(0) @binding(1) var<storage, read> b: array<f32>;
#else
@group(0) @binding(1) var<storage, read> b: array<u32>;
#endif
#endif
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

// Which tile of which matrix a workgroup computes.
struct Tile { batch_a: u32, batch_b: u32, batch_c: u32, row: u32, col: u32, valid: bool }

fn tile_of(wg: u32, rows_per_tile: u32, cols_per_tile: u32) -> Tile {
  let per_matrix = p.tiles_m * p.tiles_n;
  let bt = wg / per_matrix;
  let t = wg % per_matrix;
  let o = bt / p.batch_inner;
  let i = bt % p.batch_inner;
  return Tile(p.a_base + o * p.a_s0 + i * p.a_s1, p.b_base + o * p.b_s0 + i * p.b_s1,
              p.c_base + o * p.c_s0 + i * p.c_s1, (t / p.tiles_n) * rows_per_tile, (t % p.tiles_n) * cols_per_tile,
              bt < p.batches);
}

// Element offsets of logical A[m, k] and B[k, n] within their matrix.
fn a_at(m: u32, k: u32) -> u32 {
#if STRIDED
  return m * p.a_ms + k * p.a_ks;
#elif TRANS_A
  return k * p.a_ld + m;
#else
  return m * p.a_ld + k;
#endif
}

fn b_at(k: u32, n: u32) -> u32 {
#if STRIDED
  return k * p.b_ks + n * p.b_ns;
#elif TRANS_B
  return n * p.b_ld + k;
#else
  return k * p.b_ld + n;
#endif
}

#if !VEC4
// One element of B at absolute element index `e` of its binding, widened to f32.
fn load_b(e: u32) -> f32 {
#if B_BF16
  return unpack_bf16(b[e >> 1u], e & 1u);
#elif B_F16
  return unpack_f16(b[e >> 1u], e & 1u);
#else
  return b[e];
#endif
}
#else
#if !B8
// Four consecutive elements of B from element index `e` (a multiple of 4), widened to f32.
fn load_b4(e: u32) -> vec4<f32> {
#if B_BF16
  let w = b[e >> 2u];
  return vec4<f32>(bitcast<f32>(w.x << 16u), bitcast<f32>(w.x & 0xffff0000u),
                   bitcast<f32>(w.y << 16u), bitcast<f32>(w.y & 0xffff0000u));
#elif B_F16
  let w = b[e >> 2u];
  return vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y));
#else
  return b[e >> 2u];
#endif
}
#endif

// Four consecutive elements of A from element index `e` (a multiple of 4).
fn load_a4(e: u32) -> vec4<f32> {
  return a[e >> 2u];
}
#endif

// Writes one result: alpha·acc, plus the old value when accumulating.
fn store_c(e: u32, acc: f32) {
  var v = p.alpha * acc;
  if (p.accumulate != 0u) { v += c[e]; }
  c[e] = v;
}
