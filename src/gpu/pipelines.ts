// Kernels live in shaders/*.wgsl. A small, explicit preprocessor makes their variants:
//   #include "file.wgsl"            inline another shader file (once per shader)
//   #if NAME / #if !NAME / #elif NAME / #else / #endif
//                                   keep lines by the truthiness of a define (an absent one is false)
//   {{NAME}}                        replaced by the define's value (an absent one is an error)
// A define that no directive or substitution of the shader (its includes too) names is an error: a
// misspelt setting would otherwise select nothing and go unnoticed.
// Pipelines are cached by the preprocessed source and entry point. Each kernel carries the interface its
// source declares (kernel-interface.ts): the parameters' struct, which the host fills by name, and the
// workgroup size, from which it counts workgroups.
import { appendFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Gpu } from './device.ts';
import { type KernelInterface, kernelInterface } from './kernel-interface.ts';

export type Defines = Record<string, string | number | boolean>;

export const SHADER_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shaders');

const files = new Map<string, string>();
function readShader(name: string): string {
  let text = files.get(name);
  if (text === undefined) {
    text = readFileSync(join(SHADER_DIR, name), 'utf8');
    files.set(name, text);
  }
  return text;
}

/** Expands one shader file with the given defines. Exported for tests and for `seal` debugging. */
export function preprocess(file: string, defines: Defines = {}): string {
  const included = new Set<string>();
  const out: string[] = [];
  const expand = (name: string): void => {
    if (included.has(name)) return;
    included.add(name);
    // Each entry: is this branch taken, has any branch of this #if been taken, is the enclosing block live.
    const stack: { taken: boolean; done: boolean; outer: boolean }[] = [];
    const live = () => (stack.length === 0 ? true : stack[stack.length - 1].taken && stack[stack.length - 1].outer);
    const truth = (expr: string, line: number): boolean => {
      const m = /^(!?)\s*([A-Za-z_][A-Za-z0-9_]*)$/.exec(expr.trim());
      if (!m) throw new Error(`${name}:${line}: #if takes NAME or !NAME, got "${expr}"`);
      const value = Boolean(defines[m[2]]);
      return m[1] ? !value : value;
    };
    readShader(name)
      .split('\n')
      .forEach((text, i) => {
        const line = i + 1;
        const d = /^\s*#(include|if|elif|else|endif)\b(.*)$/.exec(text);
        if (!d) {
          if (live()) out.push(substitute(text, defines, name, line));
          return;
        }
        const [, directive, rest] = d;
        if (directive === 'include') {
          const m = /^\s*"([^"]+)"\s*$/.exec(rest);
          if (!m) throw new Error(`${name}:${line}: #include takes "file.wgsl"`);
          if (live()) expand(m[1]);
        } else if (directive === 'if') {
          const outer = live();
          const taken = outer && truth(rest, line);
          stack.push({ taken, done: taken, outer });
        } else {
          const top = stack[stack.length - 1];
          if (!top) throw new Error(`${name}:${line}: #${directive} without #if`);
          if (directive === 'elif') {
            top.taken = !top.done && truth(rest, line);
            top.done ||= top.taken;
          } else if (directive === 'else') {
            top.taken = !top.done;
            top.done = true;
          } else stack.pop();
        }
      });
    if (stack.length) throw new Error(`${name}: unterminated #if`);
  };
  expand(file);
  const unread = Object.keys(defines).filter((name) => !namesIn(file).has(name));
  if (unread.length) throw new Error(`${file}: no directive reads ${unread.map((n) => `"${n}"`).join(', ')} (misspelt, or for another shader?)`);
  return out.join('\n');
}

const names = new Map<string, Set<string>>();
/** Every define name a shader's directives and substitutions mention, its includes' too (live or not). */
function namesIn(file: string): Set<string> {
  let found = names.get(file);
  if (found) return found;
  found = new Set();
  names.set(file, found);
  for (const line of readShader(file).split('\n')) {
    const code = line.split('//')[0];
    const include = /^\s*#include\s+"([^"]+)"/.exec(code);
    if (include) namesIn(include[1]).forEach((n) => found!.add(n));
    const condition = /^\s*#(?:if|elif)\s+!?\s*([A-Za-z_][A-Za-z0-9_]*)/.exec(code);
    if (condition) found.add(condition[1]);
    for (const m of code.matchAll(/\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}/g)) found.add(m[1]);
  }
  return found;
}

function substitute(text: string, defines: Defines, file: string, line: number): string {
  // Comments are left alone (WGSL has no strings, so `//` always starts one).
  const cut = text.indexOf('//');
  if (cut >= 0) return substitute(text.slice(0, cut), defines, file, line) + text.slice(cut);
  return text.replace(/\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}/g, (_, key: string) => {
    if (!(key in defines)) throw new Error(`${file}:${line}: no value given for {{${key}}}`);
    return String(defines[key]);
  });
}

export interface Kernel extends KernelInterface {
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
  /** File, entry point and every define, for error messages. */
  readonly label: string;
  /** File and the settings that are on, for profiles: "matmul-subgroup RG4 VEC4 B_BF16 TRANS_B". */
  readonly name: string;
  /** A small integer unique to this pipeline (keys of cached bind groups). */
  readonly id: number;
}
let nextKernelId = 1;

function kernelName(file: string, entry: string, defines: Defines): string {
  const on = Object.entries(defines)
    .filter(([, v]) => v !== false && v !== 0 && v !== '')
    .map(([k, v]) => (v === true ? k : `${k}=${v}`));
  return [file.replace(/\.wgsl$/, '').replace(/^.*\//, ''), ...(entry === 'main' ? [] : [entry]), ...on].join(' ');
}

/**
 * Called after each pipeline compile, with the kernel's name. A first run compiles every shader, for up to
 * half a minute on lavapipe before the first unit of work ends: a progress display can show it is alive.
 */
let compiledListener: ((name: string) => void) | null = null;
export function onShaderCompiled(listener: ((name: string) => void) | null): void {
  compiledListener = listener;
}

/** Pipelines compiled in this process, and the wall time their creation took (SEAL_PROFILE prints both: a
 *  first run on an empty shader cache spends most of its first minute here). */
export const compiled = { pipelines: 0, ms: 0 };

// SEAL_COMPILE_LOG=file: each process appends one JSON line at exit — its command line (or vitest's test
// file), and every pipeline it compiled with the milliseconds it took — so that a whole `npm test` on an
// empty shader cache can be broken down by test file and kernel (bench/compile-census.ts sums it).
const compileLog = process.env.SEAL_COMPILE_LOG;
const compiledTimes: [string, number][] = [];
/** Appends this process's census line now (vitest's workers end without an 'exit' event) and starts anew. */
export function writeCompileLog(who = process.argv.slice(1).join(' ')): void {
  if (!compileLog || !compiledTimes.length) return;
  // A password in a URL argument (seal worker --queue redis://user:password@host) is masked.
  who = who.replace(/(\/\/[^:/@\s]*:)[^@\s]*@/g, '$1***@');
  appendFileSync(compileLog, `${JSON.stringify({ who, lanes: process.env.LP_NATIVE_VECTOR_WIDTH ?? '', kernels: compiledTimes })}\n`);
  compiledTimes.length = 0;
}
if (compileLog) process.on('exit', () => writeCompileLog(process.env.SEAL_COMPILE_WHO));

const byKey = new WeakMap<Gpu, Map<string, Kernel>>();
const bySource = new WeakMap<Gpu, Map<string, Kernel>>();

/** The compute pipeline for `entry` in `file` with `defines`, compiled once per device. */
export function kernel(gpu: Gpu, file: string, entry: string, defines: Defines = {}): Kernel {
  let keyed = byKey.get(gpu);
  if (!keyed) byKey.set(gpu, (keyed = new Map()));
  // A cheap key (this runs for every dispatch): call sites list their defines in a fixed order; two
  // orders of the same defines make two keys for one pipeline, which the source-keyed cache below shares.
  let key = `${file}|${entry}`;
  for (const name in defines) key += `|${name}=${defines[name]}`;
  let k = keyed.get(key);
  if (k) return k;

  const source = preprocess(file, defines);
  let sourced = bySource.get(gpu);
  if (!sourced) bySource.set(gpu, (sourced = new Map()));
  const sourceKey = `${entry}\n${source}`;
  k = sourced.get(sourceKey);
  if (!k) {
    const label = `${file}:${entry}${Object.keys(defines).length ? ' ' + JSON.stringify(defines) : ''}`;
    const start = performance.now();
    const declared = kernelInterface(source, entry, label);
    const module = gpu.device.createShaderModule({ code: source, label });
    const pipeline = gpu.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: entry }, label });
    const name = kernelName(file, entry, defines);
    k = { ...declared, pipeline, layout: pipeline.getBindGroupLayout(0), label, name, id: nextKernelId++ };
    sourced.set(sourceKey, k);
    const ms = performance.now() - start;
    compiled.pipelines++;
    compiled.ms += ms;
    if (compileLog) compiledTimes.push([k.label, Math.round(ms)]);
    compiledListener?.(k.name);
  }
  keyed.set(key, k);
  return k;
}
