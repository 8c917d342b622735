// Fuzzing the safetensors readers (src/io/safetensors*.ts): single files (header length, header JSON and
// data section) and sharded checkpoints (the index and its shards). The validity oracle is written here
// from the format's rules as Hugging Face's Rust reader applies them (safetensors/src/tensor.rs): a u64
// little-endian length ≤ 100 MB that fits the file, a UTF-8 JSON object, string metadata, known dtypes,
// shapes of non-negative integers, data_offsets [begin ≤ end] spanning exactly shape × dtype bytes, and
// spans that tile the data section from 0 to its end (with allowGaps: inside it, without overlapping).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DTYPE_BYTES, SafetensorsError, openSafetensors } from '../../src/io/safetensors.ts';
import { FIXTURE } from '../model/fixture.ts';
import { Inconsistent, isObject, runCampaign } from './campaign.ts';
import { type Mutated, type Rng, concat, mutateBytes, mutateJson, mutateJsonDocument, toJsonText } from './mutate.ts';

const work = mkdtempSync(join(tmpdir(), 'fuzz-safetensors-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------------------
// Building files by hand (independent of the writer under test)

interface Entry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

function fileFrom(headerText: string, data: Uint8Array, length?: bigint): Uint8Array {
  const text = new TextEncoder().encode(headerText);
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, length ?? BigInt(text.length), true);
  return concat(prefix, text, data);
}

/** A valid file holding `tensors` (name → dtype, shape), data packed in order, bytes counting up. */
function buildFile(tensors: [string, string, number[]][], metadata: Record<string, string> | null = { format: 'pt' }): Uint8Array {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const [name, dtype, shape] of tensors) {
    const bytes = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype as keyof typeof DTYPE_BYTES];
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  return fileFrom(
    JSON.stringify(header),
    Uint8Array.from({ length: offset }, (_, i) => (i * 37 + 11) & 0xff),
  );
}

const SEEDS: Uint8Array[] = [
  buildFile([
    ['w.f32', 'F32', [2, 3]],
    ['w.bf16', 'BF16', [5]],
    ['ids', 'I64', [2]],
    ['mask', 'U8', [3]],
    ['h', 'F16', [1, 3]],
    ['flags', 'BOOL', [4]],
    ['empty', 'F32', [0, 7]],
    ['scalar', 'F64', []],
    ['i32', 'I32', [2, 2]],
  ]),
  buildFile([['only', 'BF16', [4, 4]]], null),
  fileFrom('{}      ', new Uint8Array(0)), // no tensors, padded as the reference writer pads
  new Uint8Array(readFileSync(join(FIXTURE, 'adapter_model.safetensors'))),
];

// ---------------------------------------------------------------------------------------------------------
// The oracle

interface Parsed {
  headerBytes: number;
  tensors: Map<string, { dtype: string; shape: number[]; begin: number; end: number }>;
}

/** The file's tensors if it is valid, else null. */
function oracle(file: Uint8Array, allowGaps = false): Parsed | null {
  if (file.length < 8) return null;
  const n = new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true);
  if (n > 100_000_000n || 8n + n > BigInt(file.length)) return null;
  const headerBytes = Number(n);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(file.subarray(8, 8 + headerBytes)));
  } catch {
    return null;
  }
  if (!isObject(header)) return null;
  const dataBytes = file.length - 8 - headerBytes;
  const tensors: Parsed['tensors'] = new Map();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (entry !== null && !(isObject(entry) && Object.values(entry).every((v) => typeof v === 'string'))) return null;
      continue;
    }
    if (!isObject(entry)) return null;
    const { dtype, shape, data_offsets: offsets } = entry as Partial<Entry>;
    if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, dtype)) return null;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) return null;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) return null;
    const [begin, end] = offsets;
    const bytes = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype as keyof typeof DTYPE_BYTES];
    if (begin > end || end - begin !== bytes) return null;
    tensors.set(name, { dtype, shape, begin, end });
  }
  const spans = [...tensors.values()].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const s of spans) {
    if (s.begin < cursor || (!allowGaps && s.begin !== cursor)) return null;
    cursor = s.end;
  }
  if (cursor > dataBytes || (!allowGaps && cursor !== dataBytes)) return null;
  return { headerBytes, tensors };
}

// ---------------------------------------------------------------------------------------------------------
// Mutations aimed at the format: the header as JSON, its length prefix, and the data section

function splitFile(file: Uint8Array): { header: unknown; data: Uint8Array } | null {
  const parsed = oracle(file, true);
  if (!parsed) return null;
  return { header: JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + parsed.headerBytes))), data: file.subarray(8 + parsed.headerBytes) };
}

/** Offsets moved so that spans overlap, leave gaps, run past the end, or shrink below shape × dtype. */
function mutateOffsets(rng: Rng, header: Record<string, unknown>): string {
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  if (!names.length) return 'offsets:none';
  const e = header[rng.pick(names)] as Entry;
  if (!isObject(e) || !Array.isArray(e.data_offsets)) return 'offsets:none';
  const [b, end] = e.data_offsets;
  const edit = rng.int(6);
  if (edit === 0)
    e.data_offsets = [b - 1, end - 1]; // overlaps the previous tensor
  else if (edit === 1)
    e.data_offsets = [b + 2, end + 2]; // a gap before, and past the next
  else if (edit === 2)
    e.data_offsets = [end, b]; // reversed
  else if (edit === 3)
    e.data_offsets = [b, end + 1e9]; // far out of range
  else if (edit === 4)
    e.data_offsets = [b, b + Math.max(0, end - b - 1)]; // one byte short of the shape
  else e.shape = [...(Array.isArray(e.shape) ? e.shape : []), 2]; // a dtype/shape mismatch
  return `offsets:${['overlap', 'shift', 'reverse', 'out-of-range', 'short', 'shape'][edit]}`;
}

function mutateFile(rng: Rng, seed: Uint8Array): Mutated<Uint8Array> {
  const split = splitFile(seed)!;
  const headerLen = (f: Uint8Array) => Number(new DataView(f.buffer, f.byteOffset, 8).getBigUint64(0, true));
  const roll = rng.uniform();
  if (roll < 0.4) {
    // The header as JSON: field deletion, type changes, odd numbers, or offsets and shapes out of step.
    let header = structuredClone(split.header) as Record<string, unknown>;
    const kinds: string[] = [];
    if (rng.uniform() < 0.5) kinds.push(mutateOffsets(rng, header));
    else {
      const m = mutateJson(rng, header);
      header = m.value as Record<string, unknown>;
      kinds.push(...m.kinds);
    }
    // Some writers pad the header with spaces to 8 bytes; either form is valid.
    let text = toJsonText(header);
    if (rng.uniform() < 0.5) text += ' '.repeat((8 - (new TextEncoder().encode(text).length % 8)) % 8);
    return { value: fileFrom(text, split.data), kinds };
  }
  if (roll < 0.55) {
    // The length prefix lies: a little, a lot, zero, beyond the file, beyond the 100 MB cap, or 2⁶⁴ − 1.
    const n = BigInt(headerLen(seed));
    const lies: [string, bigint][] = [
      ['-1', n - 1n],
      ['+1', n + 1n],
      ['-8', n - 8n],
      ['+8', n + 8n],
      ['zero', 0n],
      ['file-size', BigInt(seed.length)],
      ['above-cap', 100_000_001n],
      ['u64-max', 2n ** 64n - 1n],
      ['2^53', 2n ** 53n],
    ];
    const [label, lie] = rng.pick(lies);
    const out = seed.slice();
    new DataView(out.buffer).setBigUint64(0, lie < 0n ? 0n : lie, true);
    return { value: out, kinds: [`length:${label}`] };
  }
  if (roll < 0.7) {
    // The data section: truncated (as an interrupted download) or with bytes after the last tensor.
    const start = 8 + headerLen(seed);
    return rng.uniform() < 0.5
      ? { value: seed.slice(0, start + rng.int(seed.length - start + 1)), kinds: ['data:truncate'] }
      : { value: concat(seed, new Uint8Array(1 + rng.int(9))), kinds: ['data:trailing'] };
  }
  // Raw bytes, mostly in the prefix and header where a flip changes the structure.
  const end = rng.uniform() < 0.8 ? 8 + headerLen(seed) : seed.length;
  const first = mutateBytes(rng, seed, 0, end);
  return rng.uniform() < 0.3 ? { value: mutateBytes(rng, first.value).value, kinds: [...first.kinds, 'bytes:twice'] } : first;
}

// ---------------------------------------------------------------------------------------------------------
// Consistency of an accepted file: the same tensors as the oracle, each with exactly the file's bytes

const FLOATS = new Set(['BF16', 'F16', 'F32', 'F64']);
const INTS = new Set(['BOOL', 'U8', 'I8', 'I16', 'U16', 'I32', 'U32', 'I64', 'U64']);

/** Opens `source` and reads every tensor; with `expected` (the oracle's view), compares names, dtypes, shapes and bytes. */
async function readAndCompare(source: string, expected: Map<string, { file: Uint8Array; parsed: Parsed }> | null, allowGaps: boolean): Promise<void> {
  const c = await openSafetensors(source, { allowGaps, chunkBytes: 64 });
  try {
    if (!expected) {
      for (const name of c.names) await c.readBytes(name);
      return;
    }
    const names = [...expected.keys()];
    if (c.names.length !== names.length || !names.every((n) => c.has(n))) {
      throw new Inconsistent(`names ${JSON.stringify(c.names).slice(0, 200)} ≠ the header's ${JSON.stringify(names).slice(0, 200)}`);
    }
    for (const [name, { file, parsed }] of expected) {
      const want = parsed.tensors.get(name)!;
      const info = c.info(name);
      if (info.dtype !== want.dtype || info.shape.join() !== want.shape.join())
        throw new Inconsistent(`"${name}": ${info.dtype} [${info.shape}] ≠ ${want.dtype} [${want.shape}]`);
      const bytes = await c.readBytes(name);
      const start = 8 + parsed.headerBytes;
      if (Buffer.compare(bytes, file.subarray(start + want.begin, start + want.end)) !== 0) throw new Inconsistent(`"${name}": bytes differ from the file's`);
      // Decoding must work too (an integer outside int32 is refused by name, not a crash).
      try {
        if (FLOATS.has(want.dtype)) await c.readToCpu(name);
        else if (INTS.has(want.dtype)) await c.readInts(name);
      } catch (e) {
        if (!(e instanceof SafetensorsError && e.message.includes(`"${name}"`))) throw e;
      }
    }
  } finally {
    await c.close();
  }
}

describe('fuzzing the safetensors readers', { timeout: 300_000 }, () => {
  it('single files: 3,000 mutated headers, length prefixes and data sections', async () => {
    const path = (i: number) => join(work, `case-${i % 8}.safetensors`);
    const gaps = (i: number) => i % 5 === 4; // every fifth case reads with { allowGaps: true }
    await runCampaign<Uint8Array>({
      name: 'safetensors file',
      seed: 1,
      cases: 3000,
      make: (rng) => mutateFile(rng, rng.pick(SEEDS)),
      valid: (file, i) => oracle(file, gaps(i)) !== null,
      async run(file, i) {
        writeFileSync(path(i), file);
        const parsed = oracle(file, gaps(i));
        await readAndCompare(path(i), parsed && new Map([...parsed.tensors.keys()].map((n) => [n, { file, parsed }])), gaps(i));
      },
      errors: [SafetensorsError],
      names: (i) => path(i),
    }).then((s) => expect(s.rejected).toBeGreaterThan(0));
  });

  it('sharded checkpoints: 1,200 mutated indexes (and some shards mutated or missing)', async () => {
    const shards = {
      'model-00001-of-00002.safetensors': buildFile([
        ['a.weight', 'F32', [3, 2]],
        ['b.weight', 'BF16', [4]],
      ]),
      'model-00002-of-00002.safetensors': buildFile([
        ['c.weight', 'F16', [2, 2]],
        ['d.bias', 'I32', [3]],
      ]),
    };
    const index = {
      metadata: { total_size: 52 },
      weight_map: {
        'a.weight': 'model-00001-of-00002.safetensors',
        'b.weight': 'model-00001-of-00002.safetensors',
        'c.weight': 'model-00002-of-00002.safetensors',
        'd.bias': 'model-00002-of-00002.safetensors',
      },
    };
    const folder = (i: number) => join(work, `sharded-${i % 4}`);
    type Case = { index: string; shards: Record<string, Uint8Array | null> };
    await runCampaign<Case>({
      name: 'sharded checkpoint',
      seed: 2,
      cases: 1200,
      make(rng) {
        const { value: text, kinds } = mutateJsonDocument(rng, index, 2);
        const files: Record<string, Uint8Array | null> = { ...shards };
        if (rng.uniform() < 0.15) {
          const name = rng.pick(Object.keys(files));
          if (rng.uniform() < 0.3) {
            files[name] = null;
            kinds.push('shard:missing');
          } else {
            const m = mutateFile(rng, files[name]!);
            files[name] = m.value;
            kinds.push(...m.kinds.map((k) => `shard:${k}`));
          }
        }
        return { value: { index: text, shards: files }, kinds };
      },
      valid: (c) => shardedOracle(c.index, c.shards) !== null,
      async run(c, i) {
        const dir = folder(i);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'model.safetensors.index.json'), c.index);
        for (const [name, bytes] of Object.entries(c.shards)) {
          if (bytes) writeFileSync(join(dir, name), bytes);
          else rmSync(join(dir, name), { force: true });
        }
        const expected = shardedOracle(c.index, c.shards);
        await readAndCompare(join(dir, 'model.safetensors.index.json'), expected, false);
      },
      errors: [SafetensorsError],
      names: (i) => folder(i),
    });
  });
});

/** name → its shard's bytes and oracle parse, if the index and every shard it names are valid; else null. */
function shardedOracle(indexText: string, shards: Record<string, Uint8Array | null>): Map<string, { file: Uint8Array; parsed: Parsed }> | null {
  let index: unknown;
  try {
    index = JSON.parse(indexText);
  } catch {
    return null;
  }
  const map = isObject(index) ? index.weight_map : undefined;
  if (!isObject(map) || Object.keys(map).length === 0) return null;
  const out = new Map<string, { file: Uint8Array; parsed: Parsed }>();
  for (const [name, shard] of Object.entries(map)) {
    if (typeof shard !== 'string' || !shard) return null;
    // Only files next to the index exist in a case's folder, under the seed's names.
    const rel = relative('/dir', resolve('/dir', shard));
    if (isAbsolute(shard) || rel.startsWith('..') || !Object.hasOwn(shards, rel) || !shards[rel]) return null;
    const parsed = oracle(shards[rel]!);
    if (!parsed?.tensors.has(name)) return null;
    out.set(name, { file: shards[rel]!, parsed });
  }
  return out;
}

// The oracle must agree with itself on the seeds: every seed is valid.
describe('the fuzz seeds', () => {
  it('are valid safetensors files', () => {
    for (const s of SEEDS) expect(oracle(s)).not.toBeNull();
    expect(statSync(join(FIXTURE, 'adapter_model.safetensors')).size).toBe(SEEDS[3].length);
  });
});
