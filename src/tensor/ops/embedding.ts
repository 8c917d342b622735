// Embedding lookup (shaders/embedding.wgsl), forward and backward side by side.
import { type Tensor, assertDtype, empty, recordOp } from '../tensor.ts';
import { BYTES } from '../dtype.ts';
import { engine, groups, k, ranges } from './launch.ts';
import { zeros } from './elementwise.ts';

// table (V, C), ids i32 (...) → (..., C). Ids must lie in [0, V) (the caller validates them on the CPU).
export function embedding(table: Tensor, ids: Tensor): Tensor {
  assertDtype('embedding', table, 'f32', 'bf16', 'f16');
  assertDtype('embedding ids', ids, 'i32');
  if (table.shape.length !== 2) throw new TypeError(`embedding: table ${table.describe()} is not (V, C)`);
  const [V, C] = table.shape;
  const N = ids.size;
  const out = empty([...ids.shape, C]);
  const kern = k('embedding.wgsl', 'main', { GATHER: true, TABLE_F32: table.dtype === 'f32', TABLE_DTYPE: table.dtype });
  // Windows of table rows (Llama-3.2-1B's 128,256 × 2,048 bf16 table is 525 MB); all ids in each.
  for (const [v0, v1] of ranges(V, C * BYTES[table.dtype], 2)) {
    const wt = table.bind(v0 * C, v1 * C);
    const wi = ids.bind();
    for (const [n0, n1] of ranges(N, C * 4)) {
      const wo = out.bind(n0 * C, n1 * C);
      const p = { tokens: n1 - n0, cols: C, v0, rows: v1 - v0, base_table: wt.base, base_ids: wi.base + n0, base_out: wo.base };
      engine().cmd.dispatch(kern, [wt.binding, wi.binding, wo.binding], p, groups((n1 - n0) * C, kern));
    }
  }
  recordOp('embedding', out, [table], [ids], (dy) => [embeddingBackward(dy, ids, V, C)]);
  return out;
}

// dy (N, C), ids (N) → dtable (V, C)
export function embeddingBackward(dy: Tensor, ids: Tensor, V: number, C: number): Tensor {
  const dtable = zeros([V, C]);
  const kern = k('embedding.wgsl', 'main', { SCATTER: true });
  const N = ids.size;
  for (const [v0, v1] of ranges(V, C * 4)) {
    const wt = dtable.bind(v0 * C, v1 * C);
    for (const [n0, n1] of ranges(N, C * 4)) {
      const wg = dy.bind(n0 * C, n1 * C);
      const wi = ids.bind();
      // base_out: dy's rows (the gather's out)
      const p = { tokens: n1 - n0, cols: C, v0, rows: v1 - v0, base_table: wt.base, base_ids: wi.base + n0, base_out: wg.base };
      engine().cmd.dispatch(kern, [wg.binding, wi.binding, wt.binding], p, groups(C, kern));
    }
  }
  return dtable;
}
