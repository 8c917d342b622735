// Cross-entropy over logits with integer targets (shaders/cross_entropy.wgsl), fused with log-softmax,
// mean over targets that are not −100. Forward and backward side by side; and the same loss straight from
// the LM head's input (linearCrossEntropy), never holding the (N, V) logits.
import { type Tensor, assertDtype, empty, gradEnabled, recordOp } from '../tensor.ts';
import { binaryRaw, fill } from './elementwise.ts';
import { gemm } from './matmul.ts';
import { engine, k, ranges, reduction } from './launch.ts';

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
  const rowLoss = empty([N]);
  const lse = empty([N]);
  rowLosses(logits, N, targets, 0, rowLoss, lse);
  const { mean, count } = meanLoss(rowLoss, targets, V, weights);
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
  const dx = empty(logits.shape);
  logitGradients(logits, logits.size / V, targets, 0, lse, count, g, dx, weights);
  return dx;
}

// Rows [0, n) of logits (≥ n, V), whose targets start at targets[t0] → loss and lse of rows t0 … t0 + n − 1
function rowLosses(logits: Tensor, n: number, targets: Tensor, t0: number, rowLoss: Tensor, lse: Tensor): void {
  const V = logits.shape[logits.shape.length - 1];
  const rows = k('cross_entropy.wgsl', 'main', { ROWS: true, ...reduction() });
  for (const [r0, r1] of ranges(n, V * 4)) {
    const wx = logits.bind(r0 * V, r1 * V);
    const p = { rows: r1 - r0, vocab: V, base_x: wx.base, base_t: t0 + r0, base_row: t0 + r0 };
    engine().cmd.dispatch(rows, [wx.binding, targets.bind().binding, rowLoss.bind().binding, lse.bind().binding], p, r1 - r0);
  }
}

// rowLoss (N), targets (N) → the mean over scored rows (or the weighted sum), and the count it divided by
function meanLoss(rowLoss: Tensor, targets: Tensor, V: number, weights?: Tensor): { mean: Tensor; count: Tensor } {
  const mean = empty([]);
  const count = empty([1]);
  engine().cmd.dispatch(
    k('cross_entropy.wgsl', 'main', { MEAN: true, WEIGHTED: !!weights, ...reduction() }),
    [rowLoss.bind().binding, targets.bind().binding, mean.bind().binding, count.bind().binding, ...(weights ? [weights.bind().binding] : [])],
    { rows: rowLoss.size, vocab: V },
    1,
  );
  return { mean, count };
}

// Rows [0, n) of logits, targets from t0 → dlogits rows [0, n) = g·w_r/count · (softmax − onehot); dx may be
// logits itself (overwritten in place)
function logitGradients(logits: Tensor, n: number, targets: Tensor, t0: number, lse: Tensor, count: Tensor, g: Tensor, dx: Tensor, weights?: Tensor): void {
  const V = logits.shape[logits.shape.length - 1];
  const inPlace = dx === logits;
  const kern = k('cross_entropy.wgsl', 'main', { BACKWARD: true, WEIGHTED: !!weights, IN_PLACE: inPlace });
  for (const [r0, r1] of ranges(n, V * 4)) {
    const wx = logits.bind(r0 * V, r1 * V);
    const wd = inPlace ? wx : dx.bind(r0 * V, r1 * V);
    const p = { rows: r1 - r0, vocab: V, base_x: wx.base, base_t: t0 + r0, base_row: t0 + r0, base_dx: wd.base };
    const bindings = [
      wx.binding,
      targets.bind().binding,
      lse.bind().binding,
      count.bind().binding,
      g.bind().binding,
      ...(inPlace ? [] : [wd.binding]),
      ...(weights ? [weights.bind().binding] : []),
    ];
    engine().cmd.dispatch(kern, bindings, p, r1 - r0);
  }
}

// ---------------------------------------------------------------------------------------------------------
// From the LM head's input

/** Logits held at once by linearCrossEntropy: rows of V f32 up to this many bytes (65 rows of Llama-3's 128,256). */
const CHUNK_BYTES = 32 << 20;

// x (N, C), w (V, C), targets i32 (N) → loss () = crossEntropy(linear(x, w), targets, weights)
//
// The (N, V) logits and their gradient never exist whole: rows go through in chunks of `chunkRows`
// (default: CHUNK_BYTES of logits). While the graph records, each chunk's gradient is taken at once with a
// unit upstream gradient — dX rows = dlogits·W, and dW += dlogitsᵀ·X for a trainable f32 W — and kept;
// the backward only scales them by g/count. So memory holds one chunk of logits and one of their
// gradient (plus dX, the size of x), at the cost of no extra product: the LM head's two GEMMs simply run
// in the forward pass. w may be bf16/f16 (frozen, read in the kernels) or f32.
export function linearCrossEntropy(x: Tensor, w: Tensor, targets: Tensor, weights?: Tensor, opts: { chunkRows?: number } = {}): Tensor {
  assertDtype('linearCrossEntropy', x, 'f32');
  assertDtype('linearCrossEntropy weight', w, 'f32', 'bf16', 'f16');
  assertDtype('linearCrossEntropy targets', targets, 'i32');
  const [V, C] = w.shape;
  if (w.shape.length !== 2 || x.shape[x.shape.length - 1] !== C) {
    throw new TypeError(`linearCrossEntropy: x ${x.describe()} and weight ${w.describe()} (V, C) do not match`);
  }
  const N = x.size / C;
  if (targets.size !== N) throw new TypeError(`linearCrossEntropy: ${targets.describe()} does not give one target per row of ${x.describe()}`);
  if (weights) {
    assertDtype('linearCrossEntropy weights', weights, 'f32');
    if (weights.size !== N) throw new TypeError(`linearCrossEntropy: ${weights.describe()} does not give one weight per row of ${x.describe()}`);
  }
  if (w.requiresGrad && w.dtype !== 'f32')
    throw new TypeError(`linearCrossEntropy: ${w.describe()} requires grad, but half-precision weights are frozen storage`);
  const grad = gradEnabled() && (x.requiresGrad || w.requiresGrad);
  const rows = Math.max(1, Math.min(N, opts.chunkRows ?? Math.floor(CHUNK_BYTES / (V * 4))));

  const rowLoss = empty([N]);
  const lse = empty([N]);
  const logits = empty([rows, V]);
  const dlogits = grad ? logits : null; // each chunk's gradient overwrites its logits, read by then
  const one = grad ? fill([1], 1) : null; // the unit upstream gradient and count of the chunks' gradients
  const dx = grad && x.requiresGrad ? empty([N, C]) : null;
  const dw = grad && w.requiresGrad ? empty([V, C]) : null;
  // Row weights scale dX's rows after the product, not dlogits before it, when no dW needs them inside the
  // sum: a weighted row then gets dX = (dlogits·W)·w_r exactly as an unweighted batch gets (dlogits·W)·(g/count),
  // so parallel LoRA slots (weights 1/scored per slot) stay bit-exact against lone fine-tunes.
  const weightRowsAfter = !!weights && !dw;
  for (let r0 = 0; r0 < N; r0 += rows) {
    const n = Math.min(rows, N - r0);
    // logits (n, V) = X[r0 : r0 + n] · Wᵀ
    gemm({ a: { t: x, offset: r0 * C, ld: C }, b: { t: w, ld: C, trans: true }, c: { t: logits, ld: V }, M: n, N: V, K: C });
    rowLosses(logits, n, targets, r0, rowLoss, lse);
    if (!dlogits) continue;
    logitGradients(logits, n, targets, r0, lse, one!, one!, dlogits, weightRowsAfter ? undefined : weights);
    // dX[r0 : r0 + n] (n, C) = dlogits (n, V) · W (V, C)
    if (dx) gemm({ a: { t: dlogits, ld: V }, b: { t: w, ld: C }, c: { t: dx, offset: r0 * C, ld: C }, M: n, N: C, K: V });
    // dW (V, C) += dlogitsᵀ (V, n) · X[r0 : r0 + n] (n, C)
    if (dw) gemm({ a: { t: dlogits, ld: V, trans: true }, b: { t: x, offset: r0 * C, ld: C }, c: { t: dw, ld: C }, M: V, N: C, K: n, accumulate: r0 > 0 });
  }
  [logits, one, lse].forEach((t) => t?.dispose());
  const { mean, count } = meanLoss(rowLoss, targets, V, weights);
  rowLoss.dispose();
  if (grad) {
    const rowWeights = weightRowsAfter ? [weights!.reshape([N, 1])] : [];
    recordOp('linearCrossEntropy', mean, [x, w], [...(dx ? [dx] : []), ...(dw ? [dw] : []), count, ...rowWeights], (g, needs, saved) => {
      const [sx, sw] = dx && dw ? saved : dx ? [saved[0], null] : [null, saved[0]];
      const scale = binaryRaw('div', 'div', g, saved[(dx ? 1 : 0) + (dw ? 1 : 0)]); // g / count (1 when weighted)
      let gx = needs[0] && sx ? binaryRaw('mul', 'mul', sx, scale) : null;
      if (gx && weightRowsAfter) {
        const scaled = binaryRaw('mul', 'mul', gx, saved[saved.length - 1]);
        gx.dispose();
        gx = scaled;
      }
      const out = [gx, needs[1] && sw ? binaryRaw('mul', 'mul', sw, scale) : null];
      scale.dispose();
      return out;
    });
    rowWeights.forEach((t) => t.dispose());
  }
  [dx, dw, count].forEach((t) => t?.dispose());
  return mean;
}
