// What the fused attention kernels share: their parameters, where a query, key or statistic lives, and
// which statistic belongs to which row. Included by attention_forward.wgsl and attention_backward_*.wgsl
// (which keys a query sees: attention_visibility.wgsl).
//
// Layouts (f32, read as vec4: D is a multiple of 4):
//   q, out, dout, dq (B, T, H·D)       — head h = kv·G + g
//   k, v, dk, dv     (B, S, Hkv·D)     — the first `keys` rows of each batch entry are attended
//   lse              (B, Hkv, T·G)     — per query row; stats (B, Hkv, T·G) vec2: (lse, δ = dout·out)
// The kernels see the G query heads that share a key/value head as one set of T·G "rows", row = t·G + g,
// so one workgroup's key/value tiles serve every head of its group (and decoding, T = 1, still fills G
// rows). A dispatch covers a piece: batch entries [b0, b0 + nb) with every row, or one entry and the
// queries [t0, t0 + T') (the backward's key/value kernel: keys [j0, j0 + keys')) so that each window fits
// one storage binding; the base_* offsets locate the piece's first element inside each binding.


struct Params {
  rows: u32,        // query rows (t, g) of this piece per (batch entry, kv head): T'·G
  T: u32,           // queries per batch entry
  t0: u32,          // first query of the piece
  G: u32,           // query heads per key/value head
  Hkv: u32,
  S: u32,           // key/value rows per batch entry (≥ keys)
  keys: u32,
  j0: u32,          // first key of the piece
  kcount: u32,      // keys of the piece
  past: u32,
  causal: u32,
  mask_mode: u32,   // 0: none, 1: padding mask, 2: document ids
  mask_stride: u32,
  b0: u32,          // first batch entry of the piece
  nb: u32,          // batch entries in the piece
  scale: f32,       // 1/√D
  base_q: u32,      // vec4 offsets of the piece inside each binding
  base_k: u32,
  base_v: u32,
  base_o: u32,      // out (forward), dq (dQ kernel), dk (dK/dV kernel)
  base_do: u32,     // dout
  base_dv: u32,
}

const D4: u32 = {{D}}u / 4u;
// A score that no key reached (finite, so that max() and exp(m − m_new) stay free of NaN).
const NEG: f32 = -3.402823e38;

// vec4 index of query row (t, head kv·G + g) of piece-local batch entry bl in q / out / dout / dq.
fn q_at(bl: u32, t: u32, kv: u32, g: u32) -> u32 {
  return (bl * p.T + t - p.t0) * (p.Hkv * p.G * D4) + (kv * p.G + g) * D4;
}

// vec4 index of key row j of head kv of piece-local batch entry bl in k / v / dk / dv.
fn kv_at(bl: u32, j: u32, kv: u32) -> u32 {
  return (bl * p.S + j - p.j0) * (p.Hkv * D4) + kv * D4;
}

// Index of (batch b, kv head, row) in lse / stats (global: they are always bound whole).
fn stat_at(b: u32, kv: u32, row: u32) -> u32 {
  return (b * p.Hkv + kv) * (p.T * p.G) + row;
}
