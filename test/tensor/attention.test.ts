import { describe, expect, it } from 'vitest';
import * as ref from '../../src/tensor/cpu-reference.ts';
import { attention } from '../../src/tensor/ops/attention.ts';
import { fill } from '../../src/tensor/index.ts';
import { UNIT_ROUNDOFF, checkOp } from '../helpers/check.ts';

const u = UNIT_ROUNDOFF.f32;

describe('attention (grouped-query, causal)', () => {
  // Scores are D-term dot products of N(0,1) values (error ≤ D·u·Σ|q·k| ≈ D²·u·0.8), scaled by 1/√D; the
  // softmax adds keys·u + exp's ULPs; the output sums `keys` terms p·v with |v| ≲ 4. The backward chains
  // three more such products. Bounds below follow that chain with magnitudes ≲ 4 per factor.
  const tols = (D: number, keys: number) => ({
    fwdTol: (D * D + keys + 30) * u * 4 * 4,
    gradTol: (D * D + 2 * keys + 30) * u * 4 * 4 * 4 * keys,
  });

  it('training shape: B=2, T=5, H=4, Hkv=2, D=8, with a key-padding mask', async () => {
    const s = { B: 2, T: 5, H: 4, Hkv: 2, D: 8, S: 5, keys: 5, past: 0 };
    const mask = [1, 1, 1, 1, 1, /* b=1 right-padded */ 1, 1, 1, 0, 0];
    await checkOp({
      name: 'attention',
      inputs: [
        { shape: [s.B, s.T, s.H * s.D], grad: true },
        { shape: [s.B, s.S, s.Hkv * s.D], grad: true },
        { shape: [s.B, s.S, s.Hkv * s.D], grad: true },
        { shape: [s.B, s.S], values: mask, dtype: 'i32' },
      ],
      gpu: (q, k, v, m) => attention(q, k, v, s, { keyMask: m }),
      cpu: (q, k, v, m) => ref.attention(q, k, v, s, m),
      ...tols(s.D, s.keys),
      fdSamples: 40,
    });
  });

  it('no grouping (H = Hkv) and one query against a longer cache (decoding)', async () => {
    const s = { B: 2, T: 1, H: 2, Hkv: 1, D: 4, S: 9, keys: 7, past: 6 };
    await checkOp({
      name: 'attention decode',
      inputs: [
        { shape: [s.B, s.T, s.H * s.D] },
        { shape: [s.B, s.S, s.Hkv * s.D] },
        { shape: [s.B, s.S, s.Hkv * s.D] },
      ],
      gpu: (q, k, v) => attention(q, k, v, s),
      cpu: (q, k, v) => ref.attention(q, k, v, s),
      ...tols(s.D, s.keys),
    });
  });

  it('rejects heads that do not group and tensors of the wrong size', () => {
    const s = { B: 1, T: 2, H: 3, Hkv: 2, D: 4, S: 2, keys: 2, past: 0 };
    expect(() => attention(fill([1, 2, 12], 0), fill([1, 2, 8], 0), fill([1, 2, 8], 0), s)).toThrow(/3 query heads are not a multiple of 2/);
    const t = { ...s, H: 2 };
    expect(() => attention(fill([1, 2, 12], 0), fill([1, 2, 8], 0), fill([1, 2, 8], 0), t)).toThrow(/attention: q .* is not \(B=1, T=2, H·D=8\)/);
  });
});
