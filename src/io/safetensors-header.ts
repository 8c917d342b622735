// The safetensors header: an 8-byte little-endian length, then that many bytes of UTF-8 JSON mapping each
// tensor name to {dtype, shape, data_offsets} (offsets relative to the data section that follows), plus an
// optional "__metadata__" map of strings. This module parses and validates it without touching the data.
//
// The checks follow Hugging Face's reference reader (safetensors/src/tensor.rs): a 100 MB header cap, spans
// that match shape × dtype exactly, and data packed contiguously from offset 0 to the end of the file.
import type { DType } from '../tensor/index.ts';
import { jsonSnippet } from '../util/json.ts';

/** Every dtype the safetensors format defines with a whole number of bytes per element. */
export type SafetensorsDType =
  | 'BOOL'
  | 'U8'
  | 'I8'
  | 'F8_E5M2'
  | 'F8_E4M3'
  | 'F8_E8M0'
  | 'F8_E4M3FNUZ'
  | 'F8_E5M2FNUZ'
  | 'I16'
  | 'U16'
  | 'F16'
  | 'BF16'
  | 'I32'
  | 'U32'
  | 'F32'
  | 'C64'
  | 'F64'
  | 'I64'
  | 'U64';

/**
 * In the order of the reference implementation's `Dtype` enum (increasing alignment). Its writer sorts
 * tensors by this order, descending, then by name; ours does the same.
 */
export const DTYPE_ORDER: readonly SafetensorsDType[] = [
  'BOOL',
  'U8',
  'I8',
  'F8_E5M2',
  'F8_E4M3',
  'F8_E8M0',
  'F8_E4M3FNUZ',
  'F8_E5M2FNUZ',
  'I16',
  'U16',
  'F16',
  'BF16',
  'I32',
  'U32',
  'F32',
  'C64',
  'F64',
  'I64',
  'U64',
];

export const DTYPE_BYTES: Readonly<Record<SafetensorsDType, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  F8_E8M0: 1,
  F8_E4M3FNUZ: 1,
  F8_E5M2FNUZ: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  C64: 8,
  F64: 8,
  I64: 8,
  U64: 8,
};

/** Sub-byte formats the spec also lists; named so the error can say "not supported" rather than "unknown". */
const SUB_BYTE_DTYPES = new Set(['F4', 'F6_E2M3', 'F6_E3M2']);

/** The safetensors dtypes that map onto a GPU tensor dtype of ours. */
export const GPU_DTYPE: Readonly<Partial<Record<SafetensorsDType, DType>>> = { BF16: 'bf16', F16: 'f16', F32: 'f32', I32: 'i32' };

export function toSafetensorsDType(dtype: DType): SafetensorsDType {
  return ({ bf16: 'BF16', f16: 'F16', f32: 'F32', i32: 'I32' } as const)[dtype];
}

export function isSafetensorsDType(s: unknown): s is SafetensorsDType {
  return typeof s === 'string' && Object.hasOwn(DTYPE_BYTES, s);
}

/** The reference reader refuses headers above 100 MB; a larger length means corruption, not a big model. */
export const MAX_HEADER_BYTES = 100_000_000;

/** Any problem with a safetensors file or checkpoint: the message names the file, the tensor and the fix. */
export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** The file holding the tensor. */
  file: string;
  /** Bytes [begin, end) relative to the start of the data section, as in the header. */
  dataOffsets: [number, number];
  /** Absolute byte offset of the tensor's first byte in the file. */
  fileOffset: number;
  byteLength: number;
}

export interface Header {
  file: string;
  fileSize: number;
  /** The JSON's length in bytes (the data section starts at 8 + headerBytes). */
  headerBytes: number;
  dataStart: number;
  metadata: Record<string, string>;
  /** By name, in the order of the header's JSON. */
  tensors: Map<string, TensorInfo>;
  /** Unused byte ranges of the data section (only with `allowGaps`; otherwise they are an error). */
  gaps: { begin: number; end: number; after: string | null }[];
}

export interface HeaderOptions {
  /**
   * Accept unused bytes between or after tensors. The reference reader rejects such files (they cannot come
   * from a correct writer), so by default they are an error.
   */
  allowGaps?: boolean;
}

/** Reads the 8-byte length prefix; `prefix` must hold at least the first 8 bytes of the file. */
export function headerLength(file: string, prefix: Uint8Array, fileSize: number): number {
  if (fileSize < 8) {
    throw new SafetensorsError(
      `${file}: the file is ${fileSize} bytes, too short to hold the 8-byte header length; it is truncated or not a safetensors file.`,
    );
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(
      `${file}: the header length field says ${n} bytes, above the format's ${MAX_HEADER_BYTES}-byte limit; the file is corrupt or not a safetensors file.`,
    );
  }
  if (n > BigInt(fileSize - 8)) {
    throw new SafetensorsError(
      `${file}: the header length field says ${n} bytes but only ${fileSize - 8} bytes follow it; the file is truncated or not a safetensors file.`,
    );
  }
  return Number(n);
}

/** Parses and validates the header JSON (`json` = the bytes after the length prefix). */
export function parseHeader(file: string, json: Uint8Array, fileSize: number, options: HeaderOptions = {}): Header {
  const headerBytes = json.byteLength;
  const dataStart = 8 + headerBytes;
  const dataBytes = fileSize - dataStart;
  const fail = (what: string): never => {
    throw new SafetensorsError(`${file}: ${what}`);
  };

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(json);
  } catch {
    return fail('the header is not valid UTF-8; the file is corrupt or not a safetensors file.');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return fail(`the header is not valid JSON (${(e as Error).message}); the file is corrupt or not a safetensors file.`);
  }
  if (!isPlainObject(parsed)) fail('the header JSON is not an object; the file is corrupt or not a safetensors file.');
  const entries = parsed as Record<string, unknown>;

  const metadata: Record<string, string> = {};
  const meta = entries.__metadata__;
  if (meta !== undefined && meta !== null) {
    if (!isPlainObject(meta)) fail('"__metadata__" must be an object of strings.');
    for (const [k, v] of Object.entries(meta as Record<string, unknown>)) {
      if (typeof v !== 'string') fail(`"__metadata__" field "${k}" is ${jsonSnippet(v)}; the format allows only string values.`);
      metadata[k] = v as string;
    }
  }

  const tensors = new Map<string, TensorInfo>();
  for (const [name, raw] of Object.entries(entries)) {
    if (name === '__metadata__') continue;
    const bad = (what: string): never => fail(`tensor "${name}": ${what}`);
    if (!isPlainObject(raw)) bad('its entry is not an object with dtype, shape and data_offsets.');
    const entry = raw as Record<string, unknown>;

    const dtype = entry.dtype;
    if (typeof dtype !== 'string') bad(`"dtype" is ${jsonSnippet(dtype)}, not a string.`);
    if (!isSafetensorsDType(dtype)) {
      bad(
        SUB_BYTE_DTYPES.has(dtype as string)
          ? `dtype ${dtype} (sub-byte) is not supported; convert the checkpoint to BF16, F16 or F32.`
          : `unknown dtype "${dtype}"; safetensors dtypes are ${DTYPE_ORDER.join(', ')}.`,
      );
    }
    const st = dtype as SafetensorsDType;

    const shape = entry.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      bad(`"shape" is ${jsonSnippet(shape)}; it must be a list of non-negative integers.`);
    }
    const dims = shape as number[];

    const offsets = entry.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
      bad(`"data_offsets" is ${jsonSnippet(offsets)}; it must be [begin, end] with 0 ≤ begin ≤ end.`);
    }
    const [begin, end] = offsets as [number, number];

    let numel = 1;
    for (const d of dims) numel *= d;
    const expected = numel * DTYPE_BYTES[st];
    if (!Number.isSafeInteger(expected)) bad(`shape ${jsonSnippet(dims)} is too large.`);
    if (end - begin !== expected) {
      bad(
        `shape ${jsonSnippet(dims)} × ${st} (${DTYPE_BYTES[st]} bytes) needs ${expected} bytes, but data_offsets ` +
          `[${begin}, ${end}] span ${end - begin}; the header is corrupt.`,
      );
    }
    tensors.set(name, {
      name,
      dtype: st,
      shape: dims,
      file,
      dataOffsets: [begin, end],
      fileOffset: dataStart + begin,
      byteLength: end - begin,
    });
  }

  const gaps = checkLayout(file, [...tensors.values()], dataBytes, dataStart, options);
  return { file, fileSize, headerBytes, dataStart, metadata, tensors, gaps };
}

/** Spans must lie inside the data section without overlapping; gaps are an error unless allowed. */
function checkLayout(file: string, tensors: TensorInfo[], dataBytes: number, dataStart: number, options: HeaderOptions): Header['gaps'] {
  const sorted = [...tensors].sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  const last = sorted.reduce<TensorInfo | null>((m, t) => (!m || t.dataOffsets[1] > m.dataOffsets[1] ? t : m), null);
  if (last && last.dataOffsets[1] > dataBytes) {
    throw new SafetensorsError(
      `${file}: tensor "${last.name}" has data_offsets [${last.dataOffsets.join(', ')}] but the data section holds only ` +
        `${dataBytes} bytes (the header describes a ${dataStart + last.dataOffsets[1]}-byte file; this one has ` +
        `${dataStart + dataBytes}). The file is truncated (or its header corrupt): download or save it again.`,
    );
  }
  const gaps: Header['gaps'] = [];
  let cursor = 0;
  let previous: TensorInfo | null = null;
  for (const t of sorted) {
    const [begin, end] = t.dataOffsets;
    if (begin < cursor) {
      throw new SafetensorsError(
        `${file}: tensor "${t.name}" (data_offsets [${begin}, ${end}]) overlaps tensor "${previous!.name}" ` +
          `(data_offsets [${previous!.dataOffsets.join(', ')}]); the header is corrupt.`,
      );
    }
    if (begin > cursor) gaps.push({ begin: cursor, end: begin, after: previous?.name ?? null });
    if (end >= cursor) {
      cursor = end;
      previous = t;
    }
  }
  if (cursor < dataBytes) gaps.push({ begin: cursor, end: dataBytes, after: previous?.name ?? null });
  if (gaps.length && !options.allowGaps) {
    const g = gaps[0];
    const where =
      g.end === dataBytes && g.begin === cursor
        ? `${g.end - g.begin} bytes after the last tensor${previous ? ` ("${previous.name}")` : ''}`
        : `${g.end - g.begin} unused bytes at data offsets [${g.begin}, ${g.end})${g.after ? ` after tensor "${g.after}"` : ' before the first tensor'}`;
    throw new SafetensorsError(
      `${file}: the data section has ${where}${gaps.length > 1 ? ` (and ${gaps.length - 1} more gap(s))` : ''}. ` +
        `Valid files pack tensors contiguously, so this file is corrupt or was written by a faulty tool; ` +
        `pass { allowGaps: true } to read it anyway.`,
    );
  }
  return gaps;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
