// Lab step 2: register blocking. Each invocation keeps TM rows × 4 columns of C in registers (columns
// lane + 8j, so an 8-lane subgroup covers 32), and reuses each loaded B value TM times.
// f32, no transposes, no VEC4: the lab compares kernels on plain square products.
#include "matmul-operands.wgsl"

const TM: u32 = 8u;

@compute @workgroup_size(8, 4)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let tile = tile_of(linear_workgroup(wid, nwg), TM * 4u, 32u);
  if (!tile.valid) { return; }
  let row0 = tile.row + lid.y * TM;
  var cols: array<u32, 4>;
  for (var j = 0u; j < 4u; j++) { cols[j] = min(tile.col + lid.x + 8u * j, p.n - 1u); }
  var acc: array<vec4<f32>, TM>;
  for (var k = 0u; k < p.k; k++) {
    let bv = vec4<f32>(b[tile.batch_b + k * p.b_ld + cols[0]], b[tile.batch_b + k * p.b_ld + cols[1]],
                       b[tile.batch_b + k * p.b_ld + cols[2]], b[tile.batch_b + k * p.b_ld + cols[3]]);
    for (var r = 0u; r < TM; r++) {
      // The same address in every lane: lavapipe still loads it once per lane.
      acc[r] += a[tile.batch_a + min(row0 + r, p.m - 1u) * p.a_ld + k] * bv;
    }
  }
  for (var r = 0u; r < TM; r++) {
    let row = row0 + r;
    if (row >= p.m) { break; }
    for (var j = 0u; j < 4u; j++) {
      let col = tile.col + lid.x + 8u * j;
      if (col < p.n) { store_c(tile.batch_c + row * p.c_ld + col, acc[r][j]); }
    }
  }
}
