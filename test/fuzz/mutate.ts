// A small seeded mutator for the fuzz tests: byte-level mutations of any file, and structural mutations of
// JSON documents (what a truncated download, a bad edit or a buggy writer does to a real file). Every
// mutation has a kind name, so a campaign can report what it tried and a failure says how to reproduce it.
import { Rng } from '../../src/util/random.ts';

export { Rng };

export interface Mutated<T> {
  value: T;
  /** What was done, e.g. "json:delete data_offsets", "bytes:flip-bit@12". */
  kinds: string[];
}

// ---------------------------------------------------------------------------------------------------------
// Bytes

export type ByteMutation = 'flip-bit' | 'set-byte' | 'insert' | 'delete' | 'truncate' | 'extend' | 'duplicate' | 'zero-run';
export const BYTE_MUTATIONS: readonly ByteMutation[] = ['flip-bit', 'set-byte', 'insert', 'delete', 'truncate', 'extend', 'duplicate', 'zero-run'];

/** Interesting byte values: boundaries and the JSON punctuation that changes a document's structure. */
const BYTES = [0x00, 0xff, 0x7f, 0x80, 0x20, 0x22, 0x2c, 0x3a, 0x5b, 0x5d, 0x7b, 0x7d, 0x2d, 0x30, 0x39, 0x5c, 0x0a];

/** One byte-level mutation at a random position in [from, to) (default: anywhere). */
export function mutateBytes(rng: Rng, input: Uint8Array, from = 0, to = input.length): Mutated<Uint8Array> {
  const kind = rng.pick(BYTE_MUTATIONS);
  const span = Math.max(1, to - from);
  const at = Math.min(input.length, from + rng.int(span));
  const randomByte = () => (rng.uniform() < 0.5 ? rng.pick(BYTES) : rng.int(256));
  let out: Uint8Array;
  switch (kind) {
    case 'flip-bit': {
      out = input.slice();
      if (at < out.length) out[at] ^= 1 << rng.int(8);
      break;
    }
    case 'set-byte': {
      out = input.slice();
      if (at < out.length) out[at] = randomByte();
      break;
    }
    case 'insert': {
      const n = 1 + rng.int(rng.uniform() < 0.8 ? 4 : 64);
      out = concat(input.subarray(0, at), Uint8Array.from({ length: n }, randomByte), input.subarray(at));
      break;
    }
    case 'delete': {
      const n = 1 + rng.int(rng.uniform() < 0.8 ? 4 : 64);
      out = concat(input.subarray(0, at), input.subarray(Math.min(input.length, at + n)));
      break;
    }
    case 'truncate':
      out = input.slice(0, at);
      break;
    case 'extend':
      out = concat(input, Uint8Array.from({ length: 1 + rng.int(16) }, randomByte));
      break;
    case 'duplicate': {
      const n = 1 + rng.int(32);
      out = concat(input.subarray(0, at), input.subarray(at, at + n), input.subarray(at));
      break;
    }
    case 'zero-run': {
      out = input.slice();
      out.fill(0, at, Math.min(out.length, at + 1 + rng.int(16)));
      break;
    }
  }
  return { value: out, kinds: [`bytes:${kind}`] };
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// JSON values

export type JsonMutation = 'delete' | 'type-change' | 'number' | 'string' | 'array' | 'object' | 'swap' | 'deep-nesting';
export const JSON_MUTATIONS: readonly JsonMutation[] = ['delete', 'type-change', 'number', 'string', 'array', 'object', 'swap', 'deep-nesting'];

/** Values of every JSON type, with the numbers and strings that break careless parsers. */
const ODD_VALUES: readonly unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1,
  0.5,
  -0.5,
  1e308,
  -1e308,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  2 ** 64,
  -(2 ** 63),
  'NaN',
  'Infinity',
  '-1',
  '1e400',
  '',
  'x',
  '__proto__',
  [],
  {},
  [1, 2, 3],
  { a: 1 },
  ['q_proj'],
  [[0]],
];

/** Number edits: neighbours, sign, scale, fractions, and the powers of two where integer types end. */
function mutateNumber(rng: Rng, n: number): number {
  return rng.pick([n + 1, n - 1, -n, 0, n * 2 ** (1 + rng.int(40)), n + 0.5, n / 3, 2 ** 31, 2 ** 32, 2 ** 53 + 2, 1e300, -1e-300]);
}

function mutateString(rng: Rng, s: string, strings: string[]): string {
  return rng.pick([
    '',
    s + rng.pick(['x', '\u0000', '\uFFFD', '😀', ' ']),
    s.slice(0, Math.max(0, s.length - 1)),
    s.toUpperCase(),
    rng.pick(strings.length ? strings : ['x']),
    'x'.repeat(10_000),
    '../../outside',
  ]);
}

interface Slot {
  parent: Record<string, unknown> | unknown[] | null;
  key: string | number;
  value: unknown;
  path: string;
}

/** Every value in the document with where it sits (the root has no parent). */
function slots(root: unknown): Slot[] {
  const out: Slot[] = [{ parent: null, key: '', value: root, path: '$' }];
  for (let i = 0; i < out.length; i++) {
    const { value, path } = out[i];
    if (Array.isArray(value)) value.forEach((v, k) => out.push({ parent: value, key: k, value: v, path: `${path}[${k}]` }));
    else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) out.push({ parent: value as Record<string, unknown>, key: k, value: v, path: `${path}.${k}` });
    }
  }
  return out;
}

/** One structural mutation of a JSON document (deep-copied first; the input is not touched). */
export function mutateJson(rng: Rng, input: unknown): Mutated<unknown> {
  let root = structuredClone(input);
  const all = slots(root);
  const strings = all.map((s) => s.value).filter((v): v is string => typeof v === 'string');
  // Prefer leaves and small subtrees: most real corruption is local.
  const slot = all.length > 1 && rng.uniform() < 0.95 ? all[1 + rng.int(all.length - 1)] : all[0];
  const kind = rng.pick(JSON_MUTATIONS);
  const set = (v: unknown) => {
    if (slot.parent === null) root = v;
    else if (Array.isArray(slot.parent)) slot.parent[slot.key as number] = v;
    else slot.parent[slot.key as string] = v;
  };
  const v = slot.value;
  switch (kind) {
    case 'delete':
      if (slot.parent === null) root = rng.pick([null, {}, [], '']);
      else if (Array.isArray(slot.parent)) slot.parent.splice(slot.key as number, 1);
      else delete slot.parent[slot.key as string];
      break;
    case 'type-change':
      set(structuredClone(rng.pick(ODD_VALUES)));
      break;
    case 'number':
      set(typeof v === 'number' ? mutateNumber(rng, v) : rng.pick([-1, 0, 1e308, 0.5]));
      break;
    case 'string':
      set(typeof v === 'string' ? mutateString(rng, v, strings) : String(v));
      break;
    case 'array':
      if (Array.isArray(v)) {
        const edit = rng.int(5);
        if (edit === 0) v.length = 0;
        else if (edit === 1 && v.length) v.push(structuredClone(v[rng.int(v.length)]));
        else if (edit === 2) v.reverse();
        else if (edit === 3) v.push(structuredClone(rng.pick(ODD_VALUES)));
        else v.pop();
      } else set([v]);
      break;
    case 'object':
      if (v && typeof v === 'object' && !Array.isArray(v)) {
        const o = v as Record<string, unknown>;
        const keys = Object.keys(o);
        const edit = rng.int(4);
        if (edit === 0) o[rng.pick(['extra', '__proto__', 'constructor', keys[0] ?? 'k'])] = structuredClone(rng.pick(ODD_VALUES));
        else if (edit === 1 && keys.length) {
          // A typo in a key: the value moves to a name nobody reads.
          const k = rng.pick(keys);
          o[`${k}_`] = o[k];
          delete o[k];
        } else if (edit === 2) set(Object.values(o));
        else for (const k of keys) delete o[k];
      } else set({ value: v });
      break;
    case 'swap': {
      const other = all[rng.int(all.length)];
      set(structuredClone(other.value));
      break;
    }
    case 'deep-nesting':
      set(DEEP_MARKER); // expanded by toJsonText: deeper than JSON.stringify (and structuredClone) can go
      break;
  }
  return { value: root, kinds: [`json:${kind} ${slot.path}`] };
}

// ---------------------------------------------------------------------------------------------------------
// JSON text

/** Stands for a value nested DEEP_LEVELS deep until the document is written as text. */
const DEEP_MARKER = '\u0000deep-nesting\u0000';
/** JSON.parse reads this depth; JSON.stringify of the value it gives overflows the stack. */
const DEEP_LEVELS = 20_000;

/** The document as JSON text (pretty or compact), with deep-nesting markers expanded. */
export function toJsonText(value: unknown, pretty = false): string {
  const text = JSON.stringify(value, null, pretty ? 2 : undefined) ?? 'null';
  return text.split(JSON.stringify(DEEP_MARKER)).join(`${'['.repeat(DEEP_LEVELS)}0${']'.repeat(DEEP_LEVELS)}`);
}

/** Numbers JSON.parse reads into values a typed parser must still reject (Infinity, -0, lost precision). */
const NUMBER_TOKENS = ['1e400', '-1e400', '-0', '9007199254740993', '1.0000000000000002', '0.1e-400', '007', 'NaN', 'Infinity'];

/** A text edit of JSON: a number token replaced (some parse, some do not), or a byte-level mutation. */
export function mutateJsonText(rng: Rng, text: string): Mutated<string> {
  const numbers = [...text.matchAll(/-?\d+(\.\d+)?([eE][-+]?\d+)?/g)];
  if (numbers.length && rng.uniform() < 0.4) {
    const m = rng.pick(numbers);
    const token = rng.pick(NUMBER_TOKENS);
    return { value: text.slice(0, m.index) + token + text.slice(m.index! + m[0].length), kinds: [`text:number→${token}`] };
  }
  const bytes = new TextEncoder().encode(text);
  const { value, kinds } = mutateBytes(rng, bytes);
  return { value: new TextDecoder().decode(value), kinds: kinds.map((k) => k.replace('bytes:', 'text:')) };
}

/** 1 to `max` mutations of a JSON document: structural ones on the value, then sometimes one on its text. */
export function mutateJsonDocument(rng: Rng, input: unknown, max = 3): Mutated<string> {
  const kinds: string[] = [];
  let value = input;
  const n = 1 + rng.int(max);
  for (let i = 0; i < n; i++) {
    const m = mutateJson(rng, value);
    value = m.value;
    kinds.push(...m.kinds);
  }
  let text = toJsonText(value, rng.uniform() < 0.5);
  if (rng.uniform() < 0.25) {
    const m = mutateJsonText(rng, text);
    text = m.value;
    kinds.push(...m.kinds);
  }
  return { value: text, kinds };
}
