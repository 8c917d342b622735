// Rotary position embedding in Hugging Face's rotate-half layout: the pair (i, i + D/2) of each head is
// rotated by the angle pos·inv_freq[i]:
//   y_i       = x_i·cos − x_{i+D/2}·sin
//   y_{i+D/2} = x_{i+D/2}·cos + x_i·sin
// x is (N, D) rows, N = B·T·H, row n belonging to token n / H; positions (B·T) are i32. cos/sin come from
// tables (P, D/2) computed on the CPU (src/tensor/ops/rope.ts). The backward is the rotation by −angle
// (sign = −1), since the rotation is orthogonal.
#include "common.wgsl"

struct Params {
  pairs: u32,    // N · D/2 in this dispatch
  heads: u32,    // H
  half: u32,     // D/2
  base_x: u32,
  base_y: u32,
  base_pos: u32, // token index of this dispatch's first row, in the positions binding
  sign: f32,
  max_pos: u32,  // rows in the tables
}

const WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> positions: array<i32>;
@group(0) @binding(2) var<storage, read> cos_table: array<f32>;
@group(0) @binding(3) var<storage, read> sin_table: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let j = linear_workgroup(wid, nwg) * WG + lid;
  if (j >= p.pairs) { return; }
  let row = j / p.half;
  let i = j % p.half;
  let pos = min(u32(max(positions[p.base_pos + row / p.heads], 0)), p.max_pos - 1u);
  let c = cos_table[pos * p.half + i];
  let s = p.sign * sin_table[pos * p.half + i];
  let d = 2u * p.half;
  let a = x[p.base_x + row * d + i];
  let b = x[p.base_x + row * d + i + p.half];
  y[p.base_y + row * d + i] = a * c - b * s;
  y[p.base_y + row * d + i + p.half] = b * c + a * s;
}
