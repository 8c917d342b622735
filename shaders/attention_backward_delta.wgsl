// Fused attention backward, pre-pass: per query row, δ = Σ_d dout·out (= Σ_j p_j·dp_j, FlashAttention-2's
// D), stored beside the forward's lse as stats (lse, δ) for the dQ and dK/dV kernels. One thread a row.
// Defines: D.
#include "common.wgsl"
#include "attention_common.wgsl"

const WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> out: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> dout: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> lse: array<f32>;
@group(0) @binding(3) var<storage, read_write> stats: array<vec2<f32>>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  // i runs over the piece's (batch entry, query, head) in the layout of out: one per thread.
  let i = linear_workgroup(wid, nwg) * WG + lid;
  let H = p.Hkv * p.G;
  let per_entry = (p.rows / p.G) * H;
  let bl = i / per_entry;
  if (bl >= p.nb) { return; }
  let t = p.t0 + (i % per_entry) / H;
  let h = i % H;
  let kv = h / p.G;
  let g = h % p.G;
  let at = q_at(bl, t, kv, g);
  var acc = 0.0;
  for (var d = 0u; d < D4; d++) { acc += dot(dout[p.base_do + at + d], out[p.base_o + at + d]); }
  let s = stat_at(p.b0 + bl, kv, t * p.G + g);
  stats[s] = vec2<f32>(lse[s], acc);
}
