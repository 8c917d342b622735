// AdamW with PyTorch's semantics (torch.optim.AdamW, single-tensor path), f32 state, and global-norm
// gradient clipping folded in:
//   sum_squares:  acc[slot] += Σ g²                 (one workgroup per call; calls add up over tensors)
//   step:         g ← g · min(1, max_norm / (√acc[slot] + 1e-6))  (torch.nn.utils.clip_grad_norm_)
//                 p ← p · (1 − lr·wd)
//                 m ← β1·m + (1 − β1)·g
//                 v ← β2·v + (1 − β2)·g²
//                 p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + eps)
// MULTI (multi-tensor): the same two passes over many tensors in few dispatches (a LoRA adapter has a
// few dozen small tensors; the demo's 16 slots made 448 one-workgroup norm dispatches a step):
//   sum_squares:  up to 8 gradients a dispatch, a workgroup per (tensor, slot), each summing as the
//                 one-tensor pass does; the sums go to partial[tensor · slots + slot]
//   finish:       acc[slot] = Σ partial over the tensors in order, from 0 — the one-tensor passes' order
//   step:         up to 3 tensors a dispatch (4 bindings each), the same per-element arithmetic
// so both forms give the same bits.
// Slots: a parameter may stack several independent models along its first axis (parallel inner loops),
// each with its own gradient norm and learning rate; element i belongs to slot i / slot_size. One model is
// one slot. The per-slot learning-rate terms and the bias corrections are computed on the host in float64,
// as torch computes them in Python.
#include "common.wgsl"

// Scalars rounded to f32 on the host from float64, as torch casts Python floats for f32 tensors.
struct Hyper {
  beta1: f32,
  one_minus_beta1: f32,
  beta2: f32,
  one_minus_beta2: f32,
  eps: f32,
  bias2_sqrt: f32,       // √(1 − β2ᵗ)
  max_norm: f32,         // ≤ 0: no clipping
}

// One element's step for both step forms: (param, m, v) after it, from their values before, the gradient,
// and its slot's Σ g², decay = 1 − lr·wd and neg_step_size = −lr / (1 − β1ᵗ).
fn adam(h: Hyper, x: f32, g_in: f32, m_in: f32, v_in: f32, slot_norm_sq: f32, decay: f32, neg_step_size: f32) -> vec3<f32> {
  var clip = 1.0;
  if (h.max_norm > 0.0) { clip = min(1.0, h.max_norm / (sqrt(slot_norm_sq) + 1e-6)); }
  let grad = g_in * clip;
  // Each line is one torch op, rounded as torch rounds it (no fused multiply-adds).
  let decayed = x * decay;                                            // param.mul_(1 − lr·wd)
  let m_new = m_in * h.beta1 + h.one_minus_beta1 * grad;              // exp_avg.mul_(β1).add_(g, alpha=1 − β1)
  let v_new = v_in * h.beta2 + (h.one_minus_beta2 * grad) * grad;    // exp_avg_sq.mul_(β2).addcmul_(g, g, value=1 − β2)
  let denom = sqrt(v_new) / h.bias2_sqrt + h.eps;                     // (exp_avg_sq.sqrt() / √bc2).add_(eps)
  return vec3<f32>(decayed + (neg_step_size * m_new) / denom, m_new, v_new); // param.addcdiv_(m, denom, value=−step)
}

struct Params {
  n: u32,
  h: Hyper,
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
  let r = adam(p.h, param[p.base + i], g[p.base_g + i], m[p.base_m + i], v[p.base_v + i], norm_sq[slot],
               slot_scalars[2u * slot], slot_scalars[2u * slot + 1u]);
  m[p.base_m + i] = r.y;
  v[p.base_v + i] = r.z;
  param[p.base + i] = r.x;
}
#endif

#if MULTI_SUM
// Gradients g0..g7 (absent ones bound to a placeholder and never read); per tensor t < count:
// t_info[t] = (element base, elements per slot, index of the tensor in the whole list, 0).
struct MultiSum {
  count: u32,
  slots: u32,
  pad0: u32,
  pad1: u32,
  t_info: array<vec4<u32>, 8>,
}
@group(0) @binding(0) var<storage, read> g0: array<f32>;
@group(0) @binding(1) var<storage, read> g1: array<f32>;
@group(0) @binding(2) var<storage, read> g2: array<f32>;
@group(0) @binding(3) var<storage, read> g3: array<f32>;
@group(0) @binding(4) var<storage, read> g4: array<f32>;
@group(0) @binding(5) var<storage, read> g5: array<f32>;
@group(0) @binding(6) var<storage, read> g6: array<f32>;
@group(0) @binding(7) var<storage, read> g7: array<f32>;
@group(0) @binding(8) var<storage, read_write> partial_sums: array<f32>;
@group(0) @binding(9) var<uniform> q: MultiSum;
#include "workgroup.wgsl"

fn grad_of(t: u32, i: u32) -> f32 {
  switch t {
    case 0u: { return g0[i]; }
    case 1u: { return g1[i]; }
    case 2u: { return g2[i]; }
    case 3u: { return g3[i]; }
    case 4u: { return g4[i]; }
    case 5u: { return g5[i]; }
    case 6u: { return g6[i]; }
    default: { return g7[i]; }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, me: Invocation) {
  let lid = me.index;
  let w = linear_workgroup(wid, nwg);
  let t = w / q.slots;
  let slot = w % q.slots;
  if (t >= q.count) { return; }  // uniform across the workgroup: the barriers below stay uniform
  let info = q.t_info[t];
  let base = info.x + slot * info.y;
  var s = 0.0;
  for (var i = lid; i < info.y; i += WG) { let v = grad_of(t, base + i); s += v * v; }
  let total = workgroup_sum(s, me);
  if (lid == 0u) { partial_sums[info.z * q.slots + slot] = total; }
}
#endif

#if MULTI_FINISH
@group(0) @binding(0) var<storage, read> partial_sums: array<f32>;
@group(0) @binding(1) var<storage, read_write> acc: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;  // n: tensors, slot_size: slots

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let slot = linear_workgroup(wid, nwg) * WG + lid;
  if (slot >= p.slot_size) { return; }
  var s = 0.0;
  for (var t = 0u; t < p.n; t++) { s += partial_sums[t * p.slot_size + slot]; }
  acc[slot] = s;
}
#endif

#if MULTI_STEP
// Tensors 0..2 (param, gradient, m, v each; absent ones bound to placeholders): workgroups
// [t_info[t].y, t_info[t + 1].y) update tensor t; t_info[t] = (elements, first workgroup, elements per
// slot, 0), and bases[t] = (param, gradient, m, v) element bases.
struct MultiStep {
  h: Hyper,
  count: u32,
  t_info: array<vec4<u32>, 4>,
  bases: array<vec4<u32>, 3>,
}
@group(0) @binding(0) var<storage, read_write> param0: array<f32>;
@group(0) @binding(1) var<storage, read> grad0: array<f32>;
@group(0) @binding(2) var<storage, read_write> m0: array<f32>;
@group(0) @binding(3) var<storage, read_write> v0: array<f32>;
@group(0) @binding(4) var<storage, read_write> param1: array<f32>;
@group(0) @binding(5) var<storage, read> grad1: array<f32>;
@group(0) @binding(6) var<storage, read_write> m1: array<f32>;
@group(0) @binding(7) var<storage, read_write> v1: array<f32>;
@group(0) @binding(8) var<storage, read_write> param2: array<f32>;
@group(0) @binding(9) var<storage, read> grad2: array<f32>;
@group(0) @binding(10) var<storage, read_write> m2: array<f32>;
@group(0) @binding(11) var<storage, read_write> v2: array<f32>;
@group(0) @binding(12) var<storage, read> norm_sq: array<f32>;
@group(0) @binding(13) var<storage, read> slot_scalars: array<f32>;
@group(0) @binding(14) var<uniform> q: MultiStep;

// One element's step (adam above), with its slot's terms.
fn step_one(x: f32, g_in: f32, m_in: f32, v_in: f32, slot: u32) -> vec3<f32> {
  return adam(q.h, x, g_in, m_in, v_in, norm_sq[slot], slot_scalars[2u * slot], slot_scalars[2u * slot + 1u]);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let w = linear_workgroup(wid, nwg);
  var t = 0u;
  if (w >= q.t_info[1].y && q.count > 1u) { t = 1u; }
  if (w >= q.t_info[2].y && q.count > 2u) { t = 2u; }
  let info = q.t_info[t];
  let i = (w - info.y) * WG + lid;
  if (i >= info.x) { return; }
  let b = q.bases[t] + vec4<u32>(i);
  let slot = i / info.z;
  switch t {
    case 0u: {
      let r = step_one(param0[b.x], grad0[b.y], m0[b.z], v0[b.w], slot);
      m0[b.z] = r.y; v0[b.w] = r.z; param0[b.x] = r.x;
    }
    case 1u: {
      let r = step_one(param1[b.x], grad1[b.y], m1[b.z], v1[b.w], slot);
      m1[b.z] = r.y; v1[b.w] = r.z; param1[b.x] = r.x;
    }
    default: {
      let r = step_one(param2[b.x], grad2[b.y], m2[b.z], v2[b.w], slot);
      m2[b.z] = r.y; v2[b.w] = r.z; param2[b.x] = r.x;
    }
  }
}
#endif
