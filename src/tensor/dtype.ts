// Element types. Compute is f32; f16 and bf16 are storage types for weights, kept packed two to a u32 on
// the GPU and widened inside the kernels; i32 holds token ids and labels.
export type DType = 'f32' | 'f16' | 'bf16' | 'i32';

export const BYTES: Record<DType, number> = { f32: 4, f16: 2, bf16: 2, i32: 4 };

export function isHalf(dtype: DType): dtype is 'f16' | 'bf16' {
  return dtype === 'f16' || dtype === 'bf16';
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → bfloat16 bits, round to nearest even (as torch's `.to(torch.bfloat16)`); NaN stays NaN. */
export function f32ToBf16(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) | 0x40) & 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

export function bf16ToF32(h: number): number {
  u32[0] = h << 16;
  return f32[0];
}

/** float32 → IEEE half bits, round to nearest even, overflow to ±Inf. */
export function f32ToF16(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let h = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
  return sign | h;
}

export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Encodes numbers into the bytes of `dtype` (little-endian), rounding as the dtype requires. */
export function encode(values: ArrayLike<number>, dtype: DType): Uint8Array {
  const n = values.length;
  switch (dtype) {
    case 'f32':
      return new Uint8Array(Float32Array.from(values).buffer);
    case 'i32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (!Number.isInteger(v)) throw new TypeError(`i32 tensor given a non-integer value ${v} at index ${i}`);
        out[i] = v;
      }
      return new Uint8Array(out.buffer);
    }
    case 'bf16':
    case 'f16': {
      const out = new Uint16Array(n);
      const conv = dtype === 'bf16' ? f32ToBf16 : f32ToF16;
      for (let i = 0; i < n; i++) out[i] = conv(values[i]);
      return new Uint8Array(out.buffer);
    }
  }
}

/** Decodes little-endian bytes of `dtype` to f32 (or i32 for i32). */
export function decode(bytes: Uint8Array, dtype: DType): Float32Array | Int32Array {
  const copy = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  switch (dtype) {
    case 'f32':
      return new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4).slice();
    case 'i32':
      return new Int32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4).slice();
    case 'bf16': {
      const h = new Uint16Array(copy.buffer, copy.byteOffset, copy.byteLength / 2);
      const w = new Uint32Array(h.length);
      for (let i = 0; i < h.length; i++) w[i] = h[i] << 16;
      return new Float32Array(w.buffer);
    }
    case 'f16': {
      const h = new Uint16Array(copy.buffer, copy.byteOffset, copy.byteLength / 2);
      const out = new Float32Array(h.length);
      for (let i = 0; i < h.length; i++) out[i] = f16ToF32(h[i]);
      return out;
    }
  }
}
