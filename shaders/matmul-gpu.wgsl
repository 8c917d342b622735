// GEMM for GPUs: register blocking over tiles staged in workgroup memory. A workgroup of 16 × 16
// invocations computes a 64 × 64 block of C, each invocation a 4 × 4 block of it (rows 4·ty .. 4·ty+3,
// columns 4·tx .. 4·tx+3) held in registers. K advances BK = 16 at a time: the workgroup copies A's
// 64 × 16 slice and B's 16 × 64 slice into workgroup memory — each invocation four consecutive elements
// of each, along the operand's contiguous axis, so that neighbouring invocations read neighbouring
// addresses — and then, per k, every invocation reads one vec4 of the A column and one of the B row and
// does 16 multiply-adds: 2 workgroup-memory reads per 16 FMAs, against 2 per 1 in the naive kernel.
// The tiles are k-major vec4s (a_tile[k][m / 4], b_tile[k][n / 4]): the 16 invocations of a row of the
// workgroup read one A vector (a broadcast) and 16 consecutive B vectors.
// Edges: elements past M, N or K load as zero and are never stored, so any shape works; VEC4 (host-checked
// alignment) loads each group of four with one vector read. B is f32, or bf16 / f16 widened on load.
#include "matmul-operands.wgsl"

const BK: u32 = 16u;
var<workgroup> a_tile: array<array<vec4<f32>, 16>, BK>;
var<workgroup> b_tile: array<array<vec4<f32>, 16>, BK>;

// Zeroes the lanes of v at or past `limit` (v holds the elements first .. first+3 of its axis).
fn below(v: vec4<f32>, first: u32, limit: u32) -> vec4<f32> {
  return select(vec4<f32>(0.0), v, vec4<u32>(first) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(limit));
}

// Four consecutive stored elements of A (B) from element index e; the first `count` of them exist.
fn a_quad(e: u32, count: u32) -> vec4<f32> {
#if VEC4
  return load_a4(e);
#else
  var v = vec4<f32>(0.0);
  for (var i = 0u; i < min(count, 4u); i++) { v[i] = a[e + i]; }
  return v;
#endif
}

fn b_quad(e: u32, count: u32) -> vec4<f32> {
#if VEC4
  return load_b4(e);
#else
  var v = vec4<f32>(0.0);
  for (var i = 0u; i < min(count, 4u); i++) { v[i] = load_b(e + i); }
  return v;
#endif
}

// Stages A[m0 .. m0+63, k0 .. k0+15] and B[k0 .. k0+15, n0 .. n0+63]; invocation li loads one quad of each.
fn stage(tile: Tile, k0: u32, li: u32) {
#if TRANS_A
  // Stored (K, M): row k, four consecutive m.
  let ak = li / 16u;
  let am = 4u * (li % 16u);
  var av = vec4<f32>(0.0);
  if (k0 + ak < p.k && tile.row + am < p.m) {
    av = below(a_quad(tile.batch_a + a_at(tile.row + am, k0 + ak), p.m - tile.row - am), tile.row + am, p.m);
  }
  a_tile[ak][am / 4u] = av;
#else
  // Stored (M, K): row m, four consecutive k, which land in four k-rows of the tile.
  let am = li / 4u;
  let ak = 4u * (li % 4u);
  var av = vec4<f32>(0.0);
  if (tile.row + am < p.m && k0 + ak < p.k) {
    av = below(a_quad(tile.batch_a + a_at(tile.row + am, k0 + ak), p.k - k0 - ak), k0 + ak, p.k);
  }
  for (var i = 0u; i < 4u; i++) { a_tile[ak + i][am / 4u][am % 4u] = av[i]; }
#endif
#if TRANS_B
  // Stored (N, K): row n, four consecutive k.
  let bn = li / 4u;
  let bk = 4u * (li % 4u);
  var bv = vec4<f32>(0.0);
  if (tile.col + bn < p.n && k0 + bk < p.k) {
    bv = below(b_quad(tile.batch_b + b_at(k0 + bk, tile.col + bn), p.k - k0 - bk), k0 + bk, p.k);
  }
  for (var i = 0u; i < 4u; i++) { b_tile[bk + i][bn / 4u][bn % 4u] = bv[i]; }
#else
  // Stored (K, N): row k, four consecutive n.
  let bk = li / 16u;
  let bn = 4u * (li % 16u);
  var bv = vec4<f32>(0.0);
  if (k0 + bk < p.k && tile.col + bn < p.n) {
    bv = below(b_quad(tile.batch_b + b_at(k0 + bk, tile.col + bn), p.n - tile.col - bn), tile.col + bn, p.n);
  }
  b_tile[bk][bn / 4u] = bv;
#endif
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let tile = tile_of(linear_workgroup(wid, nwg), 64u, 64u);
  // tile.valid is the same for the whole workgroup, so leaving here keeps the barriers uniform.
  if (!tile.valid) { return; }
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < p.k; k0 += BK) {
    stage(tile, k0, li);
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      let av = a_tile[kk][lid.y];
      let bv = b_tile[kk][lid.x];
      acc[0] += av.x * bv;
      acc[1] += av.y * bv;
      acc[2] += av.z * bv;
      acc[3] += av.w * bv;
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let row = tile.row + 4u * lid.y + i;
    if (row >= p.m) { break; }
    for (var j = 0u; j < 4u; j++) {
      let col = tile.col + 4u * lid.x + j;
      if (col < p.n) { store_c(tile.batch_c + row * p.c_ld + col, acc[i][j]); }
    }
  }
}
