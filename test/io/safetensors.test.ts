import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SafetensorsError,
  type TensorToWrite,
  inspectSafetensors,
  openSafetensors,
  readGpuBytes,
  writeGpuTensors,
  writeSafetensors,
} from '../../src/io/safetensors.ts';
import { tensor } from '../../src/tensor/index.ts';
import { FIXTURE } from '../model/fixture.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'safetensors-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------------
// Independent helpers: the tests build and parse files by hand, without the code under test.

/** A file from a header object and a data section; `length` overrides the length prefix. */
function rawFile(header: unknown, data: Uint8Array, opts: { length?: bigint; text?: Uint8Array } = {}): Uint8Array {
  const text = opts.text ?? new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + text.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, opts.length ?? BigInt(text.byteLength), true);
  out.set(text, 8);
  out.set(data, 8 + text.byteLength);
  return out;
}

/** name → {dtype, shape, bytes} from a whole file's bytes. */
function parseByHand(file: Uint8Array): {
  header: Record<string, any>;
  headerLength: number;
  tensors: Map<string, { dtype: string; shape: number[]; bytes: Uint8Array }>;
} {
  const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n)));
  const tensors = new Map<string, { dtype: string; shape: number[]; bytes: Uint8Array }>();
  for (const [name, v] of Object.entries<any>(header)) {
    if (name === '__metadata__') continue;
    tensors.set(name, { dtype: v.dtype, shape: v.shape, bytes: file.subarray(8 + n + v.data_offsets[0], 8 + n + v.data_offsets[1]) });
  }
  return { header, headerLength: n, tensors };
}

/** bf16 bytes → numbers, by placing each 16-bit pattern in the top half of a float32. */
function bf16ByHand(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const f = new DataView(new ArrayBuffer(4));
  const out: number[] = [];
  for (let i = 0; i < bytes.byteLength; i += 2) {
    f.setUint32(0, view.getUint16(i, true) << 16);
    out.push(f.getFloat32(0));
  }
  return out;
}

function f32ByHand(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.byteLength / 4 }, (_, i) => view.getFloat32(4 * i, true));
}

function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 0xff;
  }
  return out;
}

/** Random finite bf16 values (exponent kept away from Inf/NaN). */
function randomBf16(n: number, seed: number): Uint8Array {
  const b = randomBytes(2 * n, seed);
  for (let i = 1; i < b.length; i += 2) b[i] = (b[i] & 0x80) | (0x38 + (b[i] & 0x0f)); // sign | exponent ≈ 2^-15..2^0
  return b;
}

async function expectError(p: Promise<unknown>, ...patterns: RegExp[]): Promise<void> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e, 'expected an error').toBeInstanceOf(SafetensorsError);
  for (const re of patterns) expect((e as Error).message).toMatch(re);
}

const npmSafetensors = createRequire(import.meta.url)('safetensors') as {
  SafeTensor: new (buffer: Uint8Array) => { metadata: Map<string, { dtype: string; shape: number[] }>; getTensor(name: string): Uint8Array };
};

// ---------------------------------------------------------------------------------------------------------

describe('safetensors writer', () => {
  const tensors: TensorToWrite[] = [
    { name: 'b', dtype: 'F32', shape: [2, 3], data: randomBytes(24, 1) },
    { name: 'a', dtype: 'f32', shape: [4], data: randomBytes(16, 2) },
    { name: 'z', dtype: 'I64', shape: [3], data: randomBytes(24, 3) },
    { name: 'h', dtype: 'bf16', shape: [5], data: randomBytes(10, 4) },
    { name: 'g', dtype: 'F16', shape: [1, 3], data: randomBytes(6, 5) },
    { name: 'i', dtype: 'I32', shape: [2], data: randomBytes(8, 6) },
    { name: 'empty', dtype: 'F32', shape: [0, 7], data: new Uint8Array(0) },
  ];

  it('writes the reference layout: dtype alignment descending then name, packed, header padded with spaces', async () => {
    const path = join(dir, 'layout.safetensors');
    await writeSafetensors(path, tensors, { format: 'pt', note: 'x' });
    const file = new Uint8Array(readFileSync(path));
    const { header, headerLength, tensors: parsed } = parseByHand(file);
    expect(headerLength % 8).toBe(0);
    const text = new TextDecoder().decode(file.subarray(8, 8 + headerLength));
    expect(text.trimEnd().length).toBeGreaterThan(headerLength - 8); // at most 7 padding bytes
    expect(text.slice(text.trimEnd().length)).toMatch(/^ *$/);
    // Worked out by hand from the reference writer's rule (U64 > I64 > … > F32 > U32 > I32 > BF16 > F16).
    expect(Object.keys(header)).toEqual(['__metadata__', 'z', 'a', 'b', 'empty', 'i', 'h', 'g']);
    expect(header.__metadata__).toEqual({ format: 'pt', note: 'x' });
    expect(header.z).toEqual({ dtype: 'I64', shape: [3], data_offsets: [0, 24] });
    expect(header.a).toEqual({ dtype: 'F32', shape: [4], data_offsets: [24, 40] });
    expect(header.b).toEqual({ dtype: 'F32', shape: [2, 3], data_offsets: [40, 64] });
    expect(header.empty).toEqual({ dtype: 'F32', shape: [0, 7], data_offsets: [64, 64] });
    expect(header.i).toEqual({ dtype: 'I32', shape: [2], data_offsets: [64, 72] });
    expect(header.h).toEqual({ dtype: 'BF16', shape: [5], data_offsets: [72, 82] });
    expect(header.g).toEqual({ dtype: 'F16', shape: [1, 3], data_offsets: [82, 88] });
    expect(file.byteLength).toBe(8 + headerLength + 88);
    for (const t of tensors) expect(parsed.get(t.name)!.bytes).toEqual(t.data);
    expect((await readdir(dir)).filter((f) => f.startsWith('layout.safetensors.tmp'))).toEqual([]);
  });

  it('round-trips through our reader: same names, dtypes, shapes, metadata and bytes', async () => {
    const path = join(dir, 'roundtrip.safetensors');
    await writeSafetensors(path, tensors);
    const c = await openSafetensors(path);
    expect(new Set(c.names)).toEqual(new Set(tensors.map((t) => t.name)));
    expect(c.metadata).toEqual({ format: 'pt' });
    for (const t of tensors) {
      const info = c.info(t.name);
      expect(info.shape).toEqual(t.shape);
      expect(info.dtype).toBe(t.dtype.toUpperCase());
      expect(await c.readBytes(t.name)).toEqual(t.data);
    }
    expect(Array.from(await c.readInts('i'))).toEqual(Array.from(new Int32Array((tensors[5].data as Uint8Array).buffer)));
    await c.close();
  });

  it('is read back by the npm `safetensors` package (an independent reader) with the same bytes', async () => {
    const path = join(dir, 'npm.safetensors');
    // That reader treats every header key as a tensor, so it cannot open files with __metadata__.
    await writeSafetensors(path, tensors, null);
    const st = new npmSafetensors.SafeTensor(new Uint8Array(readFileSync(path)));
    expect(new Set(st.metadata.keys())).toEqual(new Set(tensors.map((t) => t.name)));
    for (const t of tensors) {
      expect(st.metadata.get(t.name)!.shape).toEqual(t.shape);
      expect(st.getTensor(t.name)).toEqual(t.data);
    }
    await writeSafetensors(path, tensors);
    expect(() => new npmSafetensors.SafeTensor(new Uint8Array(readFileSync(path)))).toThrow();
  });

  it('accepts lazily produced data, in pieces, and an async iterable of tensors, with identical output', async () => {
    const lazy: TensorToWrite[] = tensors.map((t) => ({
      ...t,
      data: async function* () {
        const d = t.data as Uint8Array;
        for (let i = 0; i < d.byteLength; i += 3) yield d.slice(i, i + 3);
      },
    }));
    async function* iterate() {
      for (const t of [...tensors].reverse()) yield t;
    }
    await writeSafetensors(join(dir, 'eager.safetensors'), tensors);
    await writeSafetensors(join(dir, 'lazy.safetensors'), lazy);
    await writeSafetensors(join(dir, 'iter.safetensors'), iterate());
    const eager = readFileSync(join(dir, 'eager.safetensors'));
    expect(readFileSync(join(dir, 'lazy.safetensors'))).toEqual(eager);
    expect(readFileSync(join(dir, 'iter.safetensors'))).toEqual(eager);
    expect((await readdir(dir)).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('never leaves a half-written file under the real name, and keeps the previous file', async () => {
    const path = join(dir, 'atomic.safetensors');
    await writeSafetensors(path, tensors);
    const before = readFileSync(path);
    const failing: TensorToWrite[] = [
      ...tensors,
      {
        name: 'zz_fails',
        dtype: 'U8',
        shape: [8],
        data: async function* () {
          yield new Uint8Array(4);
          throw new Error('producer crashed');
        },
      },
    ];
    await expect(writeSafetensors(path, failing)).rejects.toThrow('producer crashed');
    expect(readFileSync(path)).toEqual(before);
    expect((await readdir(dir)).filter((f) => f.includes('.tmp'))).toEqual([]); // no temporary file left behind
  });

  it('rejects bad entries with the tensor named', async () => {
    const path = join(dir, 'bad.safetensors');
    const one = (t: Partial<TensorToWrite>) => [{ name: 't', dtype: 'F32', shape: [2], data: new Uint8Array(8), ...t } as TensorToWrite];
    await expectError(writeSafetensors(path, one({ data: new Uint8Array(7) })), /tensor "t"/, /needs 8 bytes.*has 7/);
    await expectError(writeSafetensors(path, one({ data: async () => new Uint8Array(12) })), /tensor "t"/, /more than the 8 bytes/);
    await expectError(writeSafetensors(path, one({ dtype: 'Q7' as never })), /tensor "t"/, /unknown dtype/);
    await expectError(writeSafetensors(path, one({ shape: [-1] })), /tensor "t"/, /shape/);
    await expectError(writeSafetensors(path, [...one({}), ...one({})]), /tensor "t"/, /twice/);
    await expectError(writeSafetensors(path, one({ name: '__metadata__' })), /reserved/);
    expect(existsSync(path)).toBe(false);
  });

  it('writes GPU tensors (packed bf16 of odd length, f32, i32) and reads them back bit for bit', async () => {
    const bf16 = randomBf16(37, 7);
    const f32 = new Float32Array([1.5, -2.25, 3e-8, 65504.5, -0, 7]);
    const a = tensor(bf16ByHand(bf16), [37], 'bf16');
    const b = tensor(f32, [2, 3], 'f32');
    const c = tensor([1, -2, 300000], [3], 'i32');
    expect(await readGpuBytes(a)).toEqual(bf16);
    const path = join(dir, 'gpu.safetensors');
    await writeGpuTensors(path, { 'w.bf16': a, 'w.f32': b, ids: c });
    const parsed = parseByHand(new Uint8Array(readFileSync(path))).tensors;
    expect(parsed.get('w.bf16')).toMatchObject({ dtype: 'BF16', shape: [37] });
    expect(parsed.get('w.bf16')!.bytes).toEqual(bf16);
    expect(parsed.get('w.f32')!.bytes).toEqual(new Uint8Array(f32.buffer));
    expect(Array.from(new Int32Array(parsed.get('ids')!.bytes.slice().buffer))).toEqual([1, -2, 300000]);
    [a, b, c].forEach((t) => t.dispose());
  });
});

describe('streaming tensors to the GPU', () => {
  it('loads in many small pieces (odd byte lengths included), as stored or converted', async () => {
    const bf16 = randomBf16(3 * 37, 11); // 222 bytes: the last piece is not a multiple of 4
    const f32 = new Float32Array(bf16ByHand(bf16)); // the same values, exactly, as f32
    const path = join(dir, 'stream.safetensors');
    await writeSafetensors(path, [
      { name: 'w', dtype: 'BF16', shape: [3, 37], data: bf16 },
      { name: 'v', dtype: 'F32', shape: [3, 37], data: new Uint8Array(f32.buffer) },
    ]);
    const c = await openSafetensors(path, { chunkBytes: 24 });
    const w = await c.loadToGpu('w');
    expect(w.dtype).toBe('bf16');
    expect(w.shape).toEqual([3, 37]);
    expect(w.name).toBe('w');
    expect(await readGpuBytes(w)).toEqual(bf16);
    const wf = await c.loadToGpu('w', { dtype: 'f32' });
    expect(Array.from(await wf.read())).toEqual(Array.from(f32));
    // f32 → bf16 is exact here because every value is on the bf16 grid.
    const vb = await c.loadToGpu('v', { dtype: 'bf16' });
    expect(await readGpuBytes(vb)).toEqual(bf16);
    // Loads started together share the piece buffer one at a time.
    const [p, q] = await Promise.all([c.loadToGpu('w'), c.loadToGpu('v')]);
    expect(await readGpuBytes(p)).toEqual(bf16);
    expect(Array.from(await q.read())).toEqual(Array.from(f32));
    [w, wf, vb, p, q].forEach((t) => t.dispose());
    expect(Array.from(await c.readToCpu('w'))).toEqual(Array.from(f32));
    await c.close();
    await expectError(c.readToCpu('w'), /after close/);
  });

  it('refuses what the GPU cannot hold and names what exists', async () => {
    const path = join(dir, 'ints.safetensors');
    const ids = new BigInt64Array([5n, 128255n, -100n]);
    await writeSafetensors(path, [
      { name: 'input_ids', dtype: 'I64', shape: [3], data: new Uint8Array(ids.buffer) },
      { name: 'model.norm.weight', dtype: 'F32', shape: [1], data: new Uint8Array(4) },
      { name: 'big', dtype: 'I64', shape: [1], data: new Uint8Array(new BigInt64Array([1n << 40n]).buffer) },
    ]);
    const c = await openSafetensors(path);
    expect(Array.from(await c.readInts('input_ids'))).toEqual([5, 128255, -100]);
    await expectError(c.loadToGpu('input_ids'), /ints\.safetensors/, /"input_ids" is I64/, /readInts/);
    await expectError(c.readToCpu('input_ids'), /readInts/);
    await expectError(c.readInts('big'), /"big"/, /int32 range/);
    await expectError(c.loadToGpu('model.norm.weight', { dtype: 'i32' }), /cannot be loaded as i32/);
    await expectError(c.loadToGpu('norm.weight'), /no tensor named "norm\.weight"/, /similar names: "model\.norm\.weight"/);
    await c.close();
  });
});

describe('the llama-tiny fixture (BF16, written by the fixture generator)', () => {
  it('opens the folder, lists the 20 HF names, and decodes values like a hand-written decoder', async () => {
    const file = new Uint8Array(readFileSync(join(FIXTURE, 'model.safetensors')));
    const byHand = parseByHand(file).tensors;
    const c = await openSafetensors(FIXTURE);
    expect(c.names.length).toBe(20);
    expect(new Set(c.names)).toEqual(new Set(byHand.keys()));
    expect(c.metadata).toEqual({ format: 'pt' });
    expect(c.info('model.embed_tokens.weight')).toMatchObject({ dtype: 'BF16', shape: [512, 64] });
    expect(c.info('model.layers.1.self_attn.k_proj.weight')).toMatchObject({ dtype: 'BF16', shape: [32, 64] });
    for (const name of ['model.norm.weight', 'model.layers.0.self_attn.k_proj.weight', 'model.layers.1.mlp.down_proj.weight']) {
      const expected = bf16ByHand(byHand.get(name)!.bytes);
      expect(Array.from(await c.readToCpu(name)), name).toEqual(expected);
      const t = await c.loadToGpu(name);
      expect(Array.from(await t.read()), name).toEqual(expected);
      t.dispose();
    }
    // The README's conventions: decoder norms are U[0.5, 1.5), the final norm U[-1.5, 1.5) and signed.
    const norm = await c.readToCpu('model.layers.0.input_layernorm.weight');
    expect(norm.every((v) => v >= 0.5 && v < 1.5)).toBe(true);
    const final = await c.readToCpu('model.norm.weight');
    expect(final.some((v) => v < 0)).toBe(true);
    await c.close();
  });

  it("matches HF's own embedding output: base_outputs.embeddings[b, t] = embed_tokens[input_ids[b][t]]", async () => {
    const inputs = JSON.parse(readFileSync(join(FIXTURE, 'inputs.json'), 'utf8')) as { input_ids: number[][] };
    const outputs = parseByHand(new Uint8Array(readFileSync(join(FIXTURE, 'base_outputs.safetensors')))).tensors;
    const hfEmbeddings = f32ByHand(outputs.get('embeddings')!.bytes); // [2, 12, 64]
    const c = await openSafetensors(join(FIXTURE, 'model.safetensors'));
    const table = await c.loadToGpu('model.embed_tokens.weight', { dtype: 'f32' });
    const values = await table.read();
    inputs.input_ids.forEach((row, b) =>
      row.forEach((id, t) => {
        const ours = Array.from(values.subarray(id * 64, id * 64 + 64));
        const theirs = hfEmbeddings.slice((b * 12 + t) * 64, (b * 12 + t + 1) * 64);
        expect(ours, `token ${id} at [${b}, ${t}]`).toEqual(theirs);
      }),
    );
    table.dispose();
    await c.close();
  });
});

describe('corrupt files give one clear error naming the file and the tensor', () => {
  const good = {
    __metadata__: { format: 'pt' },
    a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    b: { dtype: 'BF16', shape: [4], data_offsets: [8, 16] },
  };
  const data = randomBytes(16, 9);
  const write = async (name: string, bytes: Uint8Array) => {
    const path = join(dir, name);
    await writeFile(path, bytes);
    return path;
  };

  it('accepts the well-formed hand-made file', async () => {
    const c = await openSafetensors(await write('good.safetensors', rawFile(good, data)));
    expect(await c.readBytes('b')).toEqual(data.subarray(8));
    await c.close();
  });

  it('truncated data', async () => {
    const path = await write('trunc.safetensors', rawFile(good, data));
    await truncate(path, readFileSync(path).byteLength - 3);
    await expectError(openSafetensors(path), /trunc\.safetensors/, /tensor "b"/, /truncated/);
  });

  it('a file too short for the length prefix, and a length beyond the file or the 100 MB cap', async () => {
    await expectError(openSafetensors(await write('tiny.safetensors', new Uint8Array(5))), /tiny\.safetensors/, /5 bytes/);
    await expectError(openSafetensors(await write('long.safetensors', rawFile(good, data, { length: 5000n }))), /long\.safetensors/, /5000 bytes/, /truncated/);
    await expectError(openSafetensors(await write('huge.safetensors', rawFile(good, data, { length: 1n << 40n }))), /huge\.safetensors/, /limit/);
  });

  it('invalid JSON, invalid UTF-8, a JSON array', async () => {
    await expectError(
      openSafetensors(await write('json.safetensors', rawFile(null, data, { text: new TextEncoder().encode('{"a": {') }))),
      /json\.safetensors/,
      /not valid JSON/,
    );
    await expectError(
      openSafetensors(await write('utf8.safetensors', rawFile(null, data, { text: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]) }))),
      /not valid UTF-8/,
    );
    await expectError(openSafetensors(await write('array.safetensors', rawFile([1, 2], data))), /not an object/);
  });

  it('unknown dtype, bad shape, non-string metadata', async () => {
    await expectError(
      openSafetensors(await write('dtype.safetensors', rawFile({ ...good, b: { ...good.b, dtype: 'Q7' } }, data))),
      /dtype\.safetensors/,
      /tensor "b"/,
      /unknown dtype "Q7"/,
    );
    await expectError(
      openSafetensors(await write('f4.safetensors', rawFile({ ...good, b: { ...good.b, dtype: 'F4' } }, data))),
      /tensor "b"/,
      /F4.*not supported/,
    );
    await expectError(
      openSafetensors(await write('shape.safetensors', rawFile({ ...good, b: { ...good.b, shape: [2, -2] } }, data))),
      /tensor "b"/,
      /non-negative integers/,
    );
    await expectError(openSafetensors(await write('meta.safetensors', rawFile({ ...good, __metadata__: { step: 3 } }, data))), /"step"/, /string/);
  });

  it('shape × dtype different from the span', async () => {
    await expectError(
      openSafetensors(await write('span.safetensors', rawFile({ ...good, b: { ...good.b, shape: [3] } }, data))),
      /span\.safetensors/,
      /tensor "b"/,
      /needs 6 bytes.*span 8/,
    );
  });

  it('a span out of bounds', async () => {
    const header = { ...good, b: { dtype: 'BF16', shape: [500], data_offsets: [8, 1008] } };
    await expectError(
      openSafetensors(await write('oob.safetensors', rawFile(header, data))),
      /oob\.safetensors/,
      /tensor "b"/,
      /data section holds only 16 bytes/,
    );
  });

  it('overlapping spans', async () => {
    const header = {
      a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] },
      b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
      c: { dtype: 'F32', shape: [1], data_offsets: [12, 16] },
    };
    await expectError(openSafetensors(await write('overlap.safetensors', rawFile(header, data))), /overlap\.safetensors/, /tensor "b".*overlaps tensor "a"/);
  });

  it('gaps: an error by default (as in the reference reader), reported with allowGaps', async () => {
    const header = { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } };
    const path = await write('gap.safetensors', rawFile(header, data));
    await expectError(openSafetensors(path), /gap\.safetensors/, /4 unused bytes at data offsets \[4, 8\) after tensor "a"/, /and 1 more/, /allowGaps/);
    const h = await inspectSafetensors(path, { allowGaps: true });
    expect(h.gaps).toEqual([
      { begin: 4, end: 8, after: 'a' },
      { begin: 12, end: 16, after: 'b' },
    ]);
  });
});

describe('sharded checkpoints (model.safetensors.index.json)', () => {
  let shardDir: string;
  const w1 = randomBytes(8, 21);
  const w2 = randomBytes(12, 22);
  beforeAll(async () => {
    shardDir = join(dir, 'sharded');
    await writeSafetensors(join(shardDir, 'model-00001-of-00002.safetensors'), [{ name: 'model.a', dtype: 'F32', shape: [2], data: w1 }]);
    await writeSafetensors(join(shardDir, 'model-00002-of-00002.safetensors'), [{ name: 'model.b', dtype: 'BF16', shape: [2, 3], data: w2 }]);
  });
  const index = (weightMap: Record<string, string>) =>
    writeFile(join(shardDir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 20 }, weight_map: weightMap }));

  it('opens the shards as one collection', async () => {
    await index({ 'model.a': 'model-00001-of-00002.safetensors', 'model.b': 'model-00002-of-00002.safetensors' });
    const c = await openSafetensors(shardDir);
    expect(c.names).toEqual(['model.a', 'model.b']);
    expect(c.info('model.b').file).toBe(join(shardDir, 'model-00002-of-00002.safetensors'));
    expect(c.paths.length).toBe(2);
    const b = await c.loadToGpu('model.b');
    expect(await readGpuBytes(b)).toEqual(w2);
    expect(await c.readBytes('model.a')).toEqual(w1);
    b.dispose();
    await c.close();
  });

  it('a missing shard or a name missing from its shard is a clear error', async () => {
    await index({
      'model.a': 'model-00001-of-00002.safetensors',
      'model.b': 'model-00002-of-00002.safetensors',
      'model.c': 'model-00003-of-00003.safetensors',
    });
    await expectError(openSafetensors(shardDir), /model\.safetensors\.index\.json/, /model-00003-of-00003\.safetensors is missing/, /"model\.c"/);
    await index({ 'model.a': 'model-00001-of-00002.safetensors', 'model.b': 'model-00001-of-00002.safetensors' });
    await expectError(openSafetensors(shardDir), /"model\.b" is mapped to model-00001-of-00002\.safetensors, but that shard has no tensor of that name/);
    await index({ 'model.a': '../escape.safetensors' });
    await expectError(openSafetensors(shardDir), /outside the checkpoint folder/);
    await writeFile(join(shardDir, 'model.safetensors.index.json'), '{"weight_map": ');
    await expectError(openSafetensors(shardDir), /index\.json/, /cannot read the index/);
  });

  it('a folder without a checkpoint, and a path that does not exist', async () => {
    const empty = join(dir, 'empty');
    await writeSafetensors(join(empty, 'other.safetensors'), []);
    await expectError(openSafetensors(empty), /neither model\.safetensors nor model\.safetensors\.index\.json/, /other\.safetensors/);
    await expectError(openSafetensors(join(dir, 'nope')), /no such file or directory/);
  });
});
