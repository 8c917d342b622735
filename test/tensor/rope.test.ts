import { describe, expect, it } from 'vitest';
import { rope as refRope } from '../../src/tensor/cpu-reference.ts';
import { RopeTable, rope } from '../../src/tensor/ops/rope.ts';
import { engine, fill, tensor } from '../../src/tensor/index.ts';
import { UNIT_ROUNDOFF, checkOp, expectAllClose } from '../helpers/check.ts';

const u = UNIT_ROUNDOFF.f32;

describe('rope', () => {
  const invFreq = Float32Array.from({ length: 8 }, (_, i) => 1 / 500000 ** (i / 8));
  const table = new RopeTable(invFreq);

  it('rotates pairs (i, i + D/2) by pos·inv_freq, forward and backward', async () => {
    const [B, T, H, D] = [2, 5, 3, 16];
    const positions = [0, 1, 2, 3, 4, 7, 8, 9, 100, 1000];
    table.ensure(1001);
    // Each output is a·cos − b·sin: cos/sin rounded once to f32, two products and a sum: ≤ 4u·(|a| + |b|),
    // |a|, |b| ≲ 4. The backward is the same rotation by −angle.
    const tol = 4 * u * 8;
    await checkOp({
      name: 'rope',
      inputs: [
        { shape: [B, T, H, D], grad: true },
        { shape: [B, T], values: positions, dtype: 'i32' },
      ],
      gpu: (x, pos) => rope(x, pos, table, H),
      cpu: (x) => refRope(x, positions, invFreq, H),
      fwdTol: tol,
      gradTol: tol,
    });
  });

  it('rejects a tensor that is not tokens × heads × head_dim', () => {
    expect(() => rope(fill([2, 3, 16], 1), tensor([0, 1], [2], 'i32'), table, 2)).toThrow(/rope: .* is not \(tokens = 2\) × 2 heads × 16/);
  });

  it('rotates a tensor larger than one storage binding', async () => {
    const H = 32;
    const D = 16;
    const N = Math.ceil((engine().gpu.limits.maxStorageBufferBindingSize / 4 / (H * D)) * 1.1);
    const positions = tensor(
      Array.from({ length: N }, (_, n) => n % 50),
      [N],
      'i32',
    );
    table.ensure(50);
    const x = fill([N, H, D], 1);
    const y = await rope(x, positions, table, H).read();
    for (const n of [0, N >> 1, N - 1]) {
      const expected = refRope({ data: new Float64Array(H * D).fill(1), shape: [1, H, D] }, [n % 50], invFreq, H).data;
      expectAllClose(y.subarray(n * H * D, (n + 1) * H * D), expected, { atol: 4 * u * 2 }, `token ${n}`);
    }
  });
});
