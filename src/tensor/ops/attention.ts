// Attention, softmax(Q·Kᵀ/√D + masks)·V, with grouped-query heads, a causal mask, padding or document
// masks and a KV cache's offset: one autograd node, forward and backward side by side (llm.c's
// attention_forward/backward). Two implementations of the same op:
//  - fused (shaders/attention_*.wgsl), FlashAttention-2: an online softmax over tiles of keys, so no T×keys
//    matrix exists; the node keeps the output and one log-sum-exp per query row, and the backward
//    recomputes the probabilities tile by tile (a δ = rowsum(dOut ⊙ Out) pre-pass, a dQ kernel over query
//    blocks, a dK/dV kernel over key blocks). Used whenever D is a multiple of 4 (every Llama), except for
//    small shapes on CPU adapters (see attentionKernel).
//  - materialised: strided batched GEMMs around the masked softmax, scores (B, H, T, keys) in memory.
//    For other head sizes, small shapes on CPU adapters, and the benchmarks' baseline.
//
// Layouts are the projections' own, so no permute is ever needed:
//   q (B, T, H·D)       — row (b, t) holds every query head
//   k, v (B, S, Hkv·D)  — S key rows per batch entry: S = T in training, the cache length in decoding,
//                         of which the first `keys` are used
//   out (B, T, H·D)
// Query head h reads key/value head h / G (G = H / Hkv).
import { type Tensor, assertDtype, empty, recordOp } from '../tensor.ts';
import { zeros } from './elementwise.ts';
import { type GemmOperand, gemm } from './matmul.ts';
import { engine, groups, k as kernel, placeholder } from './launch.ts';
import { softmax, softmaxBackward } from './softmax.ts';
import { variantFamily } from './variants.ts';

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

export type AttentionKernel = 'fused' | 'materialised';
export const ATTENTION = variantFamily<AttentionKernel>('attention', ['fused', 'materialised']);

/** Makes every later call use one implementation (benchmarks compare them); null restores the choice. */
export function forceAttentionKernel(kind: AttentionKernel | null): void {
  ATTENTION.force(kind);
}

// On a CPU adapter the fused kernels lose to the materialised path at every shape measured (lavapipe,
// bench attention, one quiet run; materialised / fused time, forward + backward): the tiny shape 0.64, the
// demo's inner loops 0.29, its M-step rows (T = 256, D = 32) 0.18, the 30M shape 0.17, T = 512 0.16, the 1B
// shape at 256 tokens 0.21; decoding 0.4–0.9. The fused kernels' workgroups stage tiles through workgroup
// memory with barriers, which a CPU adapter pays for in every tile; the GEMMs and the row softmax do not.
// The materialised path keeps each layer's probabilities (B, H, T, keys) for the backward, so it is taken
// only while they are small: 4 MiB a layer covers the tiny, demo and 30M shapes and leaves the 1B shape at
// 256 tokens (8 MiB a layer, 128 MiB over 16 layers: its step's peak would pass 1.3× the weights) and long
// sequences (ARC's 1,630 tokens: 340 MiB a layer) on the memory-lean path. GPUs always take fused.
const MATERIALISE_MAX_BYTES = 4 * 2 ** 20;

/** The implementation this adapter runs for shape `s` (unless forced). */
export function attentionKernel(s: AttentionShape): AttentionKernel {
  if (s.D % 4 !== 0) return 'materialised'; // the fused kernels read vec4 rows
  return ATTENTION.pick(() => {
    const small = s.B * s.H * s.T * s.keys * 4 <= MATERIALISE_MAX_BYTES;
    return engine().gpu.report.isCpu && small ? 'materialised' : 'fused';
  });
}

// q (B, T, H·D), k, v (B, S, Hkv·D) → (B, T, H·D)
export function attention(q: Tensor, k: Tensor, v: Tensor, s: AttentionShape, opts: AttentionOptions = {}): Tensor {
  for (const t of [q, k, v]) assertDtype('attention', t, 'f32');
  const G = s.H / s.Hkv;
  if (!Number.isInteger(G)) throw new TypeError(`attention: ${s.H} query heads are not a multiple of ${s.Hkv} key/value heads`);
  if (q.size !== s.B * s.T * s.H * s.D) throw new TypeError(`attention: q ${q.describe()} is not (B=${s.B}, T=${s.T}, H·D=${s.H * s.D})`);
  for (const [name, t] of [
    ['k', k],
    ['v', v],
  ] as const) {
    if (t.size < s.B * s.S * s.Hkv * s.D) throw new TypeError(`attention: ${name} ${t.describe()} is not (B=${s.B}, S=${s.S}, Hkv·D=${s.Hkv * s.D})`);
  }
  if (s.keys > s.S || s.past + s.T !== s.keys) throw new RangeError(`attention: keys=${s.keys} with past=${s.past}, T=${s.T}, S=${s.S}`);
  const mask = opts.keyMask;
  if (mask) {
    assertDtype('attention key mask', mask, 'i32');
    if (mask.shape.length !== 2 || mask.shape[0] !== s.B || mask.shape[1] < s.keys) {
      throw new TypeError(`attention: key mask ${mask.describe()} is not (B=${s.B}, ≥ keys=${s.keys})`);
    }
  }
  return attentionKernel(s) === 'fused' ? fusedAttention(q, k, v, s, opts) : materialisedAttention(q, k, v, s, opts);
}

// ---------------------------------------------------------------------------------------------------------
// Fused (FlashAttention-2)

/** Threads per query row (or key) splitting the head's vec4 columns: the largest of 4, 2, 1 dividing D/4. */
function columnThreads(D: number): number {
  return [4, 2, 1].find((n) => (D / 4) % n === 0)!;
}

/** The largest power of two ≤ n, at least 1. */
const floorPow2 = (n: number) => 2 ** Math.floor(Math.log2(Math.max(1, n)));

/**
 * Tile sizes for a kernel whose workgroup owns `own` rows (query rows, or keys for dK/dV) and walks tiles
 * of `tile`: 32 × 32 at most, `own` no larger than the rows there are (decoding has T·G rows), shrunk
 * until `bytes(own, tile)` fits the adapter's workgroup memory.
 */
function tiles(rows: number, bytes: (own: number, tile: number) => number, NC: number): [number, number] {
  let own = Math.min(32, floorPow2(rows));
  let tile = 32;
  const limit = engine().gpu.limits.maxComputeWorkgroupStorageSize;
  while (bytes(own, tile) > limit) {
    if (tile >= own && tile > NC) tile /= 2;
    else if (own > 1) own /= 2;
    else throw new RangeError(`attention: no tiling of this head size fits ${limit} bytes of workgroup memory`);
  }
  return [own, Math.max(tile, NC)];
}

/** A dispatch's share: batch entries [b0, b0 + nb), and in each the rows [lo, hi) of the split axis. */
interface Piece {
  b0: number;
  nb: number;
  lo: number;
  hi: number;
}

/**
 * Splits B entries of n rows each (`stride` rows apart in memory) so that every dispatch's windows fit one
 * storage binding: whole entries while they fit (`rowBytes` per row of the split axis, `entryBytes` per
 * entry of what each entry reads whole), otherwise one entry's rows in ranges. What an entry reads whole
 * must fit on its own.
 */
function pieces(B: number, n: number, stride: number, rowBytes: number, entryBytes: number, whole: string): Piece[] {
  const { limits } = engine().gpu;
  const budget = limits.maxStorageBufferBindingSize - limits.minStorageBufferOffsetAlignment - 16;
  if (entryBytes > budget) {
    throw new RangeError(
      `attention: one batch entry's ${whole} (${entryBytes} bytes) exceed this adapter's ${limits.maxStorageBufferBindingSize}-byte storage binding`,
    );
  }
  const out: Piece[] = [];
  const perEntry = Math.max(stride * rowBytes, entryBytes);
  if (perEntry <= budget) {
    const per = Math.floor(budget / perEntry);
    for (let b0 = 0; b0 < B; b0 += per) out.push({ b0, nb: Math.min(per, B - b0), lo: 0, hi: n });
  } else {
    const per = Math.floor(budget / rowBytes);
    for (let b0 = 0; b0 < B; b0++) for (let lo = 0; lo < n; lo += per) out.push({ b0, nb: 1, lo, hi: Math.min(n, lo + per) });
  }
  return out;
}

/** Binds elements [first, end) of t as vec4s: returns the binding and the vec4 index of `first` in it. */
function bind4(t: Tensor, first: number, end: number) {
  const w = t.bind(first, end);
  if (w.base % 4) throw new Error(`internal: attention window of ${t.describe()} starts inside a vec4`);
  return { binding: w.binding, base: w.base / 4 };
}

interface Windows {
  q?: number;
  k?: number;
  v?: number;
  o?: number;
  do?: number;
  dv?: number;
}

/** The parameters of attention_common.wgsl for one piece (a window not given is one the kernel must not read). */
function params(
  s: AttentionShape,
  opts: AttentionOptions,
  piece: { b0: number; nb: number; t0: number; rows: number; j0: number; kcount: number },
  w: Windows,
) {
  const G = s.H / s.Hkv;
  const mode = opts.keyMask ? (opts.segments ? 2 : 1) : 0;
  return {
    ...piece,
    T: s.T,
    G,
    Hkv: s.Hkv,
    S: s.S,
    keys: s.keys,
    past: s.past,
    causal: (opts.causal ?? true) ? 1 : 0,
    mask_mode: mode,
    mask_stride: opts.keyMask ? opts.keyMask.shape[1] : 0,
    scale: 1 / Math.sqrt(s.D),
    base_q: w.q,
    base_k: w.k,
    base_v: w.v,
    base_o: w.o,
    base_do: w.do,
    base_dv: w.dv,
  };
}

// Element ranges of one piece: rows [lo, hi) of the queries of entries [b0, b0 + nb) in q-shaped tensors,
// and rows [lo, hi) of the keys (or all `keys`) in k-shaped ones.
const queryRange = (s: AttentionShape, p: Piece, lo = p.lo, hi = p.hi) => [(p.b0 * s.T + lo) * s.H * s.D, ((p.b0 + p.nb - 1) * s.T + hi) * s.H * s.D] as const;
const keyRange = (s: AttentionShape, p: Piece, lo: number, hi: number) =>
  [(p.b0 * s.S + lo) * s.Hkv * s.D, ((p.b0 + p.nb - 1) * s.S + hi) * s.Hkv * s.D] as const;

// q (B, T, H·D), k, v (B, S, Hkv·D) → out (B, T, H·D), and lse (B, Hkv, T·G) for the backward
function fusedAttention(q: Tensor, k: Tensor, v: Tensor, s: AttentionShape, opts: AttentionOptions): Tensor {
  const G = s.H / s.Hkv;
  const NC = columnThreads(s.D);
  const [BR, BC] = tiles(s.T * G, (r, c) => 16 * (r + 2 * c) * (s.D / 4) + 4 * (r * c + r * NC), NC);
  const kern = kernel('attention_forward.wgsl', 'main', { D: s.D, BR, BC, NC });
  const out = empty(q.shape);
  const lse = empty([s.B, s.Hkv, s.T * G]);
  const mask = opts.keyMask ?? placeholder();
  for (const piece of pieces(s.B, s.T, s.T, s.H * s.D * 4, s.S * s.Hkv * s.D * 4, 'keys and values')) {
    const wq = bind4(q, ...queryRange(s, piece));
    const wo = bind4(out, ...queryRange(s, piece));
    const wk = bind4(k, ...keyRange(s, piece, 0, s.keys));
    const wv = bind4(v, ...keyRange(s, piece, 0, s.keys));
    const rows = (piece.hi - piece.lo) * G;
    const p = params(s, opts, { b0: piece.b0, nb: piece.nb, t0: piece.lo, rows, j0: 0, kcount: s.keys }, { q: wq.base, k: wk.base, v: wv.base, o: wo.base });
    const bindings = [mask.bind().binding, wq.binding, wk.binding, wv.binding, wo.binding, lse.bind().binding];
    engine().cmd.dispatch(kern, bindings, p, piece.nb * s.Hkv * Math.ceil(rows / BR));
  }
  const saved = [q, k, v, out, lse, ...(opts.keyMask ? [opts.keyMask] : [])];
  recordOp('attention', out, [q, k, v], saved, (dout, needs, [sq, sk, sv, so, sl, sm]) =>
    fusedAttentionBackward(dout, sq, sk, sv, so, sl, s, { ...opts, keyMask: sm }, needs),
  );
  lse.dispose(); // the graph node keeps it if backward needs it
  return out;
}

// dout (B, T, H·D) → dq, dk, dv
function fusedAttentionBackward(
  dout: Tensor,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  out: Tensor,
  lse: Tensor,
  s: AttentionShape,
  opts: AttentionOptions,
  needs: boolean[],
): (Tensor | null)[] {
  const G = s.H / s.Hkv;
  const NC = columnThreads(s.D);
  const { cmd } = engine();
  const mask = opts.keyMask ?? placeholder();
  const queryPieces = pieces(s.B, s.T, s.T, s.H * s.D * 4, s.S * s.Hkv * s.D * 4, 'keys and values');

  // δ = rowsum(dout ⊙ out), stored beside lse: stats (B, Hkv, T·G, 2)
  const stats = empty([s.B, s.Hkv, s.T * G, 2]);
  const delta = kernel('attention_backward_delta.wgsl', 'main', { D: s.D });
  for (const piece of queryPieces) {
    const wo = bind4(out, ...queryRange(s, piece));
    const wd = bind4(dout, ...queryRange(s, piece));
    const rows = (piece.hi - piece.lo) * G;
    const p = params(s, opts, { b0: piece.b0, nb: piece.nb, t0: piece.lo, rows, j0: 0, kcount: s.keys }, { o: wo.base, do: wd.base });
    cmd.dispatch(delta, [wo.binding, wd.binding, lse.bind().binding, stats.bind().binding], p, groups(piece.nb * rows * s.Hkv, delta));
  }

  let dq: Tensor | null = null;
  if (needs[0]) {
    dq = empty(q.shape);
    const [BR, BC] = tiles(s.T * G, (r, c) => 16 * (2 * r + 2 * c) * (s.D / 4) + 4 * r * c, NC);
    const kern = kernel('attention_backward_dq.wgsl', 'main', { D: s.D, BR, BC, NC });
    for (const piece of queryPieces) {
      const wq = bind4(q, ...queryRange(s, piece));
      const wd = bind4(dout, ...queryRange(s, piece));
      const wdq = bind4(dq, ...queryRange(s, piece));
      const wk = bind4(k, ...keyRange(s, piece, 0, s.keys));
      const wv = bind4(v, ...keyRange(s, piece, 0, s.keys));
      const rows = (piece.hi - piece.lo) * G;
      const p = params(
        s,
        opts,
        { b0: piece.b0, nb: piece.nb, t0: piece.lo, rows, j0: 0, kcount: s.keys },
        { q: wq.base, k: wk.base, v: wv.base, o: wdq.base, do: wd.base },
      );
      const bindings = [mask.bind().binding, wq.binding, wk.binding, wv.binding, wd.binding, stats.bind().binding, wdq.binding];
      cmd.dispatch(kern, bindings, p, piece.nb * s.Hkv * Math.ceil(rows / BR));
    }
  }

  let dk: Tensor | null = null;
  let dv: Tensor | null = null;
  if (needs[1] || needs[2]) {
    // Rows of a KV cache past `keys` get no gradient: zeros, not whatever the pool's buffer held.
    dk = s.S > s.keys ? zeros(k.shape) : empty(k.shape);
    dv = s.S > s.keys ? zeros(v.shape) : empty(v.shape);
    const [BK, BQ] = tiles(s.keys, (kk, r) => 16 * (2 * kk + 2 * r) * (s.D / 4) + 12 * r + 8 * r * kk, NC);
    const kern = kernel('attention_backward_dkv.wgsl', 'main', { D: s.D, BK, BQ, NC });
    for (const piece of pieces(s.B, s.keys, s.S, s.Hkv * s.D * 4, s.T * s.H * s.D * 4, 'queries')) {
      const wq = bind4(q, ...queryRange(s, piece, 0, s.T));
      const wd = bind4(dout, ...queryRange(s, piece, 0, s.T));
      const [k0, k1] = keyRange(s, piece, piece.lo, piece.hi);
      const wk = bind4(k, k0, k1);
      const wv = bind4(v, k0, k1);
      const wdk = bind4(dk, k0, k1);
      const wdv = bind4(dv, k0, k1);
      const kcount = piece.hi - piece.lo;
      const p = params(
        s,
        opts,
        { b0: piece.b0, nb: piece.nb, t0: 0, rows: s.T * G, j0: piece.lo, kcount },
        { q: wq.base, k: wk.base, v: wv.base, o: wdk.base, do: wd.base, dv: wdv.base },
      );
      const bindings = [mask.bind().binding, wq.binding, wk.binding, wv.binding, wd.binding, stats.bind().binding, wdk.binding, wdv.binding];
      cmd.dispatch(kern, bindings, p, piece.nb * s.Hkv * Math.ceil(kcount / BK));
    }
    if (!needs[1]) dk = (dk.dispose(), null);
    if (!needs[2]) dv = (dv.dispose(), null);
  }
  stats.dispose();
  return [dq, dk, dv];
}

// ---------------------------------------------------------------------------------------------------------
// Materialised (GEMMs around the masked softmax)

// Operand views of the four activations, for group member g. GEMM batches run over (b, kv head) with
// one launch per group member g, so head h = kv·G + g is addressed by plain strides.
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
function materialisedAttention(q: Tensor, k: Tensor, v: Tensor, s: AttentionShape, opts: AttentionOptions): Tensor {
  const G = s.H / s.Hkv;
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
  recordOp('attention', out, [q, k, v], [q, k, v, p], (dout, needs) => materialisedAttentionBackward(dout, q, k, v, p, s, scale, needs));
  p.dispose();
  return out;
}

// dout (B, T, H·D) → dq, dk, dv
function materialisedAttentionBackward(
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
  const dk = needs[1] ? (s.S > s.keys ? zeros(k.shape) : empty(k.shape)) : null;
  const dv = needs[2] ? (s.S > s.keys ? zeros(v.shape) : empty(v.shape)) : null;
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
