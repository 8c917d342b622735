import { describe, expect, it } from 'vitest';
import * as ref from '../../src/tensor/cpu-reference.ts';
import { embedding } from '../../src/tensor/ops/embedding.ts';
import { engine, tensor } from '../../src/tensor/index.ts';
import { UNIT_ROUNDOFF, checkOp, expectAllClose } from '../helpers/check.ts';

describe('embedding', () => {
  it('gathers rows (f32 table with its gradient; bf16 and f16 tables decoded exactly)', async () => {
    const ids = [3, 0, 3, 9, 3, 1]; // repeated ids: their gradients add up
    for (const dtype of ['f32', 'bf16', 'f16'] as const) {
      await checkOp({
        name: `embedding ${dtype}`,
        inputs: [
          { shape: [10, 5], dtype, grad: dtype === 'f32' },
          { shape: [2, 3], values: ids, dtype: 'i32' },
        ],
        gpu: embedding,
        cpu: (t) => {
          const r = ref.embedding(t, ids);
          return { data: r.data, shape: [2, 3, 5] };
        },
        fwdTol: 0, // a copy (half values widen exactly)
        gradTol: 3 * UNIT_ROUNDOFF.f32 * 8, // ≤ 3 gradients of |g| ≲ 4 summed per row
      });
    }
  });

  it('reads a bf16 table larger than one storage binding (Llama-3.2-1B: 128,256 × 2,048)', async () => {
    const { limits } = engine().gpu;
    const C = 2048;
    const V = Math.ceil((limits.maxStorageBufferBindingSize / 2 / C) * 1.2);
    // Row v holds v (exact in bf16 up to 256, so use v % 256) in every column.
    const rowValue = (v: number) => (v % 256) - 128;
    const values = new Float32Array(V * C);
    for (let v = 0; v < V; v++) values.fill(rowValue(v), v * C, (v + 1) * C);
    const table = tensor(values, [V, C], 'bf16');
    const ids = [0, V - 1, Math.floor(V / 2), 77];
    const out = await embedding(table, tensor(ids, [4], 'i32')).read();
    ids.forEach((v, n) => expectAllClose(out.subarray(n * C, (n + 1) * C), new Array(C).fill(rowValue(v)), { atol: 0 }, `id ${v}`));
    expect(table.bytes).toBeGreaterThan(limits.maxStorageBufferBindingSize);
  });
});
