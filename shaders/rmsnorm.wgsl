// RMSNorm as Hugging Face's LlamaRMSNorm computes it, in f32:  y = w ⊙ (x · rstd),  rstd = 1/√(mean(x²) + eps).
//   forward:   x (N, C), w (C) -> y (N, C), rstd (N)          one workgroup per row (ROW: one invocation)
//   backward:  dy, x, w, rstd -> dx (N, C)                    dx = rstd·u − (rstd³/C)·x·Σ(u⊙x),  u = w⊙dy
//   weight_grad: dy, x, rstd -> dw (C)                        dw[c] = Σ_n dy[n,c]·x[n,c]·rstd[n], one thread per c
// The weight may be stored in bf16 / f16 (W_DTYPE), widened here.
// ROW (CPU adapters): forward and backward give each row to one invocation (workgroup.wgsl's row form),
// summing in the tree's order, so they give the workgroup tree's bits. On lavapipe 128 rows of 64 took
// 560 µs as a workgroup each, 70 µs this way (one run).
#if SUBGROUP_REDUCE
enable subgroups;
#endif
#include "common.wgsl"

struct Params {
  rows: u32,
  cols: u32,
  eps: f32,
  base_x: u32,   // element offsets of this dispatch's rows in their bindings
  base_y: u32,   // y (forward), dy (backward, weight_grad)
  base_r: u32,   // rstd
  base_dx: u32,  // dx (backward), dw (weight_grad)
  accumulate: u32,
}

const WG: u32 = 64u;
#include "workgroup.wgsl"

#if !WEIGHT_GRAD
#if W_F32
@group(0) @binding(0) var<storage, read> w: array<f32>;
fn weight(c: u32) -> f32 { return w[c]; }
#else
@group(0) @binding(0) var<storage, read> w: array<u32>;
fn weight(c: u32) -> f32 { return unpack_{{W_DTYPE}}(w[c >> 1u], c & 1u); }
#endif
#endif

#if FORWARD
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> rstd: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

#if ROW
@compute @workgroup_size(ROWS)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = linear_workgroup(wid, nwg) * ROWS + lid;
  if (row >= p.rows) { return; }
  let xs = p.base_x + row * p.cols;
  var parts: array<f32, WG>;
  for (var l = 0u; l < WG; l++) {
    var ss = 0.0;
    for (var c = l; c < p.cols; c += WG) { let v = x[xs + c]; ss += v * v; }
    parts[l] = ss;
  }
  let r = inverseSqrt(tree_sum(&parts) / f32(p.cols) + p.eps);
  let ys = p.base_y + row * p.cols;
  for (var c = 0u; c < p.cols; c++) { y[ys + c] = weight(c) * (x[xs + c] * r); }
  rstd[p.base_r + row] = r;
}
#else
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        me: Invocation) {
  let lid = me.index;
  let row = linear_workgroup(wid, nwg);
  if (row >= p.rows) { return; }
  let xs = p.base_x + row * p.cols;
  var ss = 0.0;
  for (var c = lid; c < p.cols; c += WG) { let v = x[xs + c]; ss += v * v; }
  let r = inverseSqrt(workgroup_sum(ss, me) / f32(p.cols) + p.eps);
  let ys = p.base_y + row * p.cols;
  for (var c = lid; c < p.cols; c += WG) { y[ys + c] = weight(c) * (x[xs + c] * r); }
  if (lid == 0u) { rstd[p.base_r + row] = r; }
}
#endif
#endif

#if BACKWARD
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> rstd: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

#if ROW
@compute @workgroup_size(ROWS)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = linear_workgroup(wid, nwg) * ROWS + lid;
  if (row >= p.rows) { return; }
  let xs = p.base_x + row * p.cols;
  let gs = p.base_y + row * p.cols;
  var parts: array<f32, WG>;
  for (var l = 0u; l < WG; l++) {
    var dot = 0.0;
    for (var c = l; c < p.cols; c += WG) { dot += weight(c) * dy[gs + c] * x[xs + c]; }
    parts[l] = dot;
  }
  let r = rstd[p.base_r + row];
  let k = r * r * r * tree_sum(&parts) / f32(p.cols);
  let ds = p.base_dx + row * p.cols;
  for (var c = 0u; c < p.cols; c++) {
    var g = r * weight(c) * dy[gs + c] - k * x[xs + c];
    if (p.accumulate == 1u) { g += dx[ds + c]; }
    dx[ds + c] = g;
  }
}
#else
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        me: Invocation) {
  let lid = me.index;
  let row = linear_workgroup(wid, nwg);
  if (row >= p.rows) { return; }
  let xs = p.base_x + row * p.cols;
  let gs = p.base_y + row * p.cols;
  var dot = 0.0;
  for (var c = lid; c < p.cols; c += WG) { dot += weight(c) * dy[gs + c] * x[xs + c]; }
  let r = rstd[p.base_r + row];
  let k = r * r * r * workgroup_sum(dot, me) / f32(p.cols);
  let ds = p.base_dx + row * p.cols;
  for (var c = lid; c < p.cols; c += WG) {
    var g = r * weight(c) * dy[gs + c] - k * x[xs + c];
    if (p.accumulate == 1u) { g += dx[ds + c]; }
    dx[ds + c] = g;
  }
}
#endif
#endif

#if WEIGHT_GRAD
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> rstd: array<f32>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let c = linear_workgroup(wid, nwg) * WG + lid;
  if (c >= p.cols) { return; }
  var acc = 0.0;
  for (var n = 0u; n < p.rows; n++) {
    acc += dy[p.base_y + n * p.cols + c] * x[p.base_x + n * p.cols + c] * rstd[p.base_r + n];
  }
  if (p.accumulate == 1u) { acc += dw[p.base_dx + c]; }
  dw[p.base_dx + c] = acc;
}
#endif
