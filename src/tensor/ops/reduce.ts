// Reductions along the last axis (shaders/reduce.wgsl), forward and backward side by side, and sumTo:
// summing a broadcast result back to an operand's shape.
import { type Shape, type Tensor, assertDtype, empty, numel, recordOp, shapeStr } from '../tensor.ts';
import { engine, groups, k, ranges, reduction } from './launch.ts';

function rowsCols(t: Tensor): [number, number] {
  const cols = t.shape.length ? t.shape[t.shape.length - 1] : 1;
  return [cols ? t.size / cols : 0, cols];
}

/** x (R, C) → out (R): sum·alpha or max along the last axis. */
function reduceLast(x: Tensor, max: boolean, alpha: number): Tensor {
  assertDtype(max ? 'max' : 'sum', x, 'f32');
  const [rows, cols] = rowsCols(x);
  const out = empty(x.shape.slice(0, -1));
  const kern = k('reduce.wgsl', 'main', { REDUCE_LAST: true, MAX: max, ...reduction() });
  for (const [r0, r1] of ranges(rows, cols * 4)) {
    const wx = x.bind(r0 * cols, r1 * cols);
    const wo = out.bind(r0, r1);
    const p = { rows: r1 - r0, cols, base_x: wx.base, base_out: wo.base, alpha };
    engine().cmd.dispatch(kern, [wx.binding, wo.binding], p, r1 - r0);
  }
  return out;
}

/** g (R) → out (R, C) with out[r, c] = alpha·g[r]. */
function broadcastLast(g: Tensor, shape: Shape, alpha: number): Tensor {
  const out = empty(shape);
  const [rows, cols] = rowsCols(out);
  const kern = k('reduce.wgsl', 'main', { BROADCAST_LAST: true });
  for (const [r0, r1] of ranges(rows, cols * 4)) {
    const wg = g.bind(r0, r1);
    const wo = out.bind(r0 * cols, r1 * cols);
    const p = { rows: r1 - r0, cols, base_out: wo.base, alpha, base_g: wg.base };
    engine().cmd.dispatch(kern, [wg.binding, wo.binding], p, groups((r1 - r0) * cols, kern));
  }
  return out;
}

// x (..., C) → (...): Σ_c x
export function sum(x: Tensor): Tensor {
  const out = reduceLast(x, false, 1);
  recordOp('sum', out, [x], [], (g) => [broadcastLast(g, x.shape, 1)]);
  return out;
}

// x (..., C) → (...): Σ_c x / C
export function mean(x: Tensor): Tensor {
  const cols = rowsCols(x)[1];
  const out = reduceLast(x, false, 1 / cols);
  recordOp('mean', out, [x], [], (g) => [broadcastLast(g, x.shape, 1 / cols)]);
  return out;
}

// x (..., C) → (...): max_c x; the gradient is shared evenly by tied maxima (torch.amax).
export function max(x: Tensor): Tensor {
  const out = reduceLast(x, true, 1);
  // Backward recomputes the max rather than saving `out`: a node must not hold its own output (a cycle).
  recordOp('max', out, [x], [x], (g) => {
    const m = reduceLast(x, true, 1);
    const dx = maxGrad(x, m, g);
    m.dispose();
    return [dx];
  });
  return out;
}

function maxGrad(x: Tensor, m: Tensor, g: Tensor): Tensor {
  const [rows, cols] = rowsCols(x);
  const out = empty(x.shape);
  const kern = k('reduce.wgsl', 'main', { MAX_GRAD: true, ...reduction() });
  for (const [r0, r1] of ranges(rows, cols * 4)) {
    const wx = x.bind(r0 * cols, r1 * cols);
    const wm = m.bind(r0, r1);
    const wg = g.bind(r0, r1);
    const wo = out.bind(r0 * cols, r1 * cols);
    const p = { rows: r1 - r0, cols, base_x: wx.base, base_out: wo.base, base_g: wg.base, base_m: wm.base };
    engine().cmd.dispatch(kern, [wx.binding, wm.binding, wg.binding, wo.binding], p, r1 - r0);
  }
  return out;
}

/** Sums a gradient of a broadcast result back to `shape` (numpy broadcasting in reverse). No autograd. */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (numel(shape) === g.size) return g.reshape(shape);
  const rank = g.shape.length;
  const padded = [...Array(rank - shape.length).fill(1), ...shape];
  let cur = g;
  const curShape = [...g.shape];
  for (let axis = 0; axis < rank; axis++) {
    if (padded[axis] !== 1 || curShape[axis] === 1) continue;
    const before = numel(curShape.slice(0, axis));
    const inner = numel(curShape.slice(axis + 1));
    const next = sumMiddle(cur, before, curShape[axis], inner);
    if (cur !== g) cur.dispose();
    cur = next;
    curShape[axis] = 1;
  }
  if (numel(shape) !== cur.size) throw new Error(`internal: sumTo ${shapeStr(g.shape)} → ${shapeStr(shape)}`);
  const out = cur.reshape(shape);
  if (cur !== g) cur.dispose();
  return out;
}

/** x viewed as (A, R, B) → (A, B), summing over R. */
function sumMiddle(x: Tensor, a: number, r: number, b: number): Tensor {
  const out = empty([a, b]);
  const kern = k('reduce.wgsl', 'main', { SUM_MIDDLE: true });
  const dispatch = (a0: number, a1: number, r0: number, r1: number, accumulate: boolean) => {
    const wx = x.bind((a0 * r + r0) * b, ((a1 - 1) * r + r1) * b);
    const wo = out.bind(a0 * b, a1 * b);
    const p = { rows: a1 - a0, cols: r1 - r0, base_x: wx.base, base_out: wo.base, inner: b, accumulate: accumulate ? 1 : 0 };
    // Rows of x between the chunk's slices are skipped by the stride: r0 > 0 only with a single a.
    engine().cmd.dispatch(kern, [wx.binding, wo.binding], p, groups((a1 - a0) * b, kern));
  };
  if (r * b * 4 <= engine().gpu.limits.maxStorageBufferBindingSize / 2) {
    for (const [a0, a1] of ranges(a, r * b * 4)) dispatch(a0, a1, 0, r, false);
  } else {
    // One slice is too large to bind: sum it in pieces along R, accumulating.
    for (let ai = 0; ai < a; ai++) {
      ranges(r, b * 4).forEach(([r0, r1], i) => dispatch(ai, ai + 1, r0, r1, i > 0));
    }
  }
  return out;
}
