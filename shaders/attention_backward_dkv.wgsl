// Fused attention backward, dK and dV: a workgroup owns BK keys of one (batch entry, kv head), holds their
// keys and values in workgroup memory, and walks the query rows that may see them (every head of the kv
// group: rows t·G + g) in tiles of BQ, recomputing the probabilities from the saved lse:
//   p = exp(s − lse),  dp = dout·v,  ds = p·(dp − δ)·scale,  dv = Σ_rows p·dout,  dk = Σ_rows ds·q
// so dK and dV are summed over the G query heads sharing the kv head with no atomics and no second pass.
// Thread (j, c) of the BK × NC workgroup: key j; rows c, c + NC, … of each tile for p and ds, and the
// vec4 columns c, c + NC, … of dk and dv. Defines: D, BK, BQ, NC (NC divides BQ and D/4).
#include "common.wgsl"
#include "attention_common.wgsl"
#include "attention_visibility.wgsl"

@group(0) @binding(0) var<storage, read> mask: array<i32>;
@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> dout: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> stats: array<vec2<f32>>;
@group(0) @binding(6) var<storage, read_write> dk: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> dv: array<vec4<f32>>;
@group(0) @binding(8) var<uniform> p: Params;

const BK: u32 = {{BK}}u;
const BQ: u32 = {{BQ}}u;
const NC: u32 = {{NC}}u;
const ROWS_PER: u32 = BQ / NC;
const COLS_PER: u32 = D4 / NC;

var<workgroup> ks: array<vec4<f32>, BK * D4>;
var<workgroup> vs: array<vec4<f32>, BK * D4>;
var<workgroup> qs: array<vec4<f32>, BQ * D4>;
var<workgroup> dos: array<vec4<f32>, BQ * D4>;
var<workgroup> sts: array<vec2<f32>, BQ>;
var<workgroup> docs: array<i32, BQ>;
var<workgroup> ps: array<f32, BQ * BK>;
var<workgroup> dss: array<f32, BQ * BK>;

@compute @workgroup_size(BK * NC)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let blocks = (p.kcount + BK - 1u) / BK;
  let w = linear_workgroup(wid, nwg);
  let bl = w / (blocks * p.Hkv);
  if (bl >= p.nb) { return; }
  let kv = (w / blocks) % p.Hkv;
  let key0 = p.j0 + (w % blocks) * BK; // first key of the block
  let b = p.b0 + bl;
  let jr = lid / NC;
  let c = lid % NC;
  let j = key0 + jr;
  let live = j < p.j0 + p.kcount;

  for (var e = lid; e < BK * D4; e += BK * NC) {
    let jj = key0 + e / D4;
    var kx = vec4<f32>(0.0);
    var vx = vec4<f32>(0.0);
    if (jj < p.j0 + p.kcount) {
      let at = kv_at(bl, jj, kv) + e % D4;
      kx = k[p.base_k + at];
      vx = v[p.base_v + at];
    }
    ks[e] = kx;
    vs[e] = vx;
  }
  // Causal: query t sees key j when t ≥ j − past, so rows before the block's first visible query are skipped.
  var first = 0u;
  if (p.causal == 1u && key0 > p.past) { first = ((key0 - p.past) * p.G) / BQ * BQ; }

  var dk_acc: array<vec4<f32>, COLS_PER>;
  var dv_acc: array<vec4<f32>, COLS_PER>;
  for (var i = 0u; i < COLS_PER; i++) {
    dk_acc[i] = vec4<f32>(0.0);
    dv_acc[i] = vec4<f32>(0.0);
  }

  for (var i0 = first; i0 < p.rows; i0 += BQ) {
    workgroupBarrier();
    for (var e = lid; e < BQ * D4; e += BK * NC) {
      let rr = i0 + e / D4;
      var qx = vec4<f32>(0.0);
      var dx = vec4<f32>(0.0);
      if (rr < p.rows) {
        let at = q_at(bl, rr / p.G, kv, rr % p.G) + e % D4;
        qx = q[p.base_q + at];
        dx = dout[p.base_do + at];
      }
      qs[e] = qx;
      dos[e] = dx;
    }
    for (var e = lid; e < BQ; e += BK * NC) {
      let rr = i0 + e;
      var st = vec2<f32>(0.0);
      var doc = 0;
      if (rr < p.rows) {
        st = stats[stat_at(b, kv, rr)];
        doc = query_doc(b, rr / p.G);
      }
      sts[e] = st;
      docs[e] = doc;
    }
    workgroupBarrier();

    for (var i = 0u; i < ROWS_PER; i++) {
      let ii = c + i * NC;
      let rr = i0 + ii;
      var pr = 0.0;
      var ds = 0.0;
      if (live && rr < p.rows && visible(b, rr / p.G, docs[ii], j)) {
        var s = 0.0;
        var dp = 0.0;
        for (var d = 0u; d < D4; d++) {
          s += dot(qs[ii * D4 + d], ks[jr * D4 + d]);
          dp += dot(dos[ii * D4 + d], vs[jr * D4 + d]);
        }
        pr = exp(s * p.scale - sts[ii].x);
        ds = pr * (dp - sts[ii].y) * p.scale;
      }
      ps[ii * BK + jr] = pr;
      dss[ii * BK + jr] = ds;
    }
    workgroupBarrier();

    let n = min(BQ, p.rows - i0);
    for (var ii = 0u; ii < n; ii++) {
      let pr = ps[ii * BK + jr];
      let ds = dss[ii * BK + jr];
      for (var i = 0u; i < COLS_PER; i++) {
        let col = ii * D4 + c + i * NC;
        dv_acc[i] += pr * dos[col];
        dk_acc[i] += ds * qs[col];
      }
    }
  }

  if (!live) { return; }
  let at = kv_at(bl, j, kv) + c;
  for (var i = 0u; i < COLS_PER; i++) {
    dk[p.base_o + at + i * NC] = dk_acc[i];
    dv[p.base_dv + at + i * NC] = dv_acc[i];
  }
}
