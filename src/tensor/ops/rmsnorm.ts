// RMSNorm (shaders/rmsnorm.wgsl): forward and backward side by side.
import { type Tensor, assertDtype, empty, recordOp } from '../tensor.ts';
import { ROW_FORMS, type RowForm, engine, groups, k, ranges, rowKernel } from './launch.ts';
import { variantFamily } from './variants.ts';
import { zeros } from './elementwise.ts';

function weightDefines(w: Tensor) {
  return { W_F32: w.dtype === 'f32', W_DTYPE: w.dtype };
}

/** The forward and backward kernels' form: a workgroup or an invocation per row (launch.ts, rowKernel). */
export const RMSNORM = variantFamily<RowForm>('rmsnorm', ROW_FORMS);

function check(x: Tensor, w: Tensor): [number, number] {
  assertDtype('rmsnorm', x, 'f32');
  assertDtype('rmsnorm', w, 'f32', 'bf16', 'f16');
  const C = x.shape[x.shape.length - 1];
  if (w.shape.length !== 1 || w.shape[0] !== C) {
    throw new TypeError(`rmsnorm: weight ${w.describe()} does not match the last dimension of ${x.describe()}`);
  }
  return [x.size / C, C];
}

// x (..., C), w (C) → y (..., C):  y = w ⊙ x / √(mean(x²) + eps)
export function rmsnorm(x: Tensor, w: Tensor, eps: number): Tensor {
  const [N, C] = check(x, w);
  const y = empty(x.shape);
  const rstd = empty([N]);
  for (const [r0, r1] of ranges(N, C * 4)) {
    const { defines, workgroups } = rowKernel(RMSNORM, r1 - r0);
    const kern = k('rmsnorm.wgsl', 'main', { FORWARD: true, ...weightDefines(w), ...defines });
    const wx = x.bind(r0 * C, r1 * C);
    const wy = y.bind(r0 * C, r1 * C);
    const wr = rstd.bind(r0, r1);
    const p = { rows: r1 - r0, cols: C, eps, base_x: wx.base, base_y: wy.base, base_r: wr.base };
    engine().cmd.dispatch(kern, [w.bind().binding, wx.binding, wy.binding, wr.binding], p, workgroups(kern));
  }
  recordOp('rmsnorm', y, [x, w], [x, w, rstd], (dy, needs) => rmsnormBackward(dy, x, w, rstd, needs));
  rstd.dispose(); // the graph node keeps it if backward needs it
  return y;
}

// dy (N, C) → dx (N, C) and, for a trainable f32 weight, dw (C)
export function rmsnormBackward(dy: Tensor, x: Tensor, w: Tensor, rstd: Tensor, needs: boolean[]): (Tensor | null)[] {
  const [N, C] = check(x, w);
  let dx: Tensor | null = null;
  if (needs[0]) {
    dx = empty(x.shape);
    for (const [r0, r1] of ranges(N, C * 4)) {
      const { defines, workgroups } = rowKernel(RMSNORM, r1 - r0);
      const kern = k('rmsnorm.wgsl', 'main', { BACKWARD: true, ...weightDefines(w), ...defines });
      const wx = x.bind(r0 * C, r1 * C);
      const wg = dy.bind(r0 * C, r1 * C);
      const wr = rstd.bind(r0, r1);
      const wd = dx.bind(r0 * C, r1 * C);
      const p = { rows: r1 - r0, cols: C, base_x: wx.base, base_y: wg.base, base_r: wr.base, base_dx: wd.base, accumulate: 0 };
      engine().cmd.dispatch(kern, [w.bind().binding, wx.binding, wg.binding, wr.binding, wd.binding], p, workgroups(kern));
    }
  }
  let dw: Tensor | null = null;
  if (needs[1]) {
    assertDtype('rmsnorm weight gradient', w, 'f32');
    dw = zeros([C]);
    const kern = k('rmsnorm.wgsl', 'main', { WEIGHT_GRAD: true });
    for (const [r0, r1] of ranges(N, C * 4)) {
      const wx = x.bind(r0 * C, r1 * C);
      const wg = dy.bind(r0 * C, r1 * C);
      const wr = rstd.bind(r0, r1);
      const p = { rows: r1 - r0, cols: C, base_x: wx.base, base_y: wg.base, base_r: wr.base, base_dx: 0, accumulate: 1 };
      engine().cmd.dispatch(kern, [wx.binding, wg.binding, wr.binding, dw.bind().binding], p, groups(C, kern));
    }
  }
  return [dx, dw];
}
