// Skinny GEMM for decoding on CPU adapters (lavapipe): C (M×N) = x (M×K) · Wᵀ with W stored (N, K) and
// M ≤ ROWS ≤ 4 (more rows work, in tiles of ROWS). Every weight is used by only M rows, so the cost is
// loading W: each of the LANES lanes of a one-subgroup workgroup owns CPL columns (rows of W), LANES apart,
// and reads them along K in chunks of KC elements per load (B8: eight halves in one vec4<u32>, half the
// loads of four-element reads; lavapipe scalarises every load per lane, so loads are what costs).
// x is loaded once per subgroup, 4·LANES k at a time (lane l holds k0+4l..4l+3 of each row), and handed to
// every lane by a subgroup shuffle. No row is computed beyond ROWS, unlike the 8-row tiles of the GEMM kernels.
// Any layout works (element-wise reads, STRIDED: the layout given at run time); the host picks VEC4 (A and
// B four-aligned) and B8 (halves eight-aligned) only for !TRANS_A and TRANS_B, the layout of x·Wᵀ, and this
// kernel only for that layout.
enable subgroups;
#include "matmul-operands.wgsl"

const ROWS: u32 = {{ROWS}}u;
const CPL: u32 = {{CPL}}u;
const LANES: u32 = {{LANES}}u;

#if B8
const KC: u32 = 8u;
#else
const KC: u32 = 4u;
#endif
const NW: u32 = KC / 4u;  // vec4s per chunk
const KI: u32 = 4u * LANES;  // k per iteration: each lane holds 4 of x
const CHUNKS: u32 = KI / KC;

// W[n, k .. k+KC-1] (column n of B, KC consecutive k), widened to f32. The vector forms read W's stored rows
// (TRANS_B); the element-wise form works for any layout, clamping k to K - 1 (the tail masks those k).
fn w_chunk(base: u32, k: u32, n: u32) -> array<vec4<f32>, NW> {
#if B8
  let w = b[(base + b_at(k, n)) >> 3u];
#if B_BF16
  return array<vec4<f32>, NW>(
    vec4<f32>(bitcast<f32>(w.x << 16u), bitcast<f32>(w.x & 0xffff0000u), bitcast<f32>(w.y << 16u), bitcast<f32>(w.y & 0xffff0000u)),
    vec4<f32>(bitcast<f32>(w.z << 16u), bitcast<f32>(w.z & 0xffff0000u), bitcast<f32>(w.w << 16u), bitcast<f32>(w.w & 0xffff0000u)));
#else
  return array<vec4<f32>, NW>(vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y)),
                              vec4<f32>(unpack2x16float(w.z), unpack2x16float(w.w)));
#endif
#elif VEC4
  return array<vec4<f32>, NW>(load_b4(base + b_at(k, n)));
#else
  var v: vec4<f32>;
  for (var i = 0u; i < 4u; i++) { v[i] = load_b(base + b_at(min(k + i, p.k - 1u), n)); }
  return array<vec4<f32>, NW>(v);
#endif
}

// x[m, k .. k+3] (four consecutive k of A's row m), clamped like w_chunk.
fn x4(base: u32, m: u32, k: u32) -> vec4<f32> {
#if VEC4
  return load_a4(base + a_at(m, k));
#else
  var v: vec4<f32>;
  for (var i = 0u; i < 4u; i++) { v[i] = a[base + a_at(m, min(k + i, p.k - 1u))]; }
  return v;
#endif
}

// Zeroes the k at or beyond K: stale memory past an operand may hold anything, even Inf.
fn live(v: vec4<f32>, k: u32) -> vec4<f32> {
  return select(vec4<f32>(0.0), v, vec4<u32>(k) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(p.k));
}

// One iteration: KI k from k0 for every row and column; `tail` masks the k beyond K (the last iteration).
fn step(acc: ptr<function, array<array<f32, CPL>, ROWS>>, tile: Tile, cols: array<u32, CPL>, k0: u32, lane: u32,
        tail: bool) {
  var xv: array<vec4<f32>, ROWS>;
  let kx = min(k0 + 4u * lane, p.k - 1u);
  for (var m = 0u; m < ROWS; m++) {
    xv[m] = x4(tile.batch_a, min(tile.row + m, p.m - 1u), kx);
    if (tail) { xv[m] = live(xv[m], k0 + 4u * lane); }
  }
  for (var q = 0u; q < CHUNKS; q++) {
    let kq = k0 + KC * q;
    var w: array<array<vec4<f32>, NW>, CPL>;
    for (var j = 0u; j < CPL; j++) {
      w[j] = w_chunk(tile.batch_b, min(kq, p.k - 1u), cols[j]);
      if (tail) {
        for (var i = 0u; i < NW; i++) { w[j][i] = live(w[j][i], kq + 4u * i); }
      }
    }
    for (var m = 0u; m < ROWS; m++) {
      for (var i = 0u; i < NW; i++) {
        // subgroupBroadcast wants a const-expression lane; once the loops unroll, this index is a constant too.
        let x = subgroupShuffle(xv[m], NW * q + i);
        for (var j = 0u; j < CPL; j++) { (*acc)[m][j] += dot(w[j][i], x); }
      }
    }
  }
}

@compute @workgroup_size(LANES)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(subgroup_invocation_id) lane: u32) {
  let tile = tile_of(linear_workgroup(wid, nwg), ROWS, LANES * CPL);
  var cols: array<u32, CPL>;
  for (var j = 0u; j < CPL; j++) { cols[j] = min(tile.col + lane + LANES * j, p.n - 1u); }
  var acc: array<array<f32, CPL>, ROWS>;
  let kfull = p.k - p.k % KI;
  // No early return for padding workgroups: control flow must stay uniform around subgroupBroadcast.
  for (var k0 = 0u; k0 < kfull; k0 += KI) { step(&acc, tile, cols, k0, lane, false); }
  if (kfull < p.k) { step(&acc, tile, cols, kfull, lane, true); }
  if (!tile.valid) { return; }
  for (var m = 0u; m < ROWS; m++) {
    let row = tile.row + m;
    if (row >= p.m) { break; }
    for (var j = 0u; j < CPL; j++) {
      let col = tile.col + lane + LANES * j;
      if (col < p.n) { store_c(tile.batch_c + row * p.c_ld + col, acc[m][j]); }
    }
  }
}
