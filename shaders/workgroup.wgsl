// Reductions across one workgroup, for kernels that give a row to a workgroup. The including shader
// declares `const WG: u32` (its workgroup size, a power of two) and takes `me: Invocation` in its entry
// point. Every invocation of the workgroup must call these (they contain barriers), and each returns the
// same value to all. Two forms, chosen per adapter (src/tensor/ops/launch.ts, `reduction()`):
//   default          a tree over workgroup memory: log2(WG) steps with a barrier each. CPU adapters (where
//                    subgroup operations cost more), for kernels without a ROW form (below).
//   SUBGROUP_REDUCE  each subgroup reduces in registers (subgroupAdd / subgroupMax), its first lane stores
//                    the result, and every invocation combines the workgroup's WG / (subgroup size) results
//                    in subgroup order: one barrier, at any subgroup size. GPUs. The including shader must
//                    `enable subgroups;` (WGSL's subgroup_id builtin numbers the subgroups).
struct Invocation {
  @builtin(local_invocation_index) index: u32,
#if SUBGROUP_REDUCE
  @builtin(subgroup_id) subgroup: u32,
  @builtin(subgroup_invocation_id) lane: u32,
  @builtin(num_subgroups) subgroups: u32,
#endif
}

var<workgroup> partial: array<f32, WG>;

#if SUBGROUP_REDUCE
fn workgroup_sum(v: f32, me: Invocation) -> f32 {
  let s = subgroupAdd(v);
  if (me.lane == 0u) { partial[me.subgroup] = s; }
  workgroupBarrier();
  var total = 0.0;
  for (var i = 0u; i < me.subgroups; i++) { total += partial[i]; }
  workgroupBarrier();
  return total;
}

fn workgroup_max(v: f32, me: Invocation) -> f32 {
  let s = subgroupMax(v);
  if (me.lane == 0u) { partial[me.subgroup] = s; }
  workgroupBarrier();
  var m = partial[0];
  for (var i = 1u; i < me.subgroups; i++) { m = max(m, partial[i]); }
  workgroupBarrier();
  return m;
}
#else
fn workgroup_sum(v: f32, me: Invocation) -> f32 {
  let lid = me.index;
  partial[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { partial[lid] += partial[lid + s]; }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier();
  return total;
}

fn workgroup_max(v: f32, me: Invocation) -> f32 {
  let lid = me.index;
  partial[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { partial[lid] = max(partial[lid], partial[lid + s]); }
    workgroupBarrier();
  }
  let m = partial[0];
  workgroupBarrier();
  return m;
}
#endif

// ROW, the row form of a kernel (CPU adapters): one invocation takes a whole row, ROWS rows a workgroup, with
// no barrier (lavapipe runs a workgroup's invocations as one SIMD loop, and a barrier per tree level costs
// most of a small row kernel there). To give the tree form's bits, the row form keeps the tree's order: it
// makes the same WG strided partial values (parts[l] from elements l, l + WG, …) and combines them with
// tree_sum / tree_max, level by level as the tree does.
#if ROW
const ROWS: u32 = 64u;

fn tree_sum(parts: ptr<function, array<f32, WG>>) -> f32 {
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    for (var i = 0u; i < s; i++) { (*parts)[i] += (*parts)[i + s]; }
  }
  return (*parts)[0];
}

fn tree_max(parts: ptr<function, array<f32, WG>>) -> f32 {
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    for (var i = 0u; i < s; i++) { (*parts)[i] = max((*parts)[i], (*parts)[i + s]); }
  }
  return (*parts)[0];
}
#endif
