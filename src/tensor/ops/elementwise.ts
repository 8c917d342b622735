// Elementwise ops (shaders/elementwise.wgsl): forward and backward side by side. f32 only.
// Binary ops broadcast with numpy's rules (rank ≤ 4); the gradient of a broadcast operand is summed back
// to its shape (sumTo, shaders/reduce.wgsl).
import { type Shape, type Tensor, assertDtype, empty, gradEnabled, noGrad, provideCoreOps, recordOp, sameShape, shapeStr } from '../tensor.ts';
import type { Binding } from '../../gpu/commands.ts';
import type { Defines } from '../../gpu/pipelines.ts';
import { engine, groups, k, ranges } from './launch.ts';
import { sumTo } from './reduce.ts';

type Unary = 'copy' | 'scale' | 'sigmoid' | 'silu';
type Binary = 'add' | 'sub' | 'mul' | 'div' | 'axpy' | 'silu_grad' | 'silu_grad_swapped' | 'sigmoid_grad' | 'swiglu';

// Bases wrap around (u32 arithmetic): a broadcast operand's may be negative (see binaryRaw's bindOperand).
function params(n: number, baseA: number, baseB: number, baseOut: number, alpha: number) {
  return { n, base_a: baseA >>> 0, base_b: baseB >>> 0, base_out: baseOut >>> 0, alpha };
}

/**
 * Records one dispatch of an elementwise kernel over `n` elements at element bases `bases` (its bindings'
 * operands, in order: a, b, out). With every count a multiple of 4 it runs the VEC4 form (four elements
 * an invocation, n and bases in vec4s: about 2× faster on lavapipe), else the scalar one.
 */
function dispatchElementwise(defines: Defines, bindings: Binding[], n: number, bases: [number, number, number], alpha: number): void {
  const vec4 = n % 4 === 0 && bases.every((b) => b % 4 === 0);
  const d = vec4 ? 4 : 1;
  const kern = k('elementwise.wgsl', 'main', { ...defines, VEC4: vec4 });
  engine().cmd.dispatch(kern, bindings, params(n / d, bases[0] / d, bases[1] / d, bases[2] / d, alpha), groups(n / d, kern));
}

/** y = f(x, alpha) over every element. */
export function unaryRaw(fn: Unary, x: Tensor, alpha = 0, out = empty(x.shape)): Tensor {
  assertDtype(fn, x, 'f32');
  for (const [s, e] of ranges(x.size, 4, 4)) {
    const a = x.bind(s, e);
    const o = out.bind(s, e);
    dispatchElementwise({ UNARY: true, FN: `op_${fn}` }, [a.binding, o.binding], e - s, [a.base, 0, o.base], alpha);
  }
  return out;
}

/** A tensor of `shape` filled with `value`. */
export function fill(shape: Shape, value: number): Tensor {
  const out = empty(shape);
  for (const [s, e] of ranges(out.size, 4, 4)) {
    const o = out.bind(s, e);
    dispatchElementwise({ FILL: true }, [o.binding], e - s, [0, 0, o.base], value);
  }
  return out;
}

export const zeros = (shape: Shape): Tensor => fill(shape, 0);

/** The broadcast shape of a and b (numpy rules), or an error naming the op and both shapes. */
export function broadcastShape(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new TypeError(`${op}: shapes ${shapeStr(a)} and ${shapeStr(b)} do not broadcast`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Element strides of `shape` read as `out` (0 along broadcast dims), left-padded to rank 4. */
function broadcastStrides(shape: Shape, out: Shape): number[] {
  const padded = [...Array(out.length - shape.length).fill(1), ...shape];
  const strides = new Array(out.length).fill(0);
  let s = 1;
  for (let i = out.length - 1; i >= 0; i--) {
    strides[i] = padded[i] === 1 && out[i] !== 1 ? 0 : s;
    s *= padded[i];
  }
  return [...Array(4 - out.length).fill(0), ...strides];
}

/** out = f(a, b, alpha), broadcasting. */
export function binaryRaw(op: string, fn: Binary, a: Tensor, b: Tensor, alpha = 0): Tensor {
  assertDtype(op, a, 'f32');
  assertDtype(op, b, 'f32');
  const shape = broadcastShape(op, a.shape, b.shape);
  if (shape.length > 4) throw new TypeError(`${op}: rank ${shape.length} is above the supported 4`);
  const out = empty(shape);
  const broadcast = a.size !== out.size || b.size !== out.size;
  const dims = [...Array(4 - shape.length).fill(1), ...shape];
  const sa = broadcastStrides(a.shape, shape);
  const sb = broadcastStrides(b.shape, shape);
  // A broadcast operand is bound whole (its indices jump around); same-shape ones by range.
  const bindOperand = (t: Tensor, s: number, e: number) => {
    if (t.size === out.size) {
      const w = t.bind(s, e);
      return { binding: w.binding, base: w.base - s };
    }
    if (t.bytes > engine().gpu.limits.maxStorageBufferBindingSize) {
      throw new RangeError(`${op}: broadcasting ${t.describe()} larger than one binding is not supported`);
    }
    return t.bind();
  };
  for (const [s, e] of ranges(out.size, 4, 4)) {
    const wa = bindOperand(a, s, e);
    const wb = bindOperand(b, s, e);
    const wo = out.bind(s, e);
    if (!broadcast) {
      dispatchElementwise(
        { BINARY: true, BROADCAST: false, FN: `op_${fn}` },
        [wa.binding, wb.binding, wo.binding],
        e - s,
        [wa.base + s, wb.base + s, wo.base],
        alpha,
      );
      continue;
    }
    const kern = k('elementwise.wgsl', 'main', { BINARY: true, BROADCAST: true, FN: `op_${fn}`, VEC4: false });
    const [sa0, sa1, sa2, sa3] = sa;
    const [sb0, sb1, sb2, sb3] = sb;
    const p = { ...params(e - s, wa.base, wb.base, wo.base, alpha), d1: dims[1], d2: dims[2], d3: dims[3], sa0, sa1, sa2, sa3, sb0, sb1, sb2, sb3, first: s };
    engine().cmd.dispatch(kern, [wa.binding, wb.binding, wo.binding], p, groups(e - s, kern));
  }
  return out;
}

/** dst = f(dst, src, alpha) in place, same shapes; no autograd (accumulation, optimiser steps). */
export function inplaceRaw(fn: Binary, dst: Tensor, src: Tensor, alpha = 0): void {
  assertDtype(fn, dst, 'f32');
  assertDtype(fn, src, 'f32');
  if (dst.size !== src.size) throw new TypeError(`${fn}: ${dst.describe()} and ${src.describe()} differ in size`);
  for (const [s, e] of ranges(dst.size, 4, 4)) {
    const a = dst.bind(s, e);
    const b = src.bind(s, e);
    dispatchElementwise({ INPLACE: true, FN: `op_${fn}` }, [a.binding, b.binding], e - s, [a.base, b.base, 0], alpha);
  }
}

/** dst += src */
export function addInto(dst: Tensor, src: Tensor): void {
  inplaceRaw('add', dst, src);
}

/** dst += alpha · src */
export function axpy(dst: Tensor, src: Tensor, alpha: number): void {
  inplaceRaw('axpy', dst, src, alpha);
}

provideCoreOps({ fill, addInto });

// ---------------------------------------------------------------------------------------------------------
// Differentiable ops

// a + b
export function add(a: Tensor, b: Tensor): Tensor {
  const out = binaryRaw('add', 'add', a, b);
  recordOp('add', out, [a, b], [], (g, needs) => [needs[0] ? sumTo(g, a.shape) : null, needs[1] ? sumTo(g, b.shape) : null]);
  return out;
}

// a - b
export function sub(a: Tensor, b: Tensor): Tensor {
  const out = binaryRaw('sub', 'sub', a, b);
  recordOp('sub', out, [a, b], [], (g, needs) => [needs[0] ? sumTo(g, a.shape) : null, needs[1] ? scaleRaw(sumTo(g, b.shape), -1) : null]);
  return out;
}

// a ⊙ b
export function mul(a: Tensor, b: Tensor): Tensor {
  const out = binaryRaw('mul', 'mul', a, b);
  recordOp('mul', out, [a, b], [a, b], (g, needs) => [
    needs[0] ? sumTo(binaryRaw('mul', 'mul', g, b), a.shape) : null,
    needs[1] ? sumTo(binaryRaw('mul', 'mul', g, a), b.shape) : null,
  ]);
  return out;
}

// x · s for a constant s
export function scale(x: Tensor, s: number): Tensor {
  const out = unaryRaw('scale', x, s);
  recordOp('scale', out, [x], [], (g) => [unaryRaw('scale', g, s)]);
  return out;
}

/** Consumes x: returns x·s in a new tensor and disposes x. */
function scaleRaw(x: Tensor, s: number): Tensor {
  const out = unaryRaw('scale', x, s);
  x.dispose();
  return out;
}

// x / (1 + e^{−x})
export function silu(x: Tensor): Tensor {
  const out = unaryRaw('silu', x);
  recordOp('silu', out, [x], [x], (g) => [binaryRaw('silu_grad', 'silu_grad', x, g)]);
  return out;
}

// gate, up (same shape) → silu(gate) ⊙ up, SwiGLU's product in one kernel. The graph keeps gate and up
// only: backward recomputes silu(gate) inside its kernels instead of holding it and the product (at 1,630
// tokens of Llama-3.2-1B each is 52 MiB), and takes the same f32 steps as silu then mul, bit for bit.
export function swiglu(gate: Tensor, up: Tensor): Tensor {
  if (!sameShape(gate.shape, up.shape)) throw new TypeError(`swiglu: gate ${gate.describe()} and up ${up.describe()} differ in shape`);
  const out = binaryRaw('swiglu', 'swiglu', gate, up);
  recordOp('swiglu', out, [gate, up], [gate, up], (g, needs) => {
    let dGate: Tensor | null = null;
    if (needs[0]) {
      dGate = binaryRaw('mul', 'mul', g, up); // dy ⊙ up, then ⊙ silu'(gate) in place
      inplaceRaw('silu_grad_swapped', dGate, gate);
    }
    return [dGate, needs[1] ? binaryRaw('swiglu', 'swiglu', gate, g) : null]; // d up = silu(gate) ⊙ dy
  });
  return out;
}

// 1 / (1 + e^{−x})
export function sigmoid(x: Tensor): Tensor {
  const out = unaryRaw('sigmoid', x);
  recordOp('sigmoid', out, [x], [x], (g) => [binaryRaw('sigmoid_grad', 'sigmoid_grad', x, g)]);
  return out;
}

/** A copy that is differentiable (the gradient passes through). */
export function clone(x: Tensor): Tensor {
  const out = unaryRaw('copy', x);
  recordOp('clone', out, [x], [], (g) => [unaryRaw('copy', g)]);
  return out;
}

/** A copy outside the graph. */
export function detach(x: Tensor): Tensor {
  return noGrad(() => unaryRaw('copy', x));
}

export { gradEnabled };
