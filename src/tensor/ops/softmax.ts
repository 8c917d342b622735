// Softmax along the last axis (shaders/softmax.wgsl), with the attention options: a scale folded in, a
// causal mask and a key-padding mask. Forward and backward side by side.
import { type Tensor, assertDtype, empty, recordOp, shapeStr } from '../tensor.ts';
import { ROW_FORMS, type RowForm, engine, k, placeholder, ranges, rowKernel } from './launch.ts';
import { variantFamily } from './variants.ts';

/** The forward and backward kernels' form: a workgroup or an invocation per row (launch.ts, rowKernel). */
export const SOFTMAX = variantFamily<RowForm>('softmax', ROW_FORMS);

export interface SoftmaxOptions {
  /** Multiplies the inputs first (1/√D for attention). */
  scale?: number;
  /** Query t (of Tq, the second-to-last axis) sees keys j ≤ past + t. */
  causal?: boolean;
  /** Keys already in the KV cache before the first query (decoding). */
  past?: number;
  /** i32 (B, Tk') with Tk' ≥ Tk (a KV cache's mask covers the whole cache): 0 marks padding keys. The
   *  input is then (B, H, Tq, Tk). */
  keyMask?: Tensor;
  /** The key mask holds document ids (packed rows): queries see only keys of their own document. */
  segments?: boolean;
}

// x (..., Tq, Tk) → y (..., Tq, Tk)
export function softmax(x: Tensor, opts: SoftmaxOptions = {}): Tensor {
  assertDtype('softmax', x, 'f32');
  const { scale = 1, causal = false, past = 0, keyMask } = opts;
  const rank = x.shape.length;
  const Tk = x.shape[rank - 1];
  const Tq = rank >= 2 ? x.shape[rank - 2] : 1;
  const R = x.size / Tk;
  let heads = 1;
  if (keyMask) {
    assertDtype('softmax key mask', keyMask, 'i32');
    if (rank !== 4 || keyMask.shape.length !== 2 || keyMask.shape[0] !== x.shape[0] || keyMask.shape[1] < Tk) {
      throw new TypeError(`softmax: key mask ${keyMask.describe()} does not fit scores ${shapeStr(x.shape)} (B, H, Tq, Tk)`);
    }
    heads = x.shape[1];
  }
  const y = empty(x.shape);
  const mask = keyMask ?? placeholder();
  for (const [r0, r1] of ranges(R, Tk * 4)) {
    const { defines, workgroups } = rowKernel(SOFTMAX, r1 - r0);
    const kern = k('softmax.wgsl', 'main', { FORWARD: true, ...defines });
    const wx = x.bind(r0 * Tk, r1 * Tk);
    const wy = y.bind(r0 * Tk, r1 * Tk);
    const p = {
      rows: r1 - r0,
      cols: Tk,
      tq: Tq,
      heads,
      past,
      causal: causal ? 1 : 0,
      has_mask: keyMask ? (opts.segments ? 2 : 1) : 0,
      scale,
      base_x: wx.base,
      base_y: wy.base,
      first_row: r0,
      mask_stride: keyMask ? keyMask.shape[1] : 0,
    };
    engine().cmd.dispatch(kern, [mask.bind().binding, wx.binding, wy.binding], p, workgroups(kern));
  }
  // Backward reads y, the op's own output (kept as saved[0]), not x.
  recordOp('softmax', y, [x], [y], (dy, _needs, [ySaved]) => [softmaxBackward(dy, ySaved, scale)]);
  return y;
}

// dy, y (R, Tk) → dx = scale · y ⊙ (dy − Σ y⊙dy)
export function softmaxBackward(dy: Tensor, y: Tensor, scale: number): Tensor {
  const Tk = y.shape[y.shape.length - 1];
  const R = y.size / Tk;
  const dx = empty(y.shape);
  for (const [r0, r1] of ranges(R, Tk * 4)) {
    const { defines, workgroups } = rowKernel(SOFTMAX, r1 - r0);
    const kern = k('softmax.wgsl', 'main', { BACKWARD: true, ...defines });
    const wy = y.bind(r0 * Tk, r1 * Tk);
    const wg = dy.bind(r0 * Tk, r1 * Tk);
    const wd = dx.bind(r0 * Tk, r1 * Tk);
    // base_x: dx's rows
    const p = { rows: r1 - r0, cols: Tk, scale, base_x: wd.base, base_y: wy.base, base_g: wg.base, first_row: r0 };
    engine().cmd.dispatch(kern, [wy.binding, wg.binding, wd.binding], p, workgroups(kern));
  }
  return dx;
}
