// Reductions (f32 accumulation).
//   reduce_last:     x (R, C) -> out (R)        sum or max along the last axis, one workgroup per row
//   broadcast_last:  g (R) -> out (R, C)        out[r, c] = alpha * g[r]   (backward of sum / mean)
//   max_grad:        x, m, g -> out (R, C)      the gradient of amax: g split evenly over the tied maxima
//   sum_middle:      x (A, R, B) -> out (A, B)  sum over the middle axis (gradient of a broadcast operand)
#if SUBGROUP_REDUCE
enable subgroups;
#endif
#include "common.wgsl"

struct Params {
  rows: u32,
  cols: u32,
  base_x: u32,
  base_out: u32,
  alpha: f32,
  base_g: u32,
  base_m: u32,
  inner: u32,       // sum_middle: B
  accumulate: u32,  // sum_middle: add into out instead of overwriting
}

const WG: u32 = 256u;
#include "workgroup.wgsl"

#if REDUCE_LAST
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        me: Invocation) {
  let lid = me.index;
  let row = linear_workgroup(wid, nwg);
  if (row >= p.rows) { return; }
  let start = p.base_x + row * p.cols;
#if MAX
  var acc = -3.402823e38;
  for (var c = lid; c < p.cols; c += WG) { acc = max(acc, x[start + c]); }
#else
  var acc = 0.0;
  for (var c = lid; c < p.cols; c += WG) { acc += x[start + c]; }
#endif
#if MAX
  let total = workgroup_max(acc, me);
  if (lid == 0u) { out[p.base_out + row] = total; }
#else
  let total = workgroup_sum(acc, me);
  if (lid == 0u) { out[p.base_out + row] = total * p.alpha; }
#endif
}
#endif

#if BROADCAST_LAST
@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_workgroup(wid, nwg) * WG + lid;
  if (i >= p.rows * p.cols) { return; }
  out[p.base_out + i] = p.alpha * g[p.base_g + i / p.cols];
}
#endif

#if MAX_GRAD
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> m: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        me: Invocation) {
  let lid = me.index;
  let row = linear_workgroup(wid, nwg);
  if (row >= p.rows) { return; }
  let start = p.base_x + row * p.cols;
  let mx = m[p.base_m + row];
  var ties = 0.0;
  for (var c = lid; c < p.cols; c += WG) { ties += select(0.0, 1.0, x[start + c] == mx); }
  let share = g[p.base_g + row] / workgroup_sum(ties, me);
  for (var c = lid; c < p.cols; c += WG) {
    out[p.base_out + row * p.cols + c] = select(0.0, share, x[start + c] == mx);
  }
}
#endif

#if SUM_MIDDLE
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

// rows = A, cols = R (the reduced axis), inner = B; one thread per output element.
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_workgroup(wid, nwg) * WG + lid;
  if (i >= p.rows * p.inner) { return; }
  let a = i / p.inner;
  let b = i % p.inner;
  var acc = 0.0;
  for (var r = 0u; r < p.cols; r++) { acc += x[p.base_x + (a * p.cols + r) * p.inner + b]; }
  if (p.accumulate == 1u) { acc += out[p.base_out + i]; }
  out[p.base_out + i] = acc;
}
#endif
