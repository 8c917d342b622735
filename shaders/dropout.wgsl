// Inverted dropout with a counter-based random mask: element i is kept when hash(seed, i) ≥ p·2³², and
// scaled by 1/(1 − p). The same seed gives the same mask, so the backward re-derives it instead of storing it.
#include "common.wgsl"

struct Params {
  n: u32,
  seed: u32,
  threshold: u32,  // p · 2³²
  scale: f32,      // 1 / (1 − p)
  base_x: u32,
  base_y: u32,
  first: u32,      // flat index of this dispatch's element 0
}

const WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

// A 32-bit integer hash (lowbias32 by Chris Wellons' hash prospector), mixed with the seed.
fn hash(v: u32) -> u32 {
  var h = v;
  h ^= h >> 16u; h *= 0x7feb352du;
  h ^= h >> 15u; h *= 0x846ca68bu;
  h ^= h >> 16u;
  return h;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_workgroup(wid, nwg) * WG + lid;
  if (i >= p.n) { return; }
  let keep = hash(hash(p.first + i) ^ p.seed) >= p.threshold;
  y[p.base_y + i] = select(0.0, x[p.base_x + i] * p.scale, keep);
}
