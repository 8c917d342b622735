// Reading Hugging Face safetensors checkpoints as they are: one file, or a sharded checkpoint described by
// model.safetensors.index.json, opened as one collection of named tensors. Tensors stream from disk to the
// GPU in fixed-size pieces through one reused buffer, so a multi-gigabyte file never sits in JS memory.
import { readFile, readdir, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { type DType, type Tensor, decode, encode, parameter } from '../tensor/index.ts';
import { jsonSnippet } from '../util/json.ts';
import { SafetensorsFile } from './safetensors-file.ts';
import { GPU_DTYPE, type Header, type HeaderOptions, SafetensorsError, type TensorInfo } from './safetensors-header.ts';

export {
  type SafetensorsDType,
  type TensorInfo,
  type Header,
  type HeaderOptions,
  SafetensorsError,
  DTYPE_BYTES,
  toSafetensorsDType,
} from './safetensors-header.ts';
export { writeSafetensors, writeGpuTensors, readGpuBytes, type TensorToWrite, type TensorBytes } from './safetensors-writer.ts';

export const INDEX_FILE = 'model.safetensors.index.json';
export const SINGLE_FILE = 'model.safetensors';

export interface OpenOptions extends HeaderOptions {
  /** Size of the pieces streamed to the GPU (a multiple of 8; default 32 MiB). */
  chunkBytes?: number;
}

export interface LoadOptions {
  /** Store as this dtype on the GPU (bf16/f16/f32 convert among themselves); default: the file's dtype. */
  dtype?: DType;
}

const DEFAULT_CHUNK_BYTES = 32 << 20;

export class SafetensorsCollection {
  private closed = false;
  private chunk: Uint8Array | null = null;
  // Loads share `chunk`; each awaits the previous so two reads never fill it at once.
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    /** The file, index or directory it was opened from. */
    readonly source: string,
    private readonly files: SafetensorsFile[],
    private readonly where: Map<string, { file: SafetensorsFile; info: TensorInfo }>,
    private readonly chunkBytes: number,
  ) {}

  /** @internal use openSafetensors() */
  static create(source: string, files: SafetensorsFile[], where: Map<string, { file: SafetensorsFile; info: TensorInfo }>, options: OpenOptions) {
    const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    if (!Number.isInteger(chunkBytes) || chunkBytes < 8 || chunkBytes % 8) {
      throw new RangeError(`openSafetensors: chunkBytes must be a positive multiple of 8, got ${chunkBytes}`);
    }
    return new SafetensorsCollection(source, files, where, chunkBytes);
  }

  /** Tensor names, in the order of the header (or of the index's weight_map). */
  get names(): string[] {
    return [...this.where.keys()];
  }

  /** The files the tensors live in. */
  get paths(): string[] {
    return this.files.map((f) => f.path);
  }

  /** The parsed header of each file. */
  get headers(): Header[] {
    return this.files.map((f) => f.header);
  }

  /** `__metadata__` of the (first) file, e.g. {format: "pt"}. */
  get metadata(): Record<string, string> {
    return { ...(this.files[0]?.header.metadata ?? {}) };
  }

  has(name: string): boolean {
    return this.where.has(name);
  }

  info(name: string): TensorInfo {
    return this.locate(name).info;
  }

  /** The tensor's raw little-endian bytes, as stored. For small tensors. */
  async readBytes(name: string): Promise<Uint8Array> {
    const { file, info } = this.locate(name);
    return file.read(info.fileOffset, new Uint8Array(info.byteLength));
  }

  /** A floating-point tensor's values widened to f32 (BF16, F16, F32, F64). For small tensors. */
  async readToCpu(name: string): Promise<Float32Array> {
    const { info } = this.locate(name);
    const bytes = await this.readBytes(name);
    switch (info.dtype) {
      case 'BF16':
        return decode(bytes, 'bf16') as Float32Array;
      case 'F16':
        return decode(bytes, 'f16') as Float32Array;
      case 'F32':
        return decode(bytes, 'f32') as Float32Array;
      case 'F64':
        return Float32Array.from(new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8));
      default:
        throw new SafetensorsError(
          `${info.file}: tensor "${name}" is ${info.dtype}; readToCpu reads floating-point tensors (BF16, F16, F32, F64). Use readInts for integer tensors.`,
        );
    }
  }

  /** An integer tensor (token ids, labels, masks) as int32; I64/U32/U64 values must fit. */
  async readInts(name: string): Promise<Int32Array> {
    const { info } = this.locate(name);
    const bytes = await this.readBytes(name);
    const b = bytes.buffer;
    const o = bytes.byteOffset;
    const n = info.byteLength;
    let values: ArrayLike<number | bigint>;
    switch (info.dtype) {
      case 'BOOL':
      case 'U8':
        values = new Uint8Array(b, o, n);
        break;
      case 'I8':
        values = new Int8Array(b, o, n);
        break;
      case 'I16':
        values = new Int16Array(b, o, n / 2);
        break;
      case 'U16':
        values = new Uint16Array(b, o, n / 2);
        break;
      case 'I32':
        return new Int32Array(b, o, n / 4);
      case 'U32':
        values = new Uint32Array(b, o, n / 4);
        break;
      case 'I64':
        values = new BigInt64Array(b, o, n / 8);
        break;
      case 'U64':
        values = new BigUint64Array(b, o, n / 8);
        break;
      default:
        throw new SafetensorsError(
          `${info.file}: tensor "${name}" is ${info.dtype}; readInts reads integer tensors. Use readToCpu for floating-point tensors.`,
        );
    }
    const out = new Int32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = Number(values[i]);
      if (v < -0x80000000 || v > 0x7fffffff) {
        throw new SafetensorsError(`${info.file}: tensor "${name}" (${info.dtype}) element ${i} is ${values[i]}, outside the int32 range.`);
      }
      out[i] = v;
    }
    return out;
  }

  /**
   * Streams a tensor from disk into a new exact-size GPU tensor (see `parameter()`), piece by piece; the
   * caller owns the result. BF16/F16/F32 tensors can be converted on the way (`dtype`); I32 loads as i32.
   */
  async loadToGpu(name: string, options: LoadOptions = {}): Promise<Tensor> {
    const { file, info } = this.locate(name);
    const source = GPU_DTYPE[info.dtype];
    if (!source) {
      throw new SafetensorsError(
        `${info.file}: tensor "${name}" is ${info.dtype}; the GPU takes BF16, F16, F32 or I32 tensors. ` +
          `Read it with readToCpu/readInts, or convert the checkpoint.`,
      );
    }
    const target = options.dtype ?? source;
    if ((source === 'i32') !== (target === 'i32')) {
      throw new SafetensorsError(`${info.file}: tensor "${name}" is ${info.dtype} and cannot be loaded as ${target}.`);
    }
    const t = parameter(info.shape, target);
    t.name = name;
    try {
      await this.exclusive(async () => {
        const chunk = (this.chunk ??= new Uint8Array(this.chunkBytes));
        let done = 0;
        let written = 0;
        while (done < info.byteLength) {
          const piece = chunk.subarray(0, Math.min(chunk.byteLength, info.byteLength - done));
          await file.read(info.fileOffset + done, piece);
          // writeBytes copies the piece into Dawn's staging memory at once, so the buffer is free again.
          const bytes = target === source ? piece : encode(decode(piece, source), target);
          t.writeBytes(written, bytes);
          done += piece.byteLength;
          written += bytes.byteLength;
        }
      });
    } catch (e) {
      t.dispose();
      throw e;
    }
    return t;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.chunk = null;
    await Promise.all(this.files.map((f) => f.close()));
  }

  private locate(name: string): { file: SafetensorsFile; info: TensorInfo } {
    if (this.closed) throw new SafetensorsError(`${this.source}: the collection was used after close().`);
    const found = this.where.get(name);
    if (found) return found;
    const tail = name.split('.').slice(-2).join('.');
    const similar = this.names.filter((n) => n.endsWith(tail)).slice(0, 3);
    throw new SafetensorsError(
      `${this.source}: no tensor named "${name}" (it holds ${this.where.size} tensors` +
        `${similar.length ? `; similar names: ${similar.map((s) => `"${s}"`).join(', ')}` : ''}).`,
    );
  }

  private exclusive<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }
}

/**
 * Opens a checkpoint: a .safetensors file, a model.safetensors.index.json, or a directory holding either
 * (the index wins, as in transformers). Only headers are read; every header is validated.
 */
export async function openSafetensors(path: string, options: OpenOptions = {}): Promise<SafetensorsCollection> {
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch {
    throw new SafetensorsError(`${path}: no such file or directory (expected a .safetensors file, an ${INDEX_FILE}, or a model folder).`);
  }
  if (isDir) {
    if (await exists(join(path, INDEX_FILE))) return openSharded(join(path, INDEX_FILE), options);
    if (await exists(join(path, SINGLE_FILE))) return openSingle(join(path, SINGLE_FILE), options);
    const found = (await readdir(path)).filter((f) => f.endsWith('.safetensors') || f.endsWith('.index.json'));
    throw new SafetensorsError(
      `${path}: the folder has neither ${SINGLE_FILE} nor ${INDEX_FILE}` +
        (found.length ? ` (it has ${found.join(', ')}; pass one of those paths instead).` : '.'),
    );
  }
  return path.endsWith('.index.json') ? openSharded(path, options) : openSingle(path, options);
}

/** Reads and validates one file's header (and closes it). */
export async function inspectSafetensors(path: string, options: HeaderOptions = {}): Promise<Header> {
  const f = await SafetensorsFile.open(path, options);
  await f.close();
  return f.header;
}

async function openSingle(path: string, options: OpenOptions): Promise<SafetensorsCollection> {
  const file = await SafetensorsFile.open(path, options);
  const where = new Map([...file.header.tensors.values()].map((info) => [info.name, { file, info }]));
  return SafetensorsCollection.create(path, [file], where, options);
}

async function openSharded(indexPath: string, options: OpenOptions): Promise<SafetensorsCollection> {
  const weightMap = await readWeightMap(indexPath);
  const dir = dirname(indexPath);
  const byShard = new Map<string, string[]>();
  for (const [name, shard] of Object.entries(weightMap)) {
    if (!byShard.has(shard)) byShard.set(shard, []);
    byShard.get(shard)!.push(name);
  }

  const problems: string[] = [];
  const files = new Map<string, SafetensorsFile>();
  try {
    for (const [shard, names] of byShard) {
      const shardPath = resolve(dir, shard);
      const rel = relative(dir, shardPath);
      if (isAbsolute(shard) || rel.startsWith('..') || isAbsolute(rel)) {
        problems.push(`shard "${shard}" is outside the checkpoint folder; weight_map must name files next to the index.`);
        continue;
      }
      if (!(await exists(shardPath))) {
        problems.push(`shard file ${shard} is missing (the index maps ${names.length} tensor(s) to it, e.g. "${names[0]}").`);
        continue;
      }
      const file = await SafetensorsFile.open(shardPath, options);
      files.set(shard, file);
      const missing = names.filter((n) => !file.header.tensors.has(n));
      for (const n of missing.slice(0, 5)) problems.push(`"${n}" is mapped to ${shard}, but that shard has no tensor of that name.`);
      if (missing.length > 5) problems.push(`… and ${missing.length - 5} more names missing from ${shard}.`);
    }
    if (problems.length) {
      throw new SafetensorsError(
        `${indexPath}: the sharded checkpoint is incomplete or inconsistent:\n  - ${problems.join('\n  - ')}\n` +
          `Download the missing shards again, or fix the index.`,
      );
    }
  } catch (e) {
    await Promise.all([...files.values()].map((f) => f.close()));
    throw e;
  }

  const where = new Map<string, { file: SafetensorsFile; info: TensorInfo }>();
  for (const [name, shard] of Object.entries(weightMap)) {
    const file = files.get(shard)!;
    where.set(name, { file, info: file.header.tensors.get(name)! });
  }
  return SafetensorsCollection.create(indexPath, [...files.values()], where, options);
}

async function readWeightMap(indexPath: string): Promise<Record<string, string>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(indexPath, 'utf8'));
  } catch (e) {
    throw new SafetensorsError(`${indexPath}: cannot read the index (${(e as Error).message}).`);
  }
  const weightMap = (parsed as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    throw new SafetensorsError(`${indexPath}: no "weight_map" object mapping tensor names to shard files.`);
  }
  const entries = Object.entries(weightMap as Record<string, unknown>);
  if (!entries.length) throw new SafetensorsError(`${indexPath}: "weight_map" is empty.`);
  for (const [name, shard] of entries) {
    if (typeof shard !== 'string' || !shard) {
      throw new SafetensorsError(`${indexPath}: weight_map["${name}"] is ${jsonSnippet(shard)}, not a shard file name.`);
    }
  }
  return weightMap as Record<string, string>;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
