// Cross-entropy over logits with integer targets (shaders/cross_entropy.wgsl), fused with log-softmax,
// mean over targets that are not −100. Forward and backward side by side.
import { type Tensor, assertDtype, empty, recordOp } from '../tensor.ts';
import { Params, engine, k, ranges, reduction } from './launch.ts';

export const IGNORE_INDEX = -100;

// logits (N, V), targets i32 (N) → loss () : mean over non-ignored rows of −log softmax(logits)[target],
// or with `weights` (N) f32 the weighted sum Σ w_r·(−log softmax[target]) over non-ignored rows
export function crossEntropy(logits: Tensor, targets: Tensor, weights?: Tensor): Tensor {
  assertDtype('crossEntropy', logits, 'f32');
  assertDtype('crossEntropy targets', targets, 'i32');
  const V = logits.shape[logits.shape.length - 1];
  const N = logits.size / V;
  if (targets.size !== N) {
    throw new TypeError(`crossEntropy: ${targets.describe()} does not give one target per row of ${logits.describe()}`);
  }
  if (weights) {
    assertDtype('crossEntropy weights', weights, 'f32');
    if (weights.size !== N) throw new TypeError(`crossEntropy: ${weights.describe()} does not give one weight per row of ${logits.describe()}`);
  }
  const weighted = { WEIGHTED: !!weights };
  const extra = weights ? [weights.bind().binding] : [];
  const rowLoss = empty([N]);
  const lse = empty([N]);
  const rows = k('cross_entropy.wgsl', 'main', { ROWS: true, ...reduction() });
  for (const [r0, r1] of ranges(N, V * 4)) {
    const wx = logits.bind(r0 * V, r1 * V);
    const p = new Params().u32(r1 - r0, V, wx.base, r0, r0, 0);
    engine().cmd.dispatch(rows, [wx.binding, targets.bind().binding, rowLoss.bind().binding, lse.bind().binding], p, r1 - r0);
  }
  const mean = empty([]);
  const count = empty([1]);
  engine().cmd.dispatch(
    k('cross_entropy.wgsl', 'main', { MEAN: true, ...weighted, ...reduction() }),
    [rowLoss.bind().binding, targets.bind().binding, mean.bind().binding, count.bind().binding, ...extra],
    new Params().u32(N, V, 0, 0, 0, 0),
    1,
  );
  rowLoss.dispose();
  recordOp('crossEntropy', mean, [logits], [logits, targets, lse, count, ...(weights ? [weights] : [])], (g) => [
    crossEntropyBackward(g, logits, targets, lse, count, weights),
  ]);
  lse.dispose();
  count.dispose();
  return mean;
}

// g () → dlogits (N, V)
function crossEntropyBackward(g: Tensor, logits: Tensor, targets: Tensor, lse: Tensor, count: Tensor, weights?: Tensor): Tensor {
  const V = logits.shape[logits.shape.length - 1];
  const N = logits.size / V;
  const dx = empty(logits.shape);
  const kern = k('cross_entropy.wgsl', 'main', { BACKWARD: true, WEIGHTED: !!weights });
  for (const [r0, r1] of ranges(N, V * 4)) {
    const wx = logits.bind(r0 * V, r1 * V);
    const wd = dx.bind(r0 * V, r1 * V);
    const p = new Params().u32(r1 - r0, V, wx.base, r0, r0, wd.base);
    const bindings = [wx.binding, targets.bind().binding, lse.bind().binding, count.bind().binding, g.bind().binding, wd.binding, ...(weights ? [weights.bind().binding] : [])];
    engine().cmd.dispatch(kern, bindings, p, r1 - r0);
  }
  return dx;
}
