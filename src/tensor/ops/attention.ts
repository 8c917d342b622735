// Causal self-attention with grouped-query heads, built from strided batched GEMMs and the masked
// softmax: one autograd node, forward and backward side by side (llm.c's attention_forward/backward).
//
// Layouts are the projections' own, so no permute is ever needed:
//   q (B, T, H·D)       — row (b, t) holds every query head
//   k, v (B, S, Hkv·D)  — S key rows per batch entry: S = T in training, the cache length in decoding,
//                         of which the first `keys` are used
//   out (B, T, H·D)
// Query head h reads key/value head h / G (G = H / Hkv). GEMM batches run over (b, kv head) with one
// launch per group member g, so head h = kv·G + g is addressed by plain strides.
import { type Tensor, assertDtype, empty, recordOp } from '../tensor.ts';
import { type GemmOperand, gemm } from './matmul.ts';
import { softmax, softmaxBackward } from './softmax.ts';

export interface AttentionShape {
  B: number;
  T: number;
  H: number;
  Hkv: number;
  D: number;
  /** Rows per batch entry in k and v (≥ keys): the KV cache's capacity, or T. */
  S: number;
  /** Keys attended: past + T. */
  keys: number;
  /** Keys already cached before this call's first query (causal offset). */
  past: number;
}

export interface AttentionOptions {
  /** i32 (B, ≥ keys): 0 marks padding keys. */
  keyMask?: Tensor;
  /** keyMask holds document ids: each query attends within its own document only (packed rows). */
  segments?: boolean;
  causal?: boolean;
}

// Operand views of the four activations, for group member g.
function views(s: AttentionShape, g: number) {
  const G = s.H / s.Hkv;
  const rowQ = s.H * s.D;
  const rowK = s.Hkv * s.D;
  const scoreSize = s.T * s.keys;
  return {
    // q or dq / out or dout: (b, kv) → head kv·G + g
    q: (t: Tensor, trans = false): GemmOperand => ({ t, offset: g * s.D, ld: rowQ, trans, strides: [s.T * rowQ, G * s.D] }),
    // k, v or dk, dv: (b, kv)
    kv: (t: Tensor, trans = false): GemmOperand => ({ t, ld: rowK, trans, strides: [s.S * rowK, s.D] }),
    // scores (B, H, T, keys)
    scores: (t: Tensor, trans = false): GemmOperand => ({ t, offset: g * scoreSize, ld: s.keys, trans, strides: [s.H * scoreSize, G * scoreSize] }),
  };
}

// q (B, T, H·D), k, v (B, S, Hkv·D) → (B, T, H·D)
export function attention(q: Tensor, k: Tensor, v: Tensor, s: AttentionShape, opts: AttentionOptions = {}): Tensor {
  for (const t of [q, k, v]) assertDtype('attention', t, 'f32');
  const G = s.H / s.Hkv;
  if (!Number.isInteger(G)) throw new TypeError(`attention: ${s.H} query heads are not a multiple of ${s.Hkv} key/value heads`);
  if (q.size !== s.B * s.T * s.H * s.D) throw new TypeError(`attention: q ${q.describe()} is not (B=${s.B}, T=${s.T}, H·D=${s.H * s.D})`);
  for (const [name, t] of [['k', k], ['v', v]] as const) {
    if (t.size < s.B * s.S * s.Hkv * s.D) throw new TypeError(`attention: ${name} ${t.describe()} is not (B=${s.B}, S=${s.S}, Hkv·D=${s.Hkv * s.D})`);
  }
  if (s.keys > s.S || s.past + s.T !== s.keys) throw new RangeError(`attention: keys=${s.keys} with past=${s.past}, T=${s.T}, S=${s.S}`);
  const causal = opts.causal ?? true;
  const scale = 1 / Math.sqrt(s.D);

  const scores = empty([s.B, s.H, s.T, s.keys]);
  for (let g = 0; g < G; g++) {
    const view = views(s, g);
    // scores = Q·Kᵀ (the 1/√D scale is applied in the softmax, as Hugging Face divides after the product)
    gemm({ a: view.q(q), b: view.kv(k, true), c: view.scores(scores), M: s.T, N: s.keys, K: s.D, batch: [s.B, s.Hkv] });
  }
  const p = softmax(scores, { scale, causal, past: s.past, keyMask: opts.keyMask, segments: opts.segments });
  scores.dispose();
  const out = empty(q.shape);
  for (let g = 0; g < G; g++) {
    const view = views(s, g);
    // out = P·V
    gemm({ a: view.scores(p), b: view.kv(v), c: view.q(out), M: s.T, N: s.D, K: s.keys, batch: [s.B, s.Hkv] });
  }
  recordOp('attention', out, [q, k, v], [q, k, v, p], (dout, needs) => attentionBackward(dout, q, k, v, p, s, scale, needs));
  p.dispose();
  return out;
}

// dout (B, T, H·D) → dq, dk, dv
function attentionBackward(
  dout: Tensor,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  p: Tensor,
  s: AttentionShape,
  scale: number,
  needs: boolean[],
): (Tensor | null)[] {
  const G = s.H / s.Hkv;
  const dp = empty(p.shape);
  for (let g = 0; g < G; g++) {
    const view = views(s, g);
    // dP = dOut·Vᵀ
    gemm({ a: view.q(dout), b: view.kv(v, true), c: view.scores(dp), M: s.T, N: s.keys, K: s.D, batch: [s.B, s.Hkv] });
  }
  const ds = softmaxBackward(dp, p, scale);
  dp.dispose();
  const dq = needs[0] ? empty(q.shape) : null;
  const dk = needs[1] ? empty(k.shape) : null;
  const dv = needs[2] ? empty(v.shape) : null;
  for (let g = 0; g < G; g++) {
    const view = views(s, g);
    const acc = g > 0; // dK and dV sum over the G query heads sharing each key/value head
    // dQ = dS·K
    if (dq) gemm({ a: view.scores(ds), b: view.kv(k), c: view.q(dq), M: s.T, N: s.D, K: s.keys, batch: [s.B, s.Hkv] });
    // dK = dSᵀ·Q
    if (dk) gemm({ a: view.scores(ds, true), b: view.q(q), c: view.kv(dk), M: s.keys, N: s.D, K: s.T, batch: [s.B, s.Hkv], accumulate: acc });
    // dV = Pᵀ·dOut
    if (dv) gemm({ a: view.scores(p, true), b: view.q(dout), c: view.kv(dv), M: s.keys, N: s.D, K: s.T, batch: [s.B, s.Hkv], accumulate: acc });
  }
  ds.dispose();
  return [dq, dk, dv];
}
