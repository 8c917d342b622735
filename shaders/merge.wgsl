// Merging a LoRA update into a weight in the weight's own dtype, as PEFT's merge does:
//   delta = bf16/f16(scale · (B·A))     (PEFT computes B·A, scales it, then casts to the weight dtype)
//   W     = dtype(W + delta)            (an add in the weight dtype: f32 arithmetic, rounded once)
// delta (f32, the unscaled product B·A) comes from a GEMM; two elements per thread for packed dtypes.
#include "common.wgsl"

struct Params {
  n: u32,          // elements (pairs for packed dtypes are n / 2, rounded up)
  scale: f32,
  base_w: u32,     // in elements
  base_d: u32,
}

const WG: u32 = 256u;

@group(0) @binding(1) var<storage, read> delta: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

#if W_F32
@group(0) @binding(0) var<storage, read_write> w: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_workgroup(wid, nwg) * WG + lid;
  if (i >= p.n) { return; }
  w[p.base_w + i] = w[p.base_w + i] + delta[p.base_d + i] * p.scale;
}
#else
@group(0) @binding(0) var<storage, read_write> w: array<u32>;

// Rounds to the weight dtype and back, so that the addition sees the same delta PEFT's cast produces.
fn round_to_dtype(x: f32) -> f32 {
  return unpack_{{W_DTYPE}}(pack_{{W_DTYPE}}(x, 0.0), 0u);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let pair = linear_workgroup(wid, nwg) * WG + lid;
  let i = 2u * pair;
  if (i >= p.n) { return; }
  let word = (p.base_w + i) >> 1u;
  let w0 = unpack_{{W_DTYPE}}(w[word], 0u);
  let w1 = unpack_{{W_DTYPE}}(w[word], 1u);
  let d0 = round_to_dtype(delta[p.base_d + i] * p.scale);
  var d1 = 0.0;
  if (i + 1u < p.n) { d1 = round_to_dtype(delta[p.base_d + i + 1u] * p.scale); }
  let hi = select(w1, w1 + d1, i + 1u < p.n);
  w[word] = pack_{{W_DTYPE}}(w0 + d0, hi);
}
#endif
