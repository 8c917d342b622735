// Lab step 3: load A once per subgroup. Lane l loads A[row l, k] and subgroupBroadcast hands row r's
// value to every lane (a register shuffle), instead of eight lanes loading the same address each.
// An 8-lane subgroup computes 8 rows × 32 columns. f32, no transposes.
enable subgroups;
#include "matmul-operands.wgsl"

@compute @workgroup_size(8, 8)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let tile = tile_of(linear_workgroup(wid, nwg), 64u, 32u);
  let row0 = tile.row + lid.y * 8u;
  let lane = lid.x;
  let my_row = min(row0 + lane, p.m - 1u);
  var cols: array<u32, 4>;
  for (var j = 0u; j < 4u; j++) { cols[j] = min(tile.col + lane + 8u * j, p.n - 1u); }
  var acc: array<vec4<f32>, 8>;
  // No early return before the loop: subgroupBroadcast needs every lane.
  for (var k = 0u; k < p.k; k++) {
    let bv = vec4<f32>(b[tile.batch_b + k * p.b_ld + cols[0]], b[tile.batch_b + k * p.b_ld + cols[1]],
                       b[tile.batch_b + k * p.b_ld + cols[2]], b[tile.batch_b + k * p.b_ld + cols[3]]);
    let av = a[tile.batch_a + my_row * p.a_ld + k];
    acc[0] += subgroupBroadcast(av, 0u) * bv;
    acc[1] += subgroupBroadcast(av, 1u) * bv;
    acc[2] += subgroupBroadcast(av, 2u) * bv;
    acc[3] += subgroupBroadcast(av, 3u) * bv;
    acc[4] += subgroupBroadcast(av, 4u) * bv;
    acc[5] += subgroupBroadcast(av, 5u) * bv;
    acc[6] += subgroupBroadcast(av, 6u) * bv;
    acc[7] += subgroupBroadcast(av, 7u) * bv;
  }
  if (!tile.valid) { return; }
  for (var r = 0u; r < 8u; r++) {
    let row = row0 + r;
    if (row >= p.m) { break; }
    for (var j = 0u; j < 4u; j++) {
      let col = tile.col + lane + 8u * j;
      if (col < p.n) { store_c(tile.batch_c + row * p.c_ld + col, acc[r][j]); }
    }
  }
}
