// Which keys a query sees, for the fused attention kernels (the includer binds `mask: array<i32>`).
// Query t sits at position past + t. It sees key j when: j ≤ past + t (causal); mask[b, j] ≠ 0
// (mask_mode 1: padding); mask[b, j] = mask[b, past + t] ≠ 0 (mask_mode 2: document ids of packed rows).
// A query that sees no key gets a zero output and zero gradients.

// The document a query belongs to (mask_mode 2), read once per query.
fn query_doc(b: u32, t: u32) -> i32 {
  if (p.mask_mode != 2u) { return 0; }
  return mask[b * p.mask_stride + p.past + t];
}

// Whether query t (document `doc`) of batch entry b sees key j (< keys).
fn visible(b: u32, t: u32, doc: i32, j: u32) -> bool {
  if (p.causal == 1u && j > p.past + t) { return false; }
  if (p.mask_mode == 0u) { return true; }
  let key = mask[b * p.mask_stride + j];
  return key != 0 && (p.mask_mode == 1u || key == doc);
}

// Keys [0, key_end(r)) hold every key that the piece's query rows 0 … r may see.
fn key_end(row_hi: u32) -> u32 {
  if (p.causal == 0u) { return p.keys; }
  return min(p.keys, p.past + p.t0 + row_hi / p.G + 1u);
}
