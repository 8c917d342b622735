// Inverted dropout (shaders/dropout.wgsl): forward and backward apply the same seeded mask.
import { type Tensor, assertDtype, empty, recordOp } from '../tensor.ts';
import { engine, groups, k, ranges } from './launch.ts';

function apply(x: Tensor, p: number, seed: number): Tensor {
  const y = empty(x.shape);
  const kern = k('dropout.wgsl', 'main');
  const threshold = Math.min(0xffffffff, Math.round(p * 2 ** 32));
  for (const [s, e] of ranges(x.size, 4)) {
    const wx = x.bind(s, e);
    const wy = y.bind(s, e);
    const params = { n: e - s, seed: seed >>> 0, threshold, scale: 1 / (1 - p), base_x: wx.base, base_y: wy.base, first: s };
    engine().cmd.dispatch(kern, [wx.binding, wy.binding], params, groups(e - s, kern));
  }
  return y;
}

// x (...) → x ⊙ mask / (1 − p), mask_i ~ Bernoulli(1 − p) from (seed, i)
export function dropout(x: Tensor, p: number, seed: number): Tensor {
  assertDtype('dropout', x, 'f32');
  if (!(p >= 0 && p < 1)) throw new RangeError(`dropout: probability ${p} is not in [0, 1)`);
  if (p === 0) return x;
  const y = apply(x, p, seed);
  recordOp('dropout', y, [x], [], (g) => [apply(g, p, seed)]);
  return y;
}
