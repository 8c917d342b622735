// The naive GEMM: one invocation per output element, 16×16 per workgroup, every operand read straight
// from storage. Correct everywhere and the baseline the benchmarks compare against (see bench/lab/).
#include "matmul-operands.wgsl"

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let tile = tile_of(linear_workgroup(wid, nwg), 16u, 16u);
  let row = tile.row + lid.y;
  let col = tile.col + lid.x;
  if (!tile.valid || row >= p.m || col >= p.n) { return; }
  var acc = 0.0;
  for (var k = 0u; k < p.k; k++) {
    acc += a[tile.batch_a + a_at(row, k)] * load_b(tile.batch_b + b_at(k, col));
  }
  store_c(tile.batch_c + row * p.c_ld + col, acc);
}
