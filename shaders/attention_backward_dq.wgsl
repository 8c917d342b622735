// Fused attention backward, dQ: recomputes each tile's probabilities from the saved lse (FlashAttention-2)
// instead of reading a stored T×keys matrix:
//   p = exp(s − lse),  dp = dout·v,  ds = p·(dp − δ)·scale,  dq = Σ_j ds_j·k_j
// A workgroup owns BR query rows of one (batch entry, kv head), as the forward does, and walks their keys
// in tiles of BC held in workgroup memory; thread (r, c) scores keys c, c + NC, … of the tile and
// accumulates dq's vec4 columns c, c + NC, … of row r. Defines: D, BR, BC, NC.
#include "common.wgsl"
#include "attention_common.wgsl"
#include "attention_visibility.wgsl"

@group(0) @binding(0) var<storage, read> mask: array<i32>;
@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> dout: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> stats: array<vec2<f32>>;
@group(0) @binding(6) var<storage, read_write> dq: array<vec4<f32>>;
@group(0) @binding(7) var<uniform> p: Params;

const BR: u32 = {{BR}}u;
const BC: u32 = {{BC}}u;
const NC: u32 = {{NC}}u;
const KEYS_PER: u32 = BC / NC;
const COLS_PER: u32 = D4 / NC;

var<workgroup> qs: array<vec4<f32>, BR * D4>;
var<workgroup> dos: array<vec4<f32>, BR * D4>;
var<workgroup> ks: array<vec4<f32>, BC * D4>;
var<workgroup> vs: array<vec4<f32>, BC * D4>;
var<workgroup> dss: array<f32, BR * BC>;

@compute @workgroup_size(BR * NC)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let blocks = (p.rows + BR - 1u) / BR;
  let w = linear_workgroup(wid, nwg);
  let bl = w / (blocks * p.Hkv);
  if (bl >= p.nb) { return; }
  let kv = (w / blocks) % p.Hkv;
  let row0 = (w % blocks) * BR;
  let b = p.b0 + bl;
  let r = lid / NC;
  let c = lid % NC;
  let row = row0 + r;
  let live = row < p.rows;
  let t = p.t0 + row / p.G;
  let g = row % p.G;
  let doc = select(0, query_doc(b, t), live);
  var st = vec2<f32>(0.0);
  if (live) { st = stats[stat_at(b, kv, p.t0 * p.G + row)]; }

  for (var e = lid; e < BR * D4; e += BR * NC) {
    let rr = row0 + e / D4;
    var qx = vec4<f32>(0.0);
    var dx = vec4<f32>(0.0);
    if (rr < p.rows) {
      let at = q_at(bl, p.t0 + rr / p.G, kv, rr % p.G) + e % D4;
      qx = q[p.base_q + at];
      dx = dout[p.base_do + at];
    }
    qs[e] = qx;
    dos[e] = dx;
  }
  let kend = key_end(min(row0 + BR, p.rows) - 1u);

  var acc: array<vec4<f32>, COLS_PER>;
  for (var i = 0u; i < COLS_PER; i++) { acc[i] = vec4<f32>(0.0); }

  for (var j0 = 0u; j0 < kend; j0 += BC) {
    workgroupBarrier();
    for (var e = lid; e < BC * D4; e += BR * NC) {
      let j = j0 + e / D4;
      var kx = vec4<f32>(0.0);
      var vx = vec4<f32>(0.0);
      if (j < kend) {
        let at = kv_at(bl, j, kv) + e % D4;
        kx = k[p.base_k + at];
        vx = v[p.base_v + at];
      }
      ks[e] = kx;
      vs[e] = vx;
    }
    workgroupBarrier();

    for (var i = 0u; i < KEYS_PER; i++) {
      let jj = c + i * NC;
      let j = j0 + jj;
      var ds = 0.0;
      if (live && j < kend && visible(b, t, doc, j)) {
        var s = 0.0;
        var dp = 0.0;
        for (var d = 0u; d < D4; d++) {
          s += dot(qs[r * D4 + d], ks[jj * D4 + d]);
          dp += dot(dos[r * D4 + d], vs[jj * D4 + d]);
        }
        ds = exp(s * p.scale - st.x) * (dp - st.y) * p.scale;
      }
      dss[r * BC + jj] = ds;
    }
    workgroupBarrier();

    let n = min(BC, kend - j0);
    for (var jj = 0u; jj < n; jj++) {
      let ds = dss[r * BC + jj];
      for (var i = 0u; i < COLS_PER; i++) { acc[i] += ds * ks[jj * D4 + c + i * NC]; }
    }
  }

  if (!live) { return; }
  let at = p.base_o + q_at(bl, t, kv, g);
  for (var i = 0u; i < COLS_PER; i++) { dq[at + c + i * NC] = acc[i]; }
}
