// LoRA's low-rank branch in one dispatch, for small ranks (r ≤ 4·RQ): for every row g of src,
//   mid[g, j] = mid_scale · Σ_k src[g, k] · U[k, j]                                   (j < r, k < K)
//   dst[g, c] = out_scale · Σ_j mid[g, j] · V[j, c]   (+ dst[g, c] when accumulate)   (c < cols)
// Forward (src/tensor/ops/low-rank.ts): src = x̃, U = Aᵀ (U_T), V = Bᵀ (V_T), mid = h, dst = y (accumulating
// onto x·Wᵀ, out_scale = s): y += s·(x̃·Aᵀ)·Bᵀ, and h is kept for dB.
// Backward: src = G, U = B, V = A, mid = dh (mid_scale = s), dst = dx (accumulating onto G·W) or dx̃:
// dx += (s·G·B)·A, and dh is kept for dA.
//
// The GEMM path takes two dispatches for this; a dispatch costs lavapipe (about 56 µs) more than these
// products do at small shapes. A workgroup is one subgroup of LANES lanes (the adapter's smallest subgroup
// size, as in matmul-subgroup.wgsl: where the driver picks a larger one, the workgroup is one partial
// subgroup, so the kernel is right at any size) and takes R rows of one slot. Every load is a lane's own
// (lavapipe scalarises loads per lane, so a value all lanes read costs LANES loads):
//   1. lane l takes k = 4l..4l+3, then 4l + 4·LANES.. : its quads of the R rows of src and of U, and sums
//      its part of each row's mid; subgroupAdd then gives every lane the rows' whole mid (R·r values,
//      in registers: the rank is small);
//   2. lane l takes the output columns 4l..4l+3, then 4l + 4·LANES..: its columns of V, and each row's
//      outputs from the broadcast mid.
// Rows split into `slots` equal groups of n (stacked adapters); a workgroup's rows are in one slot.
// Loads use clamped indices and masks (select), not branches: the updates stay straight-line code.
// VEC4 (host-checked: K and cols multiples of 4, the bases of src and dst too) reads src and reads and
// writes dst four elements at a time; UV4 (VEC4, r a multiple of 4, U's and V's bases too) reads U and V so.
enable subgroups;
#include "common.wgsl"

struct Params {
  slots: u32,
  n: u32,          // rows per slot
  tiles: u32,      // workgroups per slot: ceil(n / WG)
  k: u32,          // K, the first product's reduction length
  r: u32,
  cols: u32,
  accumulate: u32,
  mid_scale: f32,
  out_scale: f32,
  src_base: u32, src_ld: u32,
  u_base: u32, u_slot: u32, u_ld: u32,   // U_T: U[k, j] stored at j·u_ld + k, else at k·u_ld + j
  v_base: u32, v_slot: u32, v_ld: u32,   // V_T: V[j, c] stored at c·v_ld + j, else at j·v_ld + c
  mid_base: u32,                         // mid (S·n, r), contiguous
  dst_base: u32, dst_ld: u32,
}

const LANES: u32 = {{LANES}}u;
const RQ: u32 = {{RQ}}u;  // mid's values per row in quads: r ≤ 4·RQ
const R: u32 = 8u;        // rows a workgroup

#if VEC4
@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
#else
@group(0) @binding(0) var<storage, read> src: array<f32>;
#endif
#if UV4
@group(0) @binding(1) var<storage, read> u: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> v: array<vec4<f32>>;
#else
@group(0) @binding(1) var<storage, read> u: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
#endif
@group(0) @binding(3) var<storage, read_write> mid: array<f32>;
#if VEC4
@group(0) @binding(4) var<storage, read_write> dst: array<vec4<f32>>;
#else
@group(0) @binding(4) var<storage, read_write> dst: array<f32>;
#endif
@group(0) @binding(5) var<uniform> p: Params;

// Which of the four indices from i on are below `end`.
fn below(i: u32, end: u32) -> vec4<bool> {
  return vec4<u32>(i) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(end);
}

// src[g, k .. k+3], zero past K.
fn src4(g: u32, k: u32) -> vec4<f32> {
  let e = p.src_base + g * p.src_ld + min(k, p.k - 1u);
#if VEC4
  let x = src[e >> 2u];
#else
  let last = p.src_base + g * p.src_ld + p.k - 1u;
  let x = vec4<f32>(src[e], src[min(e + 1u, last)], src[min(e + 2u, last)], src[min(e + 3u, last)]);
#endif
  return select(vec4<f32>(0.0), x, below(k, p.k));
}

#if UV4
// Column t is U[k + t, 4q .. 4q+3]. r, K and cols are multiples of 4, so every quad is whole; k past K
// reads the last quad of U (finite; the caller's src is 0 there).
fn umat(base: u32, k: u32, q: u32) -> mat4x4<f32> {
  let kc = min(k, p.k - 4u);
#if U_T
  let e = base + 4u * q * p.u_ld + kc;  // stored (r, K): row j of Aᵀ's columns is contiguous in k
  return transpose(mat4x4<f32>(u[e >> 2u], u[(e + p.u_ld) >> 2u], u[(e + 2u * p.u_ld) >> 2u], u[(e + 3u * p.u_ld) >> 2u]));
#else
  let e = base + kc * p.u_ld + 4u * q;  // stored (K, r)
  return mat4x4<f32>(u[e >> 2u], u[(e + p.u_ld) >> 2u], u[(e + 2u * p.u_ld) >> 2u], u[(e + 3u * p.u_ld) >> 2u]);
#endif
}

// Column t is V[4q .. 4q+3, c + t] (c past cols reads the last quad: finite, never stored).
fn vmat(base: u32, q: u32, c: u32) -> mat4x4<f32> {
  let cc = min(c, p.cols - 4u);
#if V_T
  let e = base + cc * p.v_ld + 4u * q;  // stored (cols, r)
  return mat4x4<f32>(v[e >> 2u], v[(e + p.v_ld) >> 2u], v[(e + 2u * p.v_ld) >> 2u], v[(e + 3u * p.v_ld) >> 2u]);
#else
  let e = base + 4u * q * p.v_ld + cc;  // stored (r, cols)
  return transpose(mat4x4<f32>(v[e >> 2u], v[(e + p.v_ld) >> 2u], v[(e + 2u * p.v_ld) >> 2u], v[(e + 3u * p.v_ld) >> 2u]));
#endif
}
#else
// U[k, j], any k and j (clamped; the caller masks).
fn u_at(base: u32, k: u32, j: u32) -> f32 {
  let kc = min(k, p.k - 1u);
  let jc = min(j, p.r - 1u);
#if U_T
  return u[base + jc * p.u_ld + kc];
#else
  return u[base + kc * p.u_ld + jc];
#endif
}

// U[k, 4q .. 4q+3], zero past K or r (the padding of the last quad of mid must stay 0).
fn u4(base: u32, k: u32, q: u32) -> vec4<f32> {
  let j = 4u * q;
  let x = vec4<f32>(u_at(base, k, j), u_at(base, k, j + 1u), u_at(base, k, j + 2u), u_at(base, k, j + 3u));
  return select(vec4<f32>(0.0), x, below(j, p.r) & vec4<bool>(k < p.k));
}

fn umat(base: u32, k: u32, q: u32) -> mat4x4<f32> {
  return mat4x4<f32>(u4(base, k, q), u4(base, k + 1u, q), u4(base, k + 2u, q), u4(base, k + 3u, q));
}

// V[4q .. 4q+3, c], zero past r or cols.
fn v4(base: u32, q: u32, c: u32) -> vec4<f32> {
  let cc = min(c, p.cols - 1u);
  var x: vec4<f32>;
  for (var i = 0u; i < 4u; i++) {
    let j = min(4u * q + i, p.r - 1u);
#if V_T
    x[i] = v[base + cc * p.v_ld + j];
#else
    x[i] = v[base + j * p.v_ld + cc];
#endif
  }
  return select(vec4<f32>(0.0), x, below(4u * q, p.r) & vec4<bool>(c < p.cols));
}

fn vmat(base: u32, q: u32, c: u32) -> mat4x4<f32> {
  return mat4x4<f32>(v4(base, q, c), v4(base, q, c + 1u), v4(base, q, c + 2u), v4(base, q, c + 3u));
}
#endif

// dst[g, c .. c+3] = y (+ the old values when accumulating), the columns below cols.
fn store4(g: u32, c: u32, y: vec4<f32>) {
  let e = p.dst_base + g * p.dst_ld + c;
#if VEC4
  var o = y;
  if (p.accumulate != 0u) { o += dst[e >> 2u]; }
  dst[e >> 2u] = o;
#else
  for (var i = 0u; i < 4u; i++) {
    if (c + i < p.cols) {
      var o = y[i];
      if (p.accumulate != 0u) { o += dst[e + i]; }
      dst[e + i] = o;
    }
  }
#endif
}

@compute @workgroup_size(LANES)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(subgroup_invocation_id) lane: u32) {
  let wg = linear_workgroup(wid, nwg);
  let slot = wg / p.tiles;
  if (slot >= p.slots) { return; }  // a padding workgroup of a folded grid: the whole subgroup leaves
  let i0 = (wg % p.tiles) * R;
  let g0 = slot * p.n;
  let ub = p.u_base + slot * p.u_slot;
  let vb = p.v_base + slot * p.v_slot;

  // 1. This lane's part of each row's mid, over its k.
  var m: array<array<vec4<f32>, RQ>, R>;
  for (var k0 = 0u; k0 < p.k; k0 += 4u * LANES) {
    let k = k0 + 4u * lane;
    var xs: array<vec4<f32>, R>;
    for (var row = 0u; row < R; row++) { xs[row] = src4(g0 + min(i0 + row, p.n - 1u), k); }
    for (var q = 0u; q < RQ; q++) {
      // Column t is U[k + t, 4q .. 4q+3], so um · x = Σ_t x[t] · U[k + t, 4q ..].
      let um = umat(ub, k, q);
      for (var row = 0u; row < R; row++) { m[row][q] += um * xs[row]; }
    }
  }
  for (var row = 0u; row < R; row++) {
    for (var q = 0u; q < RQ; q++) { m[row][q] = p.mid_scale * subgroupAdd(m[row][q]); }
  }
  // mid's quad q of each row is stored by lane q % LANES.
  for (var row = 0u; row < R; row++) {
    if (i0 + row >= p.n) { break; }
    for (var q = lane; q < RQ; q += LANES) {
      for (var t = 0u; t < 4u; t++) {
        if (4u * q + t < p.r) { mid[p.mid_base + (g0 + i0 + row) * p.r + 4u * q + t] = m[row][q][t]; }
      }
    }
  }

  // 2. This lane's output columns of each row.
  for (var c0 = 0u; c0 < p.cols; c0 += 4u * LANES) {
    let c = c0 + 4u * lane;
    // Zeroed explicitly: declared without an initialiser, the second pass started from the first's sums
    // (Dawn on lavapipe, 4 lanes).
    var ys = array<vec4<f32>, R>();
    for (var q = 0u; q < RQ; q++) {
      // Column t is V[4q .. 4q+3, c + t], so m · vm = (Σ_j mid[j] · V[j, c + t])_t over this quad of j.
      let vm = vmat(vb, q, c);
      for (var row = 0u; row < R; row++) { ys[row] += m[row][q] * vm; }
    }
    if (c >= p.cols) { continue; }
    for (var row = 0u; row < R; row++) {
      if (i0 + row >= p.n) { break; }
      store4(g0 + i0 + row, c, p.out_scale * ys[row]);
    }
  }
}
