// Tensor: a shape, a dtype and a GPU buffer, with explicit lifetimes.
//
// Lifetimes are reference counts, never the garbage collector: a tensor holds its buffer until its count
// drops to zero, then the buffer goes back to the pool. `dispose()` drops the caller's reference; the
// autograd graph holds references to what backward needs; `tidy(fn)` disposes every tensor made inside
// `fn` except those it returns.
import { bindRange, engine } from '../gpu/engine.ts';
import type { Binding } from '../gpu/commands.ts';
import { BYTES, type DType, decode, encode } from './dtype.ts';

export type Shape = readonly number[];

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeStr(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** GPU storage shared by a tensor and its reshaped views. */
class Storage {
  refs = 0; // tensors (a tensor and its reshaped views) sharing this buffer
  constructor(
    readonly buffer: GPUBuffer,
    readonly bytes: number,
  ) {}
}

/** A node of the autograd graph: how to send the output's gradient to the inputs. */
export interface GradNode {
  readonly seq: number;
  readonly op: string;
  readonly inputs: Tensor[];
  /** The tensors whose values backward reads (their storage is kept; the inputs only keep their place). */
  readonly saved: Tensor[];
  /**
   * Gradients for each input; `needs[i]` says whether input i wants one (null otherwise). `saved` is the
   * node's kept values, in the order given to recordOp (the output appears there as an alias).
   */
  backward(grad: Tensor, needs: boolean[], saved: Tensor[]): (Tensor | null)[];
}

let nextId = 0;

export class Tensor {
  readonly id = nextId++;
  readonly size: number;
  /** Parameters (leaves) get `.grad`; anything computed from one gets a graph node instead. */
  requiresGrad = false;
  grad: Tensor | null = null;
  node: GradNode | null = null;
  name: string | undefined;
  private storage: Storage | null;
  // Two kinds of reference besides the creator's (dropped once, by dispose): nodes whose backward reads
  // this tensor's values hold its storage (`saves`); nodes that only route a gradient to it hold its place
  // in the graph (`uses`). So an activation that backward does not read is freed as soon as its creator
  // lets go, even while the graph still passes through it.
  private owned = true;
  private saves = 0;
  private uses = 0;

  constructor(
    readonly shape: Shape,
    readonly dtype: DType,
    storage?: Storage,
  ) {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new TypeError(`Invalid tensor shape ${shapeStr(shape)}`);
    }
    this.size = numel(shape);
    if (!storage) {
      const bytes = Math.max(4, Math.ceil((this.size * BYTES[dtype]) / 4) * 4);
      storage = new Storage(engine().pool.acquire(bytes), bytes);
    }
    storage.refs++;
    this.storage = storage;
    trackInScope(this);
  }

  get bytes(): number {
    return this.size * BYTES[this.dtype];
  }

  get disposed(): boolean {
    return this.storage === null;
  }

  get buffer(): GPUBuffer {
    if (!this.storage) throw new Error(`${this.describe()} was used after dispose()`);
    return this.storage.buffer;
  }

  describe(): string {
    return `Tensor${this.name ? ` "${this.name}"` : ''} ${this.dtype}${shapeStr(this.shape)}`;
  }

  /** A view with another shape over the same storage. */
  reshape(shape: Shape): Tensor {
    const resolved = resolveShape(shape, this.size);
    if (numel(resolved) !== this.size) {
      throw new TypeError(`reshape: cannot view ${this.describe()} as ${shapeStr(shape)}`);
    }
    if (!this.storage) throw new Error(`${this.describe()} was used after dispose()`);
    const view = new Tensor(resolved, this.dtype, this.storage);
    if (this.requiresGrad && gradEnabled()) {
      recordOp('reshape', view, [this], [], (g) => [g.reshape(this.shape)]);
    }
    return view;
  }

  /** Binds elements [first, end) of this tensor; returns the binding and the element index of `first` in it. */
  bind(first = 0, end = this.size): { binding: Binding; base: number } {
    const b = BYTES[this.dtype];
    const { binding, shift } = bindRange(this.buffer, first * b, end * b);
    return { binding, base: shift / b };
  }

  /** Drops the creator's reference (idempotent). The buffer goes back to the pool once no graph node needs it. */
  dispose(): void {
    if (!this.owned) return;
    this.owned = false;
    this.settle();
  }

  /** @internal a graph node reads this tensor's values in backward */
  retainStorage(): this {
    if (!this.storage) throw new Error(`${this.describe()} was used after dispose()`);
    this.saves++;
    return this;
  }
  /** @internal */
  releaseStorage(): void {
    this.saves--;
    this.settle();
  }
  /** @internal a graph node routes a gradient to this tensor */
  retainGraph(): this {
    this.uses++;
    return this;
  }
  /** @internal */
  releaseGraph(): void {
    this.uses--;
    this.settle();
  }

  private settle(): void {
    if (this.owned || this.saves > 0) return;
    if (this.storage) {
      const s = this.storage;
      this.storage = null;
      if (--s.refs === 0) engine().pool.release(s.buffer);
      this.grad?.dispose();
      this.grad = null;
    }
    if (this.uses === 0) releaseNode(this);
  }

  /** @internal Another tensor object over the same storage, outside every scope (for graph nodes). */
  alias(): Tensor {
    if (!this.storage) throw new Error(`${this.describe()} was used after dispose()`);
    tracking = false; // the node that asked owns it
    try {
      return new Tensor(this.shape, this.dtype, this.storage);
    } finally {
      tracking = true;
    }
  }

  /** Copies the values back to the CPU (bf16/f16 widened to f32). */
  async read(): Promise<Float32Array | Int32Array> {
    const bytes = await engine().cmd.read(this.buffer, 0, this.bytes);
    return decode(new Uint8Array(bytes), this.dtype);
  }

  async readF32(): Promise<Float32Array> {
    const v = await this.read();
    return v instanceof Float32Array ? v : Float32Array.from(v);
  }

  /** The value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new TypeError(`item(): ${this.describe()} has ${this.size} elements, not 1`);
    return (await this.read())[0];
  }

  /**
   * Writes raw bytes at a byte offset (streaming weights from disk in pieces). The offset and the length
   * must be multiples of 4, except that the last piece may end with the tensor.
   */
  writeBytes(byteOffset: number, bytes: Uint8Array): void {
    if (byteOffset % 4 || byteOffset + bytes.byteLength > this.bytes) {
      throw new RangeError(`writeBytes: ${bytes.byteLength} bytes at ${byteOffset} do not fit ${this.describe()}`);
    }
    if (bytes.byteLength % 4 && byteOffset + bytes.byteLength !== this.bytes) {
      throw new RangeError(`writeBytes: only the last piece of ${this.describe()} may have a length not a multiple of 4`);
    }
    engine().cmd.write(this.buffer, byteOffset, bytes.byteLength % 4 ? copyPadded(bytes) : bytes);
  }

  /** Overwrites the contents from CPU values. */
  write(values: ArrayLike<number> | Uint8Array, raw = false): void {
    const data = raw ? (values as Uint8Array) : encode(values as ArrayLike<number>, this.dtype);
    if (data.byteLength !== this.bytes) {
      throw new TypeError(`write: ${this.describe()} needs ${this.bytes} bytes, got ${data.byteLength}`);
    }
    // writeBuffer wants a multiple of 4 bytes; half tensors of odd length get one padding element.
    const padded = data.byteLength % 4 ? copyPadded(data) : data;
    const { cmd } = engine();
    const chunk = 64 << 20; // keep Dawn's staging copies modest for big weights
    for (let off = 0; off < padded.byteLength; off += chunk) {
      cmd.write(this.buffer, off, padded.subarray(off, Math.min(padded.byteLength, off + chunk)));
    }
  }
}

function copyPadded(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(data.byteLength / 4) * 4);
  out.set(data);
  return out;
}

function resolveShape(shape: Shape, size: number): number[] {
  const free = shape.indexOf(-1);
  if (free < 0) return [...shape];
  const rest = numel(shape.filter((_, i) => i !== free));
  const out = [...shape];
  out[free] = rest ? size / rest : 0;
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Creation

/** An uninitialised tensor. */
export function empty(shape: Shape, dtype: DType = 'f32'): Tensor {
  return new Tensor(shape, dtype);
}

/** A tensor holding `values` (numbers are rounded to `dtype`; a Uint8Array with `raw` is taken as bytes). */
export function tensor(values: ArrayLike<number>, shape: Shape, dtype: DType = 'f32'): Tensor {
  if (values.length !== numel(shape)) {
    throw new TypeError(`tensor: ${values.length} values do not fill shape ${shapeStr(shape)}`);
  }
  const t = new Tensor(shape, dtype);
  t.write(values);
  return t;
}

/** A tensor from raw little-endian bytes of `dtype` (as stored in safetensors files). */
export function fromBytes(bytes: Uint8Array, shape: Shape, dtype: DType): Tensor {
  const t = new Tensor(shape, dtype);
  t.write(bytes, true);
  return t;
}

/** Long-lived tensor (weights, optimiser state): allocated at its exact size, outside the size classes. */
export function parameter(shape: Shape, dtype: DType = 'f32'): Tensor {
  const bytes = Math.max(4, Math.ceil((numel(shape) * BYTES[dtype]) / 4) * 4);
  return new Tensor(shape, dtype, new Storage(engine().pool.acquire(bytes, true), bytes));
}

export function assertDtype(op: string, t: Tensor, ...allowed: DType[]): void {
  if (!allowed.includes(t.dtype)) {
    throw new TypeError(`${op}: ${t.describe()} has dtype ${t.dtype}; expected ${allowed.join(' or ')}`);
  }
}

export function assertShape(op: string, what: string, t: Tensor, expected: Shape): void {
  if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
    throw new TypeError(`${op}: ${what} ${t.describe()} should have shape ${shapeStr(expected)}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Scopes

const scopes: Set<Tensor>[] = [];
let tracking = true;

function trackInScope(t: Tensor): void {
  if (tracking) scopes[scopes.length - 1]?.add(t);
}

// biome-ignore lint/suspicious/noConfusingVoidType: a tidy() callback may return nothing, which TypeScript types as void
type Kept = Tensor | Kept[] | { [key: string]: Kept } | number | string | boolean | null | undefined | void;

/**
 * Runs `fn` and disposes every tensor created inside it, except those in its result (a tensor, or arrays /
 * objects holding tensors), which move to the enclosing scope. Synchronous only: GPU work is recorded, not
 * awaited, so there is nothing to await inside.
 */
export function tidy<R extends Kept>(fn: () => R): R {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: R;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  const keep = new Set<Tensor>();
  collect(result, keep);
  for (const t of scope) if (!keep.has(t)) t.dispose();
  for (const t of keep) if (scope.has(t)) trackInScope(t);
  return result;
}

function collect(value: Kept, into: Set<Tensor>): void {
  if (value instanceof Tensor) into.add(value);
  else if (Array.isArray(value)) value.forEach((v) => collect(v, into));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => collect(v, into));
}

/** Takes a tensor out of the current scope, so `tidy` will not dispose it. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

// ---------------------------------------------------------------------------------------------------------
// Autograd: each op that sees an input requiring grad records a node on its output. backward() replays
// the nodes reachable from the loss in reverse creation order (the tape), then frees them.

let gradDisabled = 0;
let nextSeq = 0;

export function gradEnabled(): boolean {
  return gradDisabled === 0;
}

/** Runs `fn` recording the graph even inside noGrad (activation recomputation during backward). */
export function withGrad<R>(fn: () => R): R {
  const saved = gradDisabled;
  gradDisabled = 0;
  try {
    return fn();
  } finally {
    gradDisabled = saved;
  }
}

/** Runs `fn` without recording the graph (inference, optimiser updates). */
export function noGrad<R>(fn: () => R): R {
  gradDisabled++;
  try {
    return fn();
  } finally {
    gradDisabled--;
  }
}

/**
 * Called by ops after computing `output`: if any input requires grad, the output does too and remembers
 * how to send gradients back. `saved` lists every tensor whose values backward reads (inputs included, and
 * the output itself if needed). Returns whether a node was recorded.
 */
export function recordOp(op: string, output: Tensor, inputs: Tensor[], saved: Tensor[], backward: GradNode['backward']): boolean {
  if (!gradEnabled() || !inputs.some((t) => t.requiresGrad)) return false;
  for (const t of inputs) t.retainGraph();
  // A node holding its own output would be a cycle: it keeps an alias of the storage instead.
  const keptValues = saved.map((t) => {
    if (t !== output) return t.retainStorage();
    const alias = t.alias().retainStorage();
    alias.dispose();
    return alias;
  });
  output.requiresGrad = true;
  output.node = { seq: nextSeq++, op, inputs, saved: keptValues, backward };
  return true;
}

function releaseNode(t: Tensor): void {
  const node = t.node;
  if (!node) return;
  t.node = null;
  for (const s of node.saved) s.releaseStorage();
  for (const s of node.inputs) s.releaseGraph();
}

/**
 * Reverse-mode differentiation from a scalar `loss` (or with an explicit upstream `grad`). Leaves that
 * require grad accumulate into `.grad`; the graph is freed as it is consumed.
 */
export function backward(loss: Tensor, grad?: Tensor): void {
  if (!loss.requiresGrad) throw new Error(`backward: ${loss.describe()} does not depend on any tensor that requires grad`);
  if (!grad && loss.size !== 1) throw new Error(`backward: ${loss.describe()} is not a scalar; pass its gradient`);
  // The tape: every node reachable from the loss, latest first.
  const tape: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack = [loss];
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t) || !t.node) continue;
    seen.add(t);
    tape.push(t);
    for (const i of t.node.inputs) if (i.requiresGrad) stack.push(i);
  }
  tape.sort((a, b) => b.node!.seq - a.node!.seq);
  // Hold every tape entry until its own node has run: freeing a consumer's node must not free a producer
  // whose gradient is still on its way.
  for (const t of tape) t.retainGraph();

  noGrad(() => {
    const grads = new Map<Tensor, Tensor>();
    // The map owns its entries: a caller's gradient enters as a view, so disposing it leaves theirs alone.
    grads.set(loss, grad ? grad.reshape(grad.shape) : fill(loss.shape, 1));
    for (const t of tape) {
      const g = grads.get(t);
      grads.delete(t);
      const node = t.node!;
      if (g) {
        const needs = node.inputs.map((i) => i.requiresGrad);
        const inputGrads = node.backward(g, needs, node.saved);
        g.dispose();
        node.inputs.forEach((input, k) => {
          const gi = inputGrads[k];
          if (!gi || !needs[k]) return;
          assertSameShape(node.op, input, gi);
          if (!input.node) accumulateLeaf(input, gi);
          else {
            const prev = grads.get(input);
            grads.set(input, prev ? addInPlace(prev, gi) : keep(gi));
          }
        });
      }
      releaseNode(t);
      t.releaseGraph();
    }
    for (const g of grads.values()) g.dispose();
  });
}

function assertSameShape(op: string, input: Tensor, g: Tensor): void {
  if (g.size !== input.size) {
    throw new Error(`internal: ${op} backward produced a ${g.describe()} gradient for ${input.describe()}`);
  }
}

function accumulateLeaf(leaf: Tensor, g: Tensor): void {
  if (leaf.grad) addInPlace(leaf.grad, g);
  else if (sameShape(g.shape, leaf.shape)) leaf.grad = keep(g);
  else {
    leaf.grad = keep(g.reshape(leaf.shape));
    g.dispose();
  }
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

// Elementwise helpers the autograd core needs; provided by ops/elementwise.ts at load time so that the
// core has no import cycle with the ops.
let fill: (shape: Shape, value: number) => Tensor = () => {
  throw new Error('internal: ops not loaded');
};
let addInto: (dst: Tensor, src: Tensor) => void = fill as never;

export function provideCoreOps(ops: { fill: typeof fill; addInto: typeof addInto }): void {
  fill = ops.fill;
  addInto = ops.addInto;
}

/** dst += src (consumes src). */
function addInPlace(dst: Tensor, src: Tensor): Tensor {
  addInto(dst, src);
  src.dispose();
  return dst;
}

/**
 * Activation recomputation: computes fn(inputs) without keeping its intermediates, and records one node
 * whose backward runs fn again with the graph on, then back-propagates through that. Parameters fn uses
 * (captured, requiring grad) receive their gradients during that inner pass. Memory: the node keeps only
 * the inputs; time: one more forward of fn per backward.
 */
export function checkpoint(fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], params: Tensor[] = []): Tensor {
  const out = tidy(() => noGrad(() => fn(...inputs)));
  // `params` (the trainable tensors fn captures) are listed so that the node is recorded even when no input
  // requires grad; their gradients accumulate inside the inner pass, so the node returns none for them.
  const trainable = params.filter((p) => p.requiresGrad);
  recordOp('checkpoint', out, [...inputs, ...trainable], inputs, (g, needs) => {
    const leaves = inputs.map((x, i) => {
      const leaf = x.alias();
      leaf.requiresGrad = needs[i];
      return leaf;
    });
    withGrad(() => tidy(() => backward(fn(...leaves), g)));
    const grads: (Tensor | null)[] = leaves.map((leaf) => {
      const grad = leaf.grad;
      leaf.grad = null;
      leaf.dispose();
      return grad;
    });
    return [...grads, ...trainable.map(() => null)];
  });
  return out;
}
