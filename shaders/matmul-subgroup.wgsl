// GEMM for CPU adapters (lavapipe): every storage load there is scalarised per lane with a bounds check,
// costing far more than the arithmetic, so the kernel is built to load each value once per subgroup.
//
// A subgroup of 8 lanes computes an (8·RQ) × 32 block of C, four k at a time. Lane l owns output
// columns 4l..4l+3 and loads their B values itself (no lane needs another's); A is loaded once — lane l
// fetches four k of row l (or, for a transposed A, four rows at one k) — and every lane gets each row by
// subgroupBroadcast, a register shuffle. A workgroup stacks SGS subgroups along M.
// VEC4 (host-checked alignment) reads four elements per load, which lavapipe turns into one bounds check.
enable subgroups;
#include "matmul-operands.wgsl"

const RQ: u32 = {{RQ}}u;
const SGS: u32 = {{SGS}}u;

#if VEC4
fn a4(e: u32) -> vec4<f32> { return load_a4(e); }
fn b4(e: u32) -> vec4<f32> { return load_b4(e); }
#else
fn a4(e: u32) -> vec4<f32> { return vec4<f32>(a[e], a[e + 1u], a[e + 2u], a[e + 3u]); }
fn b4(e: u32) -> vec4<f32> { return vec4<f32>(load_b(e), load_b(e + 1u), load_b(e + 2u), load_b(e + 3u)); }
#endif

// What this lane loads of A for rows row0..row0+7 and k0..k0+3 (see rows_of).
fn a_chunk(base: u32, row0: u32, k0: u32, lane: u32) -> vec4<f32> {
#if TRANS_A
  // Stored (K, M): lane l reads rows row0 + 4·(l / 4) .. +3 at k0 + l % 4.
  return a4(base + a_at(row0 + 4u * (lane >> 2u), min(k0 + (lane & 3u), p.k - 1u)));
#else
  return a4(base + a_at(min(row0 + lane, p.m - 1u), k0));
#endif
}

// The eight rows' k-vectors (A[row0 + r, k0..k0+3]) in every lane.
fn rows_of(v: vec4<f32>) -> array<vec4<f32>, 8> {
#if TRANS_A
  let lo = transpose(mat4x4<f32>(subgroupBroadcast(v, 0u), subgroupBroadcast(v, 1u),
                                 subgroupBroadcast(v, 2u), subgroupBroadcast(v, 3u)));
  let hi = transpose(mat4x4<f32>(subgroupBroadcast(v, 4u), subgroupBroadcast(v, 5u),
                                 subgroupBroadcast(v, 6u), subgroupBroadcast(v, 7u)));
  return array<vec4<f32>, 8>(lo[0], lo[1], lo[2], lo[3], hi[0], hi[1], hi[2], hi[3]);
#else
  return array<vec4<f32>, 8>(subgroupBroadcast(v, 0u), subgroupBroadcast(v, 1u), subgroupBroadcast(v, 2u),
                             subgroupBroadcast(v, 3u), subgroupBroadcast(v, 4u), subgroupBroadcast(v, 5u),
                             subgroupBroadcast(v, 6u), subgroupBroadcast(v, 7u));
#endif
}

// B[k0 + kk, col0 .. col0+3] as column kk of a matrix.
fn b_chunk(base: u32, k0: u32, col0: u32) -> mat4x4<f32> {
  let last = p.k - 1u;
#if TRANS_B
  // Stored (N, K): four k of each column, then transposed in registers.
  return transpose(mat4x4<f32>(b4(base + b_at(k0, col0)), b4(base + b_at(k0, col0 + 1u)),
                               b4(base + b_at(k0, col0 + 2u)), b4(base + b_at(k0, col0 + 3u))));
#else
  return mat4x4<f32>(b4(base + b_at(k0, col0)), b4(base + b_at(min(k0 + 1u, last), col0)),
                     b4(base + b_at(min(k0 + 2u, last), col0)), b4(base + b_at(min(k0 + 3u, last), col0)));
#endif
}

fn update(acc: ptr<function, array<vec4<f32>, 8>>, rows: array<vec4<f32>, 8>, bm: mat4x4<f32>) {
  for (var r = 0u; r < 8u; r++) { (*acc)[r] += bm * rows[r]; }
}

// Zeroes the k beyond K in a chunk's values: stale memory past an operand may hold anything, even Inf.
fn live_k(v: vec4<f32>, k0: u32) -> vec4<f32> {
  return select(vec4<f32>(0.0), v, vec4<u32>(k0) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(p.k));
}

fn store_rows(acc: ptr<function, array<vec4<f32>, 8>>, base: u32, row0: u32, col0: u32) {
  for (var r = 0u; r < 8u; r++) {
    let row = row0 + r;
    if (row >= p.m) { break; }
    for (var j = 0u; j < 4u; j++) {
      if (col0 + j < p.n) { store_c(base + row * p.c_ld + col0 + j, (*acc)[r][j]); }
    }
  }
}

@compute @workgroup_size(8, SGS)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let tile = tile_of(linear_workgroup(wid, nwg), 8u * RQ * SGS, 32u);
  let lane = lid.x;
  let row0 = tile.row + lid.y * 8u * RQ;
  let col0 = tile.col + 4u * lane;
  var acc0: array<vec4<f32>, 8>;
#if RQ2
  var acc1: array<vec4<f32>, 8>;
#endif
  let kfull = p.k & ~3u;
  // No early return for padding workgroups: control flow must stay uniform around subgroupBroadcast.
  for (var k0 = 0u; k0 < kfull; k0 += 4u) {
    let bm = b_chunk(tile.batch_b, k0, col0);
    update(&acc0, rows_of(a_chunk(tile.batch_a, row0, k0, lane)), bm);
#if RQ2
    update(&acc1, rows_of(a_chunk(tile.batch_a, row0 + 8u, k0, lane)), bm);
#endif
  }
  if (kfull < p.k) {
    let b = b_chunk(tile.batch_b, kfull, col0);
    var bm: mat4x4<f32>;
    for (var c = 0u; c < 4u; c++) { bm[c] = select(vec4<f32>(0.0), b[c], kfull + c < p.k); }
    var rows = rows_of(a_chunk(tile.batch_a, row0, kfull, lane));
    for (var r = 0u; r < 8u; r++) { rows[r] = live_k(rows[r], kfull); }
    update(&acc0, rows, bm);
#if RQ2
    rows = rows_of(a_chunk(tile.batch_a, row0 + 8u, kfull, lane));
    for (var r = 0u; r < 8u; r++) { rows[r] = live_k(rows[r], kfull); }
    update(&acc1, rows, bm);
#endif
  }
  if (!tile.valid) { return; }
  store_rows(&acc0, tile.batch_c, row0, col0);
#if RQ2
  store_rows(&acc1, tile.batch_c, row0 + 8u, col0);
#endif
}
