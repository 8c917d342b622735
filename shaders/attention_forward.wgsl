// Fused attention forward (FlashAttention-2's online softmax): out = softmax(scale·Q·Kᵀ + masks)·V
// without a T×keys score matrix. A workgroup owns BR query rows of one (batch entry, kv head) and walks
// the keys they may see in tiles of BC, holding the tile's keys and values in workgroup memory. For each
// row it keeps the running max m, the running sum l of exp(s − m) and the unnormalised output o; a new
// tile rescales them by exp(m − m_new). It also writes lse = m + log l per row, all the backward keeps.
//
// Thread (r, c) of the BR × NC workgroup: query row r; the tile's keys c, c + NC, … for the scores, and
// the output's vec4 columns c, c + NC, … for o (f32 throughout).
// Defines: D (head size, a multiple of 4), BR, BC, NC (NC divides BC and D/4).
#include "common.wgsl"
#include "attention_common.wgsl"
#include "attention_visibility.wgsl"

@group(0) @binding(0) var<storage, read> mask: array<i32>;
@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;

const BR: u32 = {{BR}}u;
const BC: u32 = {{BC}}u;
const NC: u32 = {{NC}}u;
const KEYS_PER: u32 = BC / NC;
const COLS_PER: u32 = D4 / NC;

var<workgroup> qs: array<vec4<f32>, BR * D4>;
var<workgroup> ks: array<vec4<f32>, BC * D4>;
var<workgroup> vs: array<vec4<f32>, BC * D4>;
var<workgroup> ps: array<f32, BR * BC>;      // the tile's probabilities exp(s − m_new)
var<workgroup> tile_max: array<f32, BR * NC>; // each thread's max over its keys of the tile

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

  for (var e = lid; e < BR * D4; e += BR * NC) {
    let rr = row0 + e / D4;
    var x = vec4<f32>(0.0);
    if (rr < p.rows) { x = q[p.base_q + q_at(bl, p.t0 + rr / p.G, kv, rr % p.G) + e % D4]; }
    qs[e] = x;
  }
  let kend = key_end(min(row0 + BR, p.rows) - 1u);

  var m = NEG;
  var l = 0.0;
  var o: array<vec4<f32>, COLS_PER>;
  for (var i = 0u; i < COLS_PER; i++) { o[i] = vec4<f32>(0.0); }

  for (var j0 = 0u; j0 < kend; j0 += BC) {
    workgroupBarrier(); // the previous tile is no longer read (and qs is written, on the first pass)
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

    // Scores of this thread's keys, and their max.
    var s: array<f32, KEYS_PER>;
    var mine = NEG;
    for (var i = 0u; i < KEYS_PER; i++) {
      let jj = c + i * NC;
      let j = j0 + jj;
      var x = NEG;
      if (live && j < kend && visible(b, t, doc, j)) {
        var acc = 0.0;
        for (var d = 0u; d < D4; d++) { acc += dot(qs[r * D4 + d], ks[jj * D4 + d]); }
        x = acc * p.scale;
      }
      s[i] = x;
      mine = max(mine, x);
    }
    tile_max[r * NC + c] = mine;
    workgroupBarrier();
    var m_new = m;
    for (var cc = 0u; cc < NC; cc++) { m_new = max(m_new, tile_max[r * NC + cc]); }
    for (var i = 0u; i < KEYS_PER; i++) {
      ps[r * BC + c + i * NC] = select(0.0, exp(s[i] - m_new), s[i] > NEG);
    }
    workgroupBarrier();

    // Rescale what the earlier tiles gave, then add this tile's keys.
    let alpha = exp(m - m_new);
    l *= alpha;
    for (var i = 0u; i < COLS_PER; i++) { o[i] *= alpha; }
    let n = min(BC, kend - j0);
    for (var jj = 0u; jj < n; jj++) {
      let pj = ps[r * BC + jj];
      l += pj;
      for (var i = 0u; i < COLS_PER; i++) { o[i] += pj * vs[jj * D4 + c + i * NC]; }
    }
    m = m_new;
  }

  if (!live) { return; }
  let inv = select(0.0, 1.0 / l, l > 0.0);
  let at = p.base_o + q_at(bl, t, kv, g);
  for (var i = 0u; i < COLS_PER; i++) { out[at + c + i * NC] = o[i] * inv; }
  if (c == 0u) { lse[stat_at(b, kv, p.t0 * p.G + row)] = select(NEG, m + log(l), l > 0.0); }
}
