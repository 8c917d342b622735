// A kernel's interface with the host, read from its preprocessed WGSL, so that the shader is the one place
// that declares it:
//  - its parameters: the struct of its `var<uniform>` binding. The host gives them by name (packParams),
//    and they are laid out as WGSL lays out the struct. A name the struct does not declare is an error, and
//    so is a missing field that the kernel reads; one it does not read may be left out (it is 0).
//  - its workgroup size: `@workgroup_size(...)` of the entry point, `const` names resolved. The host computes
//    dispatch counts from it (groups(n, kernel) in src/tensor/ops/launch.ts).
// Types: u32, i32, f32, their vectors, fixed-size arrays and structs of these (no attributes on members).

export type Scalar = 'u32' | 'i32' | 'f32';
export type Layout =
  | { kind: 'scalar'; scalar: Scalar; size: 4; align: 4 }
  | { kind: 'array'; of: Layout; n: number; stride: number; size: number; align: number } // vectors too
  | { kind: 'struct'; name: string; fields: Field[]; size: number; align: number };
export interface Field {
  name: string;
  type: Layout;
  offset: number;
  /** Read by the kernel (the uniform's name before `.name` in the source, or the whole struct used). */
  read: boolean;
}

/** A parameter's value: a number for a scalar, an array for a vector or array, an object for a struct.
 *  An undefined field counts as not given. */
export type ParamValue = number | readonly ParamValue[] | ParamValues;
export interface ParamValues {
  readonly [field: string]: ParamValue | undefined;
}

export interface KernelInterface {
  /** The uniform binding's struct; null for a kernel without one. */
  readonly params: (Layout & { kind: 'struct' }) | null;
  /** Invocations along x, y, z. */
  readonly workgroupSize: readonly [number, number, number];
}

/** The interface of entry point `entry` in preprocessed WGSL `source`; `label` names the kernel in errors. */
export function kernelInterface(source: string, entry: string, label = entry): KernelInterface {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  const fail = (what: string): never => {
    throw new Error(`${label}: ${what}`);
  };

  const consts = new Map<string, string>();
  for (const m of code.matchAll(/\bconst\s+(\w+)\s*(?::\s*\w+\s*)?=\s*([^;]+);/g)) consts.set(m[1], m[2]);
  const value = (expr: string, seen: string[] = []): number =>
    evaluate(
      expr,
      (name) => {
        const e = consts.get(name);
        if (e === undefined || seen.includes(name)) return fail(`cannot resolve "${name}" in "${expr}"`);
        return value(e, [...seen, name]);
      },
      fail,
    );

  const structs = new Map<string, string>();
  for (const m of code.matchAll(/\bstruct\s+(\w+)\s*\{([^}]*)\}/g)) structs.set(m[1], m[2]);
  const layouts = new Map<string, Layout & { kind: 'struct' }>();
  const layoutOf = (type: string): Layout => {
    type = type.trim();
    const scalar = /^(u32|i32|f32)$/.exec(type);
    if (scalar) return { kind: 'scalar', scalar: scalar[1] as Scalar, size: 4, align: 4 };
    const vec = /^vec([234])\s*(?:<\s*(u32|i32|f32)\s*>|([uif]))$/.exec(type);
    if (vec) {
      const n = Number(vec[1]);
      const of = layoutOf(vec[2] ?? `${vec[3]}32`);
      return { kind: 'array', of, n, stride: 4, size: 4 * n, align: n === 2 ? 8 : 16 };
    }
    const array = /^array\s*<(.+),([^,<>]+)>$/.exec(type);
    if (array) {
      const of = layoutOf(array[1]);
      const n = value(array[2]);
      const stride = roundUp(of.size, of.align);
      return { kind: 'array', of, n, stride, size: stride * n, align: of.align };
    }
    const body = structs.get(type);
    if (body === undefined) return fail(`the parameters' type "${type}" is not supported (u32, i32, f32, vectors, arrays, structs)`);
    let struct = layouts.get(type);
    if (struct) return struct;
    const fields: Field[] = [];
    let offset = 0;
    let align = 1;
    for (const member of splitTopLevel(body)) {
      const m = /^(\w+)\s*:\s*([\s\S]+)$/.exec(member);
      if (!m) return fail(`struct ${type}: cannot read member "${member}" (attributes are not supported)`);
      const t = layoutOf(m[2]);
      offset = roundUp(offset, t.align);
      fields.push({ name: m[1], type: t, offset, read: false });
      offset += t.size;
      align = Math.max(align, t.align);
    }
    struct = { kind: 'struct', name: type, fields, size: roundUp(offset, align), align };
    layouts.set(type, struct);
    return struct;
  };

  const uniforms = [...code.matchAll(/var\s*<\s*uniform\s*>\s*(\w+)\s*:\s*(\w+)\s*;/g)];
  if (uniforms.length > 1) fail(`${uniforms.length} uniform bindings (the parameters are one)`);
  let params: (Layout & { kind: 'struct' }) | null = null;
  if (uniforms.length) {
    const [, name, type] = uniforms[0];
    const t = layoutOf(type);
    if (t.kind !== 'struct') return fail(`the uniform binding "${name}" is not a struct`);
    const read = new Set([...code.matchAll(new RegExp(`\\b${name}\\s*\\.\\s*(\\w+)`, 'g'))].map((m) => m[1]));
    const whole = [...code.matchAll(new RegExp(`\\b${name}\\b(?!\\s*[.:])`, 'g'))].length > 0;
    params = { ...t, fields: t.fields.map((f) => ({ ...f, read: whole || read.has(f.name) })) };
  }

  const entryAt = new RegExp(`((?:@\\w+\\s*(?:\\([^)]*\\))?\\s*)+)fn\\s+${entry}\\s*\\(`).exec(code);
  if (!entryAt) return fail(`no entry point "${entry}" with attributes`);
  const size = /@workgroup_size\s*\(([^)]*)\)/.exec(entryAt[1]);
  if (!size) return fail(`entry point "${entry}" has no @workgroup_size`);
  const dims = splitTopLevel(size[1]).map((e) => value(e));
  const workgroupSize = [dims[0], dims[1] ?? 1, dims[2] ?? 1] as const;
  return { params, workgroupSize };
}

/**
 * Writes `values` into `target` (32-bit words from `wordOffset`) in the layout of `struct`. Throws, naming
 * `label` and the field, for a name the struct lacks, a read field not given, or a value of the wrong kind.
 * Runs for every dispatch, so it makes no closures and builds a field's path only for an error message
 * (under tsx, which keeps function names, each closure made costs about 0.4 µs).
 */
export function packParams(
  label: string,
  struct: Layout & { kind: 'struct' },
  values: ParamValues,
  target: Uint32Array,
  wordOffset: number,
  floats = new Float32Array(target.buffer, target.byteOffset, target.length),
): void {
  put(label, struct, values, target, floats, wordOffset, '', false);
}

/** Writes one value of layout `t` at `word`; `path` names it in errors ('' for the top struct). */
function put(label: string, t: Layout, v: ParamValue | undefined, target: Uint32Array, floats: Float32Array, word: number, path: string, read: boolean): void {
  if (v === undefined) {
    if (read) throw new Error(`${label}: no value for parameter "${path}", which the kernel reads`);
    return;
  }
  if (t.kind === 'scalar') {
    if (typeof v !== 'number') throw wrongValue(label, path, `a ${t.scalar}`, v);
    if (t.scalar === 'f32') floats[word] = v;
    else if (t.scalar === 'u32') {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw wrongValue(label, path, 'a u32', v);
      target[word] = v;
    } else {
      if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw wrongValue(label, path, 'an i32', v);
      target[word] = v >>> 0;
    }
  } else if (t.kind === 'array') {
    if (!Array.isArray(v) || v.length !== t.n) throw wrongValue(label, path, `${t.n} values`, v);
    for (let i = 0; i < t.n; i++) {
      const item = (v as readonly ParamValue[])[i];
      // Scalars inline; a nested value names its index only if it fails.
      if (t.of.kind === 'scalar' && typeof item === 'number' && t.of.scalar === 'f32') floats[word + (i * t.stride) / 4] = item;
      else put(label, t.of, item, target, floats, word + (i * t.stride) / 4, `${path}[${i}]`, true);
    }
  } else {
    if (typeof v !== 'object' || Array.isArray(v)) throw wrongValue(label, path, `a struct ${t.name}`, v);
    const fields = v as ParamValues;
    let given = 0;
    for (const _ in fields) given++;
    let known = 0;
    for (const f of t.fields) {
      const value = fields[f.name];
      if (value !== undefined || f.name in fields) known++;
      if (value === undefined && !(path || f.read)) continue; // an unread top-level field may be left out
      put(label, f.type, value, target, floats, word + f.offset / 4, path ? `${path}.${f.name}` : f.name, path ? true : f.read);
    }
    if (known !== given) {
      const extra = Object.keys(fields).filter((name) => !t.fields.some((f) => f.name === name));
      throw new Error(`${label}: struct ${t.name} has no field ${extra.map((n) => `"${path ? `${path}.` : ''}${n}"`).join(', ')}`);
    }
  }
}

function wrongValue(label: string, path: string, want: string, v: unknown): Error {
  return new Error(`${label}: parameter "${path}" takes ${want}, got ${JSON.stringify(v)}`);
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/** Splits at the commas outside <> and (), dropping empty pieces (a trailing comma). */
function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = text[i];
    if (c === '<' || c === '(') depth++;
    else if (c === '>' || c === ')') depth--;
    else if ((c === ',' && depth === 0) || i === text.length) {
      const piece = text.slice(start, i).trim();
      if (piece) out.push(piece);
      start = i + 1;
    }
  }
  return out;
}

/** An integer constant expression of WGSL: literals (with u/i suffixes), names, + − * / and parentheses. */
function evaluate(expr: string, name: (n: string) => number, fail: (what: string) => never): number {
  const tokens = expr.match(/\d+[ui]?|\w+|[-+*/()]|\S/g) ?? [];
  let i = 0;
  const atom = (): number => {
    const t = tokens[i++];
    if (t === '(') {
      const v = sum();
      if (tokens[i++] !== ')') fail(`unbalanced parentheses in "${expr}"`);
      return v;
    }
    if (t !== undefined && /^\d+[ui]?$/.test(t)) return Number.parseInt(t, 10);
    if (t !== undefined && /^[A-Za-z_]\w*$/.test(t)) return name(t);
    return fail(`cannot evaluate "${expr}"`);
  };
  const product = (): number => {
    let v = atom();
    while (tokens[i] === '*' || tokens[i] === '/') v = tokens[i++] === '*' ? v * atom() : Math.trunc(v / atom());
    return v;
  };
  const sum = (): number => {
    let v = product();
    while (tokens[i] === '+' || tokens[i] === '-') v = tokens[i++] === '+' ? v + product() : v - product();
    return v;
  };
  const v = sum();
  if (i !== tokens.length) fail(`cannot evaluate "${expr}"`);
  return v;
}
