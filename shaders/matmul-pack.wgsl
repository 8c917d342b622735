// Copies an f32 matrix (rows × cols, rows ld elements apart, from element `base`) into a dense one whose
// rows are `dst_ld` elements apart: the GEMM's operand copy with a cache-friendly row stride (see
// matmul-pack.ts). A workgroup copies QUADS · 4 · WG columns of one row, an invocation QUADS times four of
// them (QUADS from the host: 8): on
// lavapipe the work per invocation has to outweigh its fixed cost (measured: one quad each ran 3× slower),
// and the division happens per workgroup, not per lane. VEC4 (host-checked: base and ld multiples of 4)
// reads four columns with one load.
#include "common.wgsl"

struct Params { rows: u32, cols: u32, base: u32, ld: u32, dst_ld: u32, groups_per_row: u32 }

#if VEC4
@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
#else
@group(0) @binding(0) var<storage, read> src: array<f32>;
#endif
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> p: Params;

const WG: u32 = 64u;
const QUADS: u32 = {{QUADS}}u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let wg = linear_workgroup(wid, nwg);
  let row = wg / p.groups_per_row;
  if (row >= p.rows) { return; }
  for (var q = 0u; q < QUADS; q++) {
    let col = ((wg % p.groups_per_row) * (QUADS * WG) + q * WG + lid.x) * 4u;
    if (col >= p.dst_ld) { return; }
    let e = p.base + row * p.ld + col;
#if VEC4
    let v = src[e >> 2u];
#else
    // Columns past the matrix are never read by the GEMM: zeros, rather than reads past its end.
    var v = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) {
      if (col + j < p.cols) { v[j] = src[e + j]; }
    }
#endif
    dst[(row * p.dst_ld + col) >> 2u] = v;
  }
}
