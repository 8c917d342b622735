// Writing safetensors files the way Hugging Face's reference writer does (safetensors/src/tensor.rs,
// `prepare`): tensors ordered by dtype alignment (largest first), then by name; data packed contiguously;
// the header JSON lists "__metadata__" first, then each tensor's dtype, shape and data_offsets in data order,
// padded with spaces to a multiple of 8 bytes. The file appears under its name only once complete (see
// atomic-write.ts).
import { type FileHandle, mkdir, open, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { atomically } from './atomic-write.ts';
import { type DType, type Tensor, engine } from '../tensor/index.ts';
import {
  DTYPE_BYTES,
  DTYPE_ORDER,
  MAX_HEADER_BYTES,
  type SafetensorsDType,
  SafetensorsError,
  isSafetensorsDType,
  toSafetensorsDType,
} from './safetensors-header.ts';

/** Bytes in memory, or a function producing them when the writer reaches the tensor (all at once or in pieces). */
export type TensorBytes = Uint8Array | (() => Promise<Uint8Array> | AsyncIterable<Uint8Array>);

export interface TensorToWrite {
  name: string;
  /** A safetensors dtype ('BF16', 'I64', …) or one of ours ('bf16', 'f16', 'f32', 'i32'). */
  dtype: SafetensorsDType | DType;
  shape: readonly number[];
  /** Little-endian element bytes, numel × dtype size of them. */
  data: TensorBytes;
}

/** Pieces handed to one fs write; also the GPU readback size. */
const PIECE_BYTES = 64 << 20;

/**
 * Writes a safetensors file. `tensors` is a list (data may be produced lazily, one tensor at a time) or an
 * async iterable; the latter is spooled to a side file first, because the header, which comes first, needs
 * every name and shape. `metadata` defaults to {format: "pt"}, which transformers expects; null omits it.
 */
export async function writeSafetensors(
  path: string,
  tensors: readonly TensorToWrite[] | AsyncIterable<TensorToWrite>,
  metadata: Record<string, string> | null = { format: 'pt' },
): Promise<void> {
  if (Symbol.asyncIterator in tensors) return writeFromIterable(path, tensors as AsyncIterable<TensorToWrite>, metadata);
  const list = tensors as readonly TensorToWrite[];
  const planned = plan(path, list, metadata);
  await atomically(path, async (out) => {
    let position = await writeAll(out, planned.header, 0);
    for (const { entry, bytes } of planned.order) {
      position = await writeTensorData(out, path, entry, bytes, position);
    }
  });
}

/** Writes GPU tensors (read back one at a time, in pieces) under the given names. */
export async function writeGpuTensors(
  path: string,
  tensors: Record<string, Tensor> | Iterable<readonly [string, Tensor]>,
  metadata: Record<string, string> | null = { format: 'pt' },
): Promise<void> {
  const pairs = Symbol.iterator in tensors ? [...(tensors as Iterable<readonly [string, Tensor]>)] : Object.entries(tensors);
  const entries = pairs.map(([name, t]) => ({
    name,
    dtype: toSafetensorsDType(t.dtype),
    shape: t.shape,
    data: () => readGpuPieces(t),
  }));
  await writeSafetensors(path, entries, metadata);
}

/** A GPU tensor's raw bytes (bf16/f16 stay packed), read back in one piece. */
export async function readGpuBytes(t: Tensor): Promise<Uint8Array> {
  const out = new Uint8Array(t.bytes);
  let offset = 0;
  for await (const piece of readGpuPieces(t)) {
    out.set(piece, offset);
    offset += piece.byteLength;
  }
  return out;
}

/** Reads back at most PIECE_BYTES at a time, so a large weight never needs one huge staging buffer. */
async function* readGpuPieces(t: Tensor): AsyncIterable<Uint8Array> {
  const { cmd } = engine();
  for (let offset = 0; offset < t.bytes; offset += PIECE_BYTES) {
    const bytes = Math.min(PIECE_BYTES, t.bytes - offset);
    yield new Uint8Array(await cmd.read(t.buffer, offset, bytes));
  }
}

interface Planned {
  entry: TensorToWrite & { dtype: SafetensorsDType };
  bytes: number;
}

/** Validates the entries, orders them as the reference writer does, and builds the padded header. */
function plan(
  path: string,
  tensors: readonly TensorToWrite[],
  metadata: Record<string, string> | null,
): { header: Uint8Array; order: Planned[]; dataBytes: number } {
  const seen = new Set<string>();
  const planned = tensors.map((t) => checkEntry(path, t, seen));
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsError(`${path}: metadata "${k}" must be a string, got ${JSON.stringify(v)}.`);
    }
  }

  const rank = (d: SafetensorsDType) => DTYPE_ORDER.indexOf(d);
  planned.sort((a, b) => rank(b.entry.dtype) - rank(a.entry.dtype) || compareNames(a.entry.name, b.entry.name));

  const json: Record<string, unknown> = {};
  if (metadata) json.__metadata__ = metadata;
  let offset = 0;
  for (const { entry, bytes } of planned) {
    json[entry.name] = { dtype: entry.dtype, shape: entry.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  // Keys like "0" would be reordered by a JS object; build the text in our order instead.
  const text =
    '{' +
    Object.keys(json)
      .map((k) => `${JSON.stringify(k)}:${JSON.stringify(json[k])}`)
      .join(',') +
    '}';
  const raw = new TextEncoder().encode(text);
  const padded = Math.ceil(raw.byteLength / 8) * 8;
  if (padded > MAX_HEADER_BYTES) throw new SafetensorsError(`${path}: the header would be ${padded} bytes, above the format's limit.`);
  const header = new Uint8Array(8 + padded).fill(0x20, 8 + raw.byteLength);
  new DataView(header.buffer).setBigUint64(0, BigInt(padded), true);
  header.set(raw, 8);
  return { header, order: planned, dataBytes: offset };
}

/** Validates one entry (name, dtype, shape, in-memory length) and works out its byte count. */
function checkEntry(path: string, t: TensorToWrite, seen: Set<string>): Planned {
  const bad = (what: string): never => {
    throw new SafetensorsError(`${path}: cannot write tensor "${t.name}": ${what}`);
  };
  if (typeof t.name !== 'string' || !t.name) bad('the name must be a non-empty string.');
  if (t.name === '__metadata__') bad('"__metadata__" is reserved by the format.');
  if (seen.has(t.name)) bad('the name appears twice.');
  seen.add(t.name);
  const dtype = isSafetensorsDType(t.dtype) ? t.dtype : OUR_DTYPES[t.dtype as DType];
  if (!dtype) return bad(`unknown dtype ${JSON.stringify(t.dtype)}.`);
  if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    bad(`shape ${JSON.stringify(t.shape)} is not a list of non-negative integers.`);
  }
  const bytes = t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
  if (t.data instanceof Uint8Array && t.data.byteLength !== bytes) {
    bad(`shape ${JSON.stringify(t.shape)} × ${dtype} needs ${bytes} bytes, but the data has ${t.data.byteLength}.`);
  }
  return { entry: { ...t, dtype }, bytes };
}

const OUR_DTYPES: Partial<Record<string, SafetensorsDType>> = { bf16: 'BF16', f16: 'F16', f32: 'F32', i32: 'I32' };

/** Byte-wise order of the UTF-8 names, as Rust's String ordering (JS compares UTF-16 units). */
function compareNames(a: string, b: string): number {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return Buffer.compare(x, y);
}

async function writeTensorData(out: FileHandle, path: string, entry: TensorToWrite, bytes: number, position: number): Promise<number> {
  let written = 0;
  const put = async (piece: Uint8Array) => {
    if (written + piece.byteLength > bytes) {
      throw new SafetensorsError(`${path}: tensor "${entry.name}" produced more than the ${bytes} bytes its shape and dtype need.`);
    }
    position = await writeAll(out, piece, position);
    written += piece.byteLength;
  };
  const data = typeof entry.data === 'function' ? await entry.data() : entry.data;
  if (data instanceof Uint8Array) await put(data);
  else for await (const piece of data) await put(piece);
  if (written !== bytes) {
    throw new SafetensorsError(`${path}: tensor "${entry.name}" produced ${written} bytes; its shape and dtype need ${bytes}.`);
  }
  return position;
}

async function writeAll(out: FileHandle, data: Uint8Array, position: number): Promise<number> {
  for (let off = 0; off < data.byteLength; ) {
    const len = Math.min(PIECE_BYTES, data.byteLength - off);
    const { bytesWritten } = await out.write(data, off, len, position);
    off += bytesWritten;
    position += bytesWritten;
  }
  return position;
}

/**
 * An async iterable gives its data before the header can be known: spool the data to a side file in arrival
 * order, then write the header and copy each tensor's bytes across in the reference order.
 */
async function writeFromIterable(path: string, tensors: AsyncIterable<TensorToWrite>, metadata: Record<string, string> | null): Promise<void> {
  const spoolPath = `${path}.spool.tmp`;
  await mkdir(dirname(path), { recursive: true });
  const spool = await open(spoolPath, 'w+');
  try {
    const seen = new Set<string>();
    const spooled: { entry: TensorToWrite; offset: number; bytes: number }[] = [];
    let position = 0;
    for await (const t of tensors) {
      const { bytes } = checkEntry(path, t, seen);
      const offset = position;
      position = await writeTensorData(spool, path, t, bytes, position);
      spooled.push({ entry: t, offset, bytes });
    }
    const lazy = spooled.map(({ entry, offset, bytes }) => ({ ...entry, data: () => readSpool(spool, offset, bytes) }));
    await writeSafetensors(path, lazy, metadata);
  } finally {
    await spool.close().catch(() => {});
    await rm(spoolPath, { force: true });
  }
}

async function* readSpool(spool: FileHandle, offset: number, bytes: number): AsyncIterable<Uint8Array> {
  const buffer = new Uint8Array(Math.min(PIECE_BYTES, Math.max(1, bytes)));
  for (let done = 0; done < bytes; ) {
    const len = Math.min(buffer.byteLength, bytes - done);
    const { bytesRead } = await spool.read(buffer, 0, len, offset + done);
    if (bytesRead === 0) throw new SafetensorsError(`internal: the spool file ended early`);
    yield buffer.subarray(0, bytesRead);
    done += bytesRead;
  }
}
