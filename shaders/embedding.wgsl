// Embedding lookup and its backward.
//   gather:  table (V, C) in f32 / bf16 / f16 (TABLE_DTYPE), ids i32 (N) -> out (N, C) f32
//   scatter: dy (N, C), ids -> dtable (V, C) += Σ_{n: ids[n] = v} dy[n]   (one thread per column: no races,
//            and the sum runs in token order, so it is deterministic)
// A table larger than one binding is processed in windows of rows [v0, v0 + rows); each dispatch handles
// the ids that fall in its window.
#include "common.wgsl"

struct Params {
  tokens: u32,    // N
  cols: u32,      // C
  v0: u32,        // first table row in this window
  rows: u32,      // table rows in this window
  base_table: u32,
  base_ids: u32,
  base_out: u32,
}

#if GATHER
const WG: u32 = 256u;
#if TABLE_F32
@group(0) @binding(0) var<storage, read> table: array<f32>;
fn table_at(i: u32) -> f32 { return table[p.base_table + i]; }
#else
@group(0) @binding(0) var<storage, read> table: array<u32>;
fn table_at(i: u32) -> f32 { let j = p.base_table + i; return unpack_{{TABLE_DTYPE}}(table[j >> 1u], j & 1u); }
#endif
@group(0) @binding(1) var<storage, read> ids: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_workgroup(wid, nwg) * WG + lid;
  if (i >= p.tokens * p.cols) { return; }
  let n = i / p.cols;
  let c = i % p.cols;
  let row = u32(ids[p.base_ids + n]) - p.v0;  // wraps to a huge value below the window
  if (row < p.rows) { out[p.base_out + i] = table_at(row * p.cols + c); }
}
#endif

#if SCATTER
const WG: u32 = 64u;  // columns a workgroup
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> ids: array<i32>;
@group(0) @binding(2) var<storage, read_write> dtable: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let c = linear_workgroup(wid, nwg) * WG + lid;
  if (c >= p.cols) { return; }
  for (var n = 0u; n < p.tokens; n++) {
    let row = u32(ids[p.base_ids + n]) - p.v0;
    if (row < p.rows) {
      let j = p.base_table + row * p.cols + c;
      dtable[j] += dy[p.base_out + n * p.cols + c];
    }
  }
}
#endif
