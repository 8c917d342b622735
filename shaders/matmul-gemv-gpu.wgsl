// Decoding on GPUs: C (M×N) = x (M×K) · Wᵀ with W stored (N, K) and M ≤ ROWS ≤ 4 (more rows work, in tiles
// of ROWS). Every weight serves only M rows, so reading W is the whole cost, and a GEMM tile of 64 columns
// would leave most of a GPU idle (a 2,048-wide projection is 32 such tiles). Here one workgroup reads one
// row of W — one output column — with its WG invocations side by side along K, so that neighbouring
// invocations read neighbouring vec4s, and sums the row's dot products with the ROWS rows of x across the
// workgroup (workgroup.wgsl): N workgroups. VEC4 layout only (x·Wᵀ, both four-aligned); the host runs
// every other layout with the GEMM kernel. B is f32, or bf16 / f16 widened on load.
#if SUBGROUP_REDUCE
enable subgroups;
#endif
#include "matmul-operands.wgsl"

const ROWS: u32 = {{ROWS}}u;
const WG: u32 = 64u;
#include "workgroup.wgsl"

// Zeroes the lanes of v at or past K (v holds k .. k+3): whatever lies past an operand, even Inf.
fn live(v: vec4<f32>, k: u32) -> vec4<f32> {
  return select(vec4<f32>(0.0), v, vec4<u32>(k) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(p.k));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, me: Invocation) {
  let tile = tile_of(linear_workgroup(wid, nwg), ROWS, 1u);
  // tile.valid is the same for the whole workgroup, so leaving here keeps the reductions uniform.
  if (!tile.valid) { return; }
  var acc: array<f32, ROWS>;
  for (var k = 4u * me.index; k < p.k; k += 4u * WG) {
    let w = live(load_b4(tile.batch_b + b_at(k, tile.col)), k);
    for (var m = 0u; m < ROWS; m++) {
      acc[m] += dot(live(load_a4(tile.batch_a + a_at(min(tile.row + m, p.m - 1u), k)), k), w);
    }
  }
  for (var m = 0u; m < ROWS; m++) {
    let total = workgroup_sum(acc[m], me);
    let row = tile.row + m;
    if (me.index == 0u && row < p.m) { store_c(tile.batch_c + row * p.c_ld + tile.col, total); }
  }
}
