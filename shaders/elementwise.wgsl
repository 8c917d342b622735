// Elementwise ops over f32 tensors. The host picks the function by name ({{FN}}) from the op_* below,
// and BROADCAST for binary ops whose operands are broadcast (numpy rules, rank ≤ 4 after padding).
// Every op's backward is built from these same functions (see src/tensor/ops/elementwise.ts).
// VEC4 (host-checked: the element count and every base a multiple of 4; not with BROADCAST): each
// invocation takes four elements through vec4 loads and stores, and n and the bases count vec4s. Each
// element takes the same f32 steps as in the scalar form; on lavapipe, where every load is scalarised
// with a bounds check, the vec4 form is about 2× faster on large tensors (65,536 adds: 270–325 against
// 485–550 µs; 524,288: 1.8–1.9 against 4.0–4.4 ms).
#include "common.wgsl"

struct Params {
  n: u32,          // elements in this dispatch
  base_a: u32,     // element offset of a (and of out, for in-place ops) in its binding
  base_b: u32,
  base_out: u32,
  alpha: f32,
  // Broadcasting: output dims 1..3 (dim 0 is implied) and each operand's element strides.
  d1: u32, d2: u32, d3: u32,
  sa0: u32, sa1: u32, sa2: u32, sa3: u32,
  sb0: u32, sb1: u32, sb2: u32, sb3: u32,
  first: u32,      // flat output index of element 0 of this dispatch (chunked dispatches)
}

const WG: u32 = 256u;

// Unary: y = f(x, alpha)
fn op_copy(x: f32, alpha: f32) -> f32 { return x; }
fn op_scale(x: f32, alpha: f32) -> f32 { return x * alpha; }
fn op_sigmoid(x: f32, alpha: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }
fn op_silu(x: f32, alpha: f32) -> f32 { return x / (1.0 + exp(-x)); }

// Binary: y = f(a, b, alpha)
fn op_add(a: f32, b: f32, alpha: f32) -> f32 { return a + b; }
fn op_sub(a: f32, b: f32, alpha: f32) -> f32 { return a - b; }
fn op_mul(a: f32, b: f32, alpha: f32) -> f32 { return a * b; }
fn op_div(a: f32, b: f32, alpha: f32) -> f32 { return a / b; }
fn op_axpy(a: f32, b: f32, alpha: f32) -> f32 { return a + alpha * b; }
// d silu(x) / dx · dy, with x = a and dy = b: σ(x)·(1 + x·(1 − σ(x)))
fn op_silu_grad(a: f32, b: f32, alpha: f32) -> f32 {
  let s = 1.0 / (1.0 + exp(-a));
  return b * s * (1.0 + a * (1.0 - s));
}
// silu(a)·b: SwiGLU's product of gate a and up b (also its d/d up, with b = dy)
fn op_swiglu(a: f32, b: f32, alpha: f32) -> f32 { return a / (1.0 + exp(-a)) * b; }
// op_silu_grad with the operands swapped, for in place: a = dy (overwritten), b = x
fn op_silu_grad_swapped(a: f32, b: f32, alpha: f32) -> f32 { return op_silu_grad(b, a, alpha); }
// d σ(x) / dx · dy = σ(x)(1 − σ(x))·dy
fn op_sigmoid_grad(a: f32, b: f32, alpha: f32) -> f32 {
  let s = 1.0 / (1.0 + exp(-a));
  return b * s * (1.0 - s);
}

#if VEC4
alias V = vec4<f32>;
#else
alias V = f32;
#endif

// {{FN}} on each element of a V.
#if UNARY
#if VEC4
fn apply(x: V, alpha: f32) -> V { return V({{FN}}(x.x, alpha), {{FN}}(x.y, alpha), {{FN}}(x.z, alpha), {{FN}}(x.w, alpha)); }
#else
fn apply(x: V, alpha: f32) -> V { return {{FN}}(x, alpha); }
#endif
#elif FILL
#else
#if VEC4
fn apply(a: V, b: V, alpha: f32) -> V { return V({{FN}}(a.x, b.x, alpha), {{FN}}(a.y, b.y, alpha), {{FN}}(a.z, b.z, alpha), {{FN}}(a.w, b.w, alpha)); }
#else
fn apply(a: V, b: V, alpha: f32) -> V { return {{FN}}(a, b, alpha); }
#endif
#endif

#if UNARY
@group(0) @binding(0) var<storage, read> a: array<V>;
@group(0) @binding(1) var<storage, read_write> out: array<V>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_workgroup(wid, nwg) * WG + lid;
  if (i >= p.n) { return; }
  out[p.base_out + i] = apply(a[p.base_a + i], p.alpha);
}
#endif

#if FILL
@group(0) @binding(0) var<storage, read_write> out: array<V>;
@group(0) @binding(1) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_workgroup(wid, nwg) * WG + lid;
  if (i >= p.n) { return; }
  out[p.base_out + i] = V(p.alpha);
}
#endif

#if BINARY
@group(0) @binding(0) var<storage, read> a: array<V>;
@group(0) @binding(1) var<storage, read> b: array<V>;
@group(0) @binding(2) var<storage, read_write> out: array<V>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_workgroup(wid, nwg) * WG + lid;
  if (i >= p.n) { return; }
#if BROADCAST
  let flat = p.first + i;
  let i3 = flat % p.d3;
  let i2 = (flat / p.d3) % p.d2;
  let i1 = (flat / (p.d3 * p.d2)) % p.d1;
  let i0 = flat / (p.d3 * p.d2 * p.d1);
  let ia = i0 * p.sa0 + i1 * p.sa1 + i2 * p.sa2 + i3 * p.sa3;
  let ib = i0 * p.sb0 + i1 * p.sb1 + i2 * p.sb2 + i3 * p.sb3;
  out[p.base_out + i] = {{FN}}(a[p.base_a + ia], b[p.base_b + ib], p.alpha);
#else
  out[p.base_out + i] = apply(a[p.base_a + i], b[p.base_b + i], p.alpha);
#endif
}
#endif

#if INPLACE
// a = f(a, b, alpha), for accumulation (a += b) without a temporary.
@group(0) @binding(0) var<storage, read_write> a: array<V>;
@group(0) @binding(1) var<storage, read> b: array<V>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_workgroup(wid, nwg) * WG + lid;
  if (i >= p.n) { return; }
  a[p.base_a + i] = apply(a[p.base_a + i], b[p.base_b + i], p.alpha);
}
#endif
