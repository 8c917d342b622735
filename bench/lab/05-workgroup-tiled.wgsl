// Lab step 5 (the GPU line): the classic workgroup-memory tiling, our first GPU kernel. A 16×16 workgroup
// computes a 64×64 block of C, each invocation a 4×4 sub-block (rows ty + 16i, columns tx + 16j, so
// neighbours read neighbouring words of workgroup memory). K advances 16 at a time through tiles of A and B
// staged in workgroup memory, loaded one element at a time along each operand's contiguous axis so that
// global reads coalesce. Step 6 (shaders/matmul-gpu.wgsl) loads and reads the tiles as vec4s.
#include "matmul-operands.wgsl"

const KT: u32 = 16u;
var<workgroup> a_tile: array<array<f32, 64>, KT>; // [k][m]
var<workgroup> b_tile: array<array<f32, 64>, KT>; // [k][n]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let tile = tile_of(linear_workgroup(wid, nwg), 64u, 64u);
  // tile.valid is the same for the whole workgroup, so leaving here keeps the barriers uniform.
  if (!tile.valid) { return; }
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < p.k; k0 += KT) {
    for (var i = 0u; i < 4u; i++) {
      let e = li + 256u * i;
#if TRANS_A
      let kk = e / 64u;  // stored (K, M): consecutive invocations read consecutive m
      let mm = e % 64u;
#else
      let kk = e % KT;   // stored (M, K): consecutive invocations read consecutive k
      let mm = e / KT;
#endif
      let gm = tile.row + mm;
      let gk = k0 + kk;
      var av = 0.0;
      if (gm < p.m && gk < p.k) { av = a[tile.batch_a + a_at(gm, gk)]; }
      a_tile[kk][mm] = av;
#if TRANS_B
      let bk = e % KT;   // stored (N, K)
      let bn = e / KT;
#else
      let bk = e / 64u;  // stored (K, N)
      let bn = e % 64u;
#endif
      let gn = tile.col + bn;
      let gkb = k0 + bk;
      var bv = 0.0;
      if (gn < p.n && gkb < p.k) { bv = load_b(tile.batch_b + b_at(gkb, gn)); }
      b_tile[bk][bn] = bv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < KT; kk++) {
      let bv = vec4<f32>(b_tile[kk][lid.x], b_tile[kk][lid.x + 16u], b_tile[kk][lid.x + 32u], b_tile[kk][lid.x + 48u]);
      for (var i = 0u; i < 4u; i++) { acc[i] += a_tile[kk][lid.y + 16u * i] * bv; }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let row = tile.row + lid.y + 16u * i;
    for (var j = 0u; j < 4u; j++) {
      let col = tile.col + lid.x + 16u * j;
      if (row < p.m && col < p.n) { store_c(tile.batch_c + row * p.c_ld + col, acc[i][j]); }
    }
  }
}
