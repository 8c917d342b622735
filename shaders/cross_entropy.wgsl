// Cross-entropy of logits (N, V) against integer targets (N), fused with log-softmax, in f32; targets equal
// to −100 are ignored. The loss is the mean over the rows that are not ignored (Hugging Face's convention).
//   rows:     per row r: lse_r = log Σ_v exp(x_rv) (max-shifted), loss_r = lse_r − x_r,target (0 if ignored)
//   mean:     loss = Σ loss_r / max(1, count), count = rows not ignored; one workgroup (a loss with no
//             scored target is 0, not NaN)
//   backward: dx_rv = g/count · (exp(x_rv − lse_r) − [v = target_r]), 0 on ignored rows
// With WEIGHTED, each row has a weight w_r and the loss is Σ w_r·loss_r instead of the mean (several
// independent sequences in one batch, each averaged over its own tokens: w_r = 1 / its scored rows).
#if SUBGROUP_REDUCE
enable subgroups;
#endif
#include "common.wgsl"

struct Params {
  rows: u32,
  vocab: u32,
  base_x: u32,
  base_t: u32,    // targets of this dispatch's first row
  base_row: u32,  // per-row outputs (loss, lse) of this dispatch's first row
  base_dx: u32,
}

const WG: u32 = 64u;
const IGNORE: i32 = -100;
#include "workgroup.wgsl"

#if ROWS
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<i32>;
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;
@group(0) @binding(3) var<storage, read_write> lse: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        me: Invocation) {
  let lid = me.index;
  let r = linear_workgroup(wid, nwg);
  if (r >= p.rows) { return; }
  let xs = p.base_x + r * p.vocab;
  var m = -3.402823e38;
  for (var v = lid; v < p.vocab; v += WG) { m = max(m, x[xs + v]); }
  m = workgroup_max(m, me);
  var s = 0.0;
  for (var v = lid; v < p.vocab; v += WG) { s += exp(x[xs + v] - m); }
  s = workgroup_sum(s, me);
  if (lid == 0u) {
    let l = m + log(s);
    let t = targets[p.base_t + r];
    lse[p.base_row + r] = l;
    // Targets are validated on the host; the clamp only keeps a bad one inside the row.
    loss[p.base_row + r] = select(l - x[xs + min(u32(max(t, 0)), p.vocab - 1u)], 0.0, t == IGNORE);
  }
}
#endif

#if MEAN
@group(0) @binding(0) var<storage, read> loss: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<i32>;
@group(0) @binding(2) var<storage, read_write> mean: array<f32>;
@group(0) @binding(3) var<storage, read_write> count: array<f32>;
#if WEIGHTED
@group(0) @binding(4) var<storage, read> weights: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;
#else
@group(0) @binding(4) var<uniform> p: Params;
#endif

@compute @workgroup_size(WG)
fn main(me: Invocation) {
  let lid = me.index;
  var s = 0.0;
  var n = 0.0;
  for (var r = lid; r < p.rows; r += WG) {
#if WEIGHTED
    s += loss[r] * weights[r];
#else
    s += loss[r];
#endif
    n += select(1.0, 0.0, targets[r] == IGNORE);
  }
  let loss_sum = workgroup_sum(s, me);
  let scored = workgroup_sum(n, me);
  if (lid == 0u) {
#if WEIGHTED
    mean[0] = loss_sum;
    count[0] = 1.0;
#else
    mean[0] = loss_sum / max(scored, 1.0);
    count[0] = scored;
#endif
  }
}
#endif

#if BACKWARD
#if IN_PLACE
// The gradient overwrites the logits (linearCrossEntropy's chunks: one buffer instead of two).
@group(0) @binding(0) var<storage, read_write> x: array<f32>;
#else
@group(0) @binding(0) var<storage, read> x: array<f32>;
#endif
@group(0) @binding(1) var<storage, read> targets: array<i32>;
@group(0) @binding(2) var<storage, read> lse: array<f32>;
@group(0) @binding(3) var<storage, read> count: array<f32>;
@group(0) @binding(4) var<storage, read> g: array<f32>;      // upstream gradient of the mean loss
#if IN_PLACE
#if WEIGHTED
@group(0) @binding(5) var<storage, read> weights: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;
#else
@group(0) @binding(5) var<uniform> p: Params;
#endif
#else
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;
#if WEIGHTED
@group(0) @binding(6) var<storage, read> weights: array<f32>;
@group(0) @binding(7) var<uniform> p: Params;
#else
@group(0) @binding(6) var<uniform> p: Params;
#endif
#endif

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let r = linear_workgroup(wid, nwg);
  if (r >= p.rows) { return; }
  let t = targets[p.base_t + r];
  let xs = p.base_x + r * p.vocab;
  let ds = p.base_dx + r * p.vocab;
#if WEIGHTED
  let row_weight = weights[p.base_t + r];  // count is 1 in weighted mode
#else
  let row_weight = 1.0;
#endif
  let scale = select(g[0] * row_weight / max(count[0], 1.0), 0.0, t == IGNORE);
  let l = lse[p.base_row + r];
  for (var v = lid; v < p.vocab; v += WG) {
    let onehot = select(0.0, 1.0, i32(v) == t);
#if IN_PLACE
    x[xs + v] = scale * (exp(x[xs + v] - l) - onehot);  // each element read, then written, by one invocation
#else
    dx[ds + v] = scale * (exp(x[xs + v] - l) - onehot);
#endif
  }
}
#endif
