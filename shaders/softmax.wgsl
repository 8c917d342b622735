// Softmax along the last axis of attention-shaped scores, with the 1/√D scale folded in and two optional
// masks, in f32. x is (R, Tk) with R = B·H·Tq; row r is query t = r % Tq of batch b = r / (H·Tq).
//   causal:   query t sits at key position past + t and sees keys j ≤ past + t (KV-cache decoding has past > 0)
//   key mask: i32 (B, ≥ Tk) rows of mask_stride, 0 marks padding keys that no query may see (a KV cache's
//             mask has a row per batch entry as long as the cache)
//   segments: the key mask holds document ids instead (packed pretraining rows): a query sees only keys of
//             its own document (has_mask = 2); 0 is still padding
// A row with every key masked (a padding query) gets zeros, not NaN.
//   forward:  y = softmax(scale·x + mask)
//   backward: dx = scale · y ⊙ (dy − Σ_j y_j dy_j)
// A workgroup per row, or (ROW, CPU adapters) an invocation per row in the tree's order: the same bits
// (workgroup.wgsl).
#if SUBGROUP_REDUCE
enable subgroups;
#endif
#include "common.wgsl"

struct Params {
  rows: u32,
  cols: u32,       // Tk
  tq: u32,
  heads: u32,
  past: u32,
  causal: u32,
  has_mask: u32,   // 0: none, 1: key mask, 2: document segments
  scale: f32,
  base_x: u32,
  base_y: u32,
  base_g: u32,
  first_row: u32,  // global row index of this dispatch's row 0 (rows map to b and t)
  mask_stride: u32,
}

const WG: u32 = 64u;
#include "workgroup.wgsl"

#if FORWARD
@group(0) @binding(0) var<storage, read> mask: array<i32>;

// Whether query row `row` (global) may see key j.
fn visible(row: u32, j: u32) -> bool {
  let t = row % p.tq;
  let b = row / (p.heads * p.tq);
  if (p.causal == 1u && j > p.past + t) { return false; }
  if (p.has_mask >= 1u) {
    let key = mask[b * p.mask_stride + j];
    if (key == 0) { return false; }
    if (p.has_mask == 2u && key != mask[b * p.mask_stride + p.past + t]) { return false; }
  }
  return true;
}

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

#if ROW
@compute @workgroup_size(ROWS)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let r = linear_workgroup(wid, nwg) * ROWS + lid;
  if (r >= p.rows) { return; }
  let row = p.first_row + r;
  let xs = p.base_x + r * p.cols;
  let ys = p.base_y + r * p.cols;
  var parts: array<f32, WG>;
  for (var l = 0u; l < WG; l++) {
    var m = -3.402823e38;
    for (var j = l; j < p.cols; j += WG) {
      if (visible(row, j)) { m = max(m, p.scale * x[xs + j]); }
    }
    parts[l] = m;
  }
  let m = tree_max(&parts);
  for (var l = 0u; l < WG; l++) {
    var s = 0.0;
    for (var j = l; j < p.cols; j += WG) {
      if (visible(row, j)) { s += exp(p.scale * x[xs + j] - m); }
    }
    parts[l] = s;
  }
  let s = tree_sum(&parts);
  let inv = select(0.0, 1.0 / s, s > 0.0);
  for (var j = 0u; j < p.cols; j++) {
    y[ys + j] = select(0.0, exp(p.scale * x[xs + j] - m) * inv, visible(row, j));
  }
}
#else
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        me: Invocation) {
  let lid = me.index;
  let r = linear_workgroup(wid, nwg);
  if (r >= p.rows) { return; }
  let row = p.first_row + r;
  let xs = p.base_x + r * p.cols;
  let ys = p.base_y + r * p.cols;
  var m = -3.402823e38;
  for (var j = lid; j < p.cols; j += WG) {
    if (visible(row, j)) { m = max(m, p.scale * x[xs + j]); }
  }
  m = workgroup_max(m, me);
  var s = 0.0;
  for (var j = lid; j < p.cols; j += WG) {
    if (visible(row, j)) { s += exp(p.scale * x[xs + j] - m); }
  }
  s = workgroup_sum(s, me);
  let inv = select(0.0, 1.0 / s, s > 0.0);
  for (var j = lid; j < p.cols; j += WG) {
    y[ys + j] = select(0.0, exp(p.scale * x[xs + j] - m) * inv, visible(row, j));
  }
}
#endif
#endif

#if BACKWARD
@group(0) @binding(0) var<storage, read> y: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

#if ROW
@compute @workgroup_size(ROWS)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let r = linear_workgroup(wid, nwg) * ROWS + lid;
  if (r >= p.rows) { return; }
  let ys = p.base_y + r * p.cols;
  let gs = p.base_g + r * p.cols;
  var parts: array<f32, WG>;
  for (var l = 0u; l < WG; l++) {
    var d = 0.0;
    for (var j = l; j < p.cols; j += WG) { d += y[ys + j] * dy[gs + j]; }
    parts[l] = d;
  }
  let d = tree_sum(&parts);
  let xs = p.base_x + r * p.cols;
  for (var j = 0u; j < p.cols; j++) { dx[xs + j] = p.scale * y[ys + j] * (dy[gs + j] - d); }
}
#else
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        me: Invocation) {
  let lid = me.index;
  let r = linear_workgroup(wid, nwg);
  if (r >= p.rows) { return; }
  let ys = p.base_y + r * p.cols;
  let gs = p.base_g + r * p.cols;
  var d = 0.0;
  for (var j = lid; j < p.cols; j += WG) { d += y[ys + j] * dy[gs + j]; }
  d = workgroup_sum(d, me);
  let xs = p.base_x + r * p.cols;
  for (var j = lid; j < p.cols; j += WG) { dx[xs + j] = p.scale * y[ys + j] * (dy[gs + j] - d); }
}
#endif
#endif
