// Shared helpers, included by the kernels that need them.

// The linear index of this workgroup: Commands.grid() folds counts above 65,535 into (x, y).
fn linear_workgroup(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.x + wid.y * nwg.x;
}

// bf16 and f16 tensors are stored two to a u32, element 2k in the low half; `odd` picks the high half.
fn unpack_bf16(word: u32, odd: u32) -> f32 {
  return bitcast<f32>(select(word << 16u, word & 0xffff0000u, odd == 1u));
}

fn unpack_f16(word: u32, odd: u32) -> f32 {
  return unpack2x16float(word)[odd];
}

// f32 -> bf16 bits with round-to-nearest-even (NaN kept quiet), as torch rounds.
fn pack_bf16_bits(x: f32) -> u32 {
  let bits = bitcast<u32>(x);
  if ((bits & 0x7fffffffu) > 0x7f800000u) {
    return ((bits >> 16u) | 0x40u) & 0xffffu;
  }
  return ((bits + 0x7fffu + ((bits >> 16u) & 1u)) >> 16u) & 0xffffu;
}

fn pack_bf16(lo: f32, hi: f32) -> u32 {
  return pack_bf16_bits(lo) | (pack_bf16_bits(hi) << 16u);
}

fn pack_f16(lo: f32, hi: f32) -> u32 {
  return pack2x16float(vec2<f32>(lo, hi));
}
