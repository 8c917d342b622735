// AdamW with PyTorch's semantics (torch.optim.AdamW, single-tensor path), f32 state, and global-norm
// gradient clipping folded in:
//   sum_squares:  acc[slot] += Σ g²                 (one workgroup per call; calls add up over tensors)
//   step:         g ← g · min(1, max_norm / (√acc[slot] + 1e-6))  (torch.nn.utils.clip_grad_norm_)
//                 p ← p · (1 − lr·wd)
//                 m ← β1·m + (1 − β1)·g
//                 v ← β2·v + (1 − β2)·g²
//                 p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + eps)
// Slots: a parameter may stack several independent models along its first axis (parallel inner loops),
// each with its own gradient norm and learning rate; element i belongs to slot i / slot_size. One model is
// one slot. The per-slot learning-rate terms and the bias corrections are computed on the host in float64,
// as torch computes them in Python.
#include "common.wgsl"

struct Params {
  n: u32,
  // Scalars rounded to f32 on the host from float64, as torch casts Python floats for f32 tensors.
  beta1: f32,
  one_minus_beta1: f32,
  beta2: f32,
  one_minus_beta2: f32,
  eps: f32,
  bias2_sqrt: f32,       // √(1 − β2ᵗ)
  max_norm: f32,         // ≤ 0: no clipping
  base: u32,             // element offsets of this dispatch's slice in each binding: param (or g, in sum_squares),
  base_g: u32,
  base_m: u32,
  base_v: u32,
  first: u32,            // index in the parameter of this dispatch's element 0 (to find its slot)
  slot_size: u32,        // elements per slot
  slot: u32,             // sum_squares: the slot this call sums
}

const WG: u32 = 256u;

#if SUM_SQUARES
@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read_write> acc: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
#include "workgroup.wgsl"

@compute @workgroup_size(WG)
fn main(me: Invocation) {
  let lid = me.index;
  var s = 0.0;
  for (var i = lid; i < p.n; i += WG) { let v = g[p.base + i]; s += v * v; }
  let total = workgroup_sum(s, me);
  if (lid == 0u) { acc[p.slot] += total; }
}
#endif

#if STEP
@group(0) @binding(0) var<storage, read_write> param: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<storage, read> norm_sq: array<f32>;
// Per slot: 1 − lr·wd, and −lr / (1 − β1ᵗ).
@group(0) @binding(5) var<storage, read> slot_scalars: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_workgroup(wid, nwg) * WG + lid;
  if (i >= p.n) { return; }
  let slot = (p.first + i) / p.slot_size;
  var clip = 1.0;
  if (p.max_norm > 0.0) { clip = min(1.0, p.max_norm / (sqrt(norm_sq[slot]) + 1e-6)); }
  let grad = g[p.base_g + i] * clip;
  let decay = slot_scalars[2u * slot];
  let neg_step_size = slot_scalars[2u * slot + 1u];
  // Each line is one torch op, rounded as torch rounds it (no fused multiply-adds).
  let decayed = param[p.base + i] * decay;                                 // param.mul_(1 − lr·wd)
  let m1 = m[p.base_m + i] * p.beta1 + p.one_minus_beta1 * grad;           // exp_avg.mul_(β1).add_(g, alpha=1 − β1)
  let v1 = v[p.base_v + i] * p.beta2 + (p.one_minus_beta2 * grad) * grad;  // exp_avg_sq.mul_(β2).addcmul_(g, g, value=1 − β2)
  let denom = sqrt(v1) / p.bias2_sqrt + p.eps;                             // (exp_avg_sq.sqrt() / √bc2).add_(eps)
  m[p.base_m + i] = m1;
  v[p.base_v + i] = v1;
  param[p.base + i] = decayed + (neg_step_size * m1) / denom;              // param.addcdiv_(m, denom, value=−step)
}
#endif
