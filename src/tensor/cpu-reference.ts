// Plain TypeScript float64 twins of the GPU ops, written for clarity, not speed. Tests compare every kernel
// against them, and differentiate them by central finite differences to check every backward.
// Dimension letters as everywhere: B batch, T time, C channels, V vocabulary, H heads, D head size.

export interface Cpu {
  data: Float64Array;
  shape: number[];
}

export function cpu(data: ArrayLike<number>, shape: number[]): Cpu {
  return { data: Float64Array.from(data), shape };
}

const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

// ---------------------------------------------------------------------------------------------------------
// Elementwise (numpy broadcasting)

function broadcast(a: Cpu, b: Cpu, f: (x: number, y: number) => number): Cpu {
  const rank = Math.max(a.shape.length, b.shape.length);
  const pa = [...Array(rank - a.shape.length).fill(1), ...a.shape];
  const pb = [...Array(rank - b.shape.length).fill(1), ...b.shape];
  const shape = pa.map((d, i) => Math.max(d, pb[i]));
  const out = new Float64Array(numel(shape));
  const idx = new Array(rank).fill(0);
  const offset = (p: number[]) => {
    let o = 0;
    for (let i = 0; i < rank; i++) o = o * p[i] + (p[i] === 1 ? 0 : idx[i]);
    return o;
  };
  for (let i = 0; i < out.length; i++) {
    let r = i;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d] = r % shape[d];
      r = Math.floor(r / shape[d]);
    }
    out[i] = f(a.data[offset(pa)], b.data[offset(pb)]);
  }
  return { data: out, shape };
}

const map = (a: Cpu, f: (x: number) => number): Cpu => ({ data: a.data.map(f), shape: [...a.shape] });
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export const add = (a: Cpu, b: Cpu) => broadcast(a, b, (x, y) => x + y);
export const sub = (a: Cpu, b: Cpu) => broadcast(a, b, (x, y) => x - y);
export const mul = (a: Cpu, b: Cpu) => broadcast(a, b, (x, y) => x * y);
export const scale = (a: Cpu, s: number) => map(a, (x) => x * s);
export const silu = (a: Cpu) => map(a, (x) => x * sigmoid(x));
export const swiglu = (gate: Cpu, up: Cpu) => mul(silu(gate), up);
export const sigmoidOp = (a: Cpu) => map(a, sigmoid);

// ---------------------------------------------------------------------------------------------------------
// Reductions along the last axis

function reduceLast(a: Cpu, f: (row: Float64Array) => number): Cpu {
  const cols = a.shape[a.shape.length - 1];
  const rows = a.data.length / cols;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) out[r] = f(a.data.subarray(r * cols, (r + 1) * cols));
  return { data: out, shape: a.shape.slice(0, -1) };
}

export const sum = (a: Cpu) => reduceLast(a, (row) => row.reduce((s, x) => s + x, 0));
export const mean = (a: Cpu) => reduceLast(a, (row) => row.reduce((s, x) => s + x, 0) / row.length);
export const max = (a: Cpu) => reduceLast(a, (row) => Math.max(...row));

// ---------------------------------------------------------------------------------------------------------
// Normalisation, position embedding, attention softmax, loss, lookup

// x (N, C), w (C) → w ⊙ x / √(mean(x²) + eps)
export function rmsnorm(x: Cpu, w: Cpu, eps: number): Cpu {
  const C = w.data.length;
  const out = new Float64Array(x.data.length);
  for (let r = 0; r < x.data.length / C; r++) {
    let ss = 0;
    for (let c = 0; c < C; c++) ss += x.data[r * C + c] ** 2;
    const rstd = 1 / Math.sqrt(ss / C + eps);
    for (let c = 0; c < C; c++) out[r * C + c] = w.data[c] * x.data[r * C + c] * rstd;
  }
  return { data: out, shape: [...x.shape] };
}

// x (N·H rows of D), positions (N), invFreq (D/2) → rotate-half RoPE (pairs i, i + D/2). The angle is
// pos·inv_freq rounded once to f32, as Hugging Face computes it (one f32 multiply, which at pos 131071 is
// off the exact angle by ~1e-2 rad); from there on float64.
export function rope(x: Cpu, positions: ArrayLike<number>, invFreq: ArrayLike<number>, heads: number): Cpu {
  const half = invFreq.length;
  const D = 2 * half;
  const out = new Float64Array(x.data.length);
  for (let row = 0; row < x.data.length / D; row++) {
    const pos = positions[Math.floor(row / heads)];
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(pos * invFreq[i]);
      const a = x.data[row * D + i];
      const b = x.data[row * D + i + half];
      out[row * D + i] = a * Math.cos(angle) - b * Math.sin(angle);
      out[row * D + i + half] = b * Math.cos(angle) + a * Math.sin(angle);
    }
  }
  return { data: out, shape: [...x.shape] };
}

// x (B, H, Tq, Tk) or (..., Tk) → softmax(scale·x) with causal (query t sees keys ≤ past + t) and key masks;
// fully masked rows are 0
export function softmax(
  x: Cpu,
  {
    scale = 1,
    causal = false,
    past = 0,
    keyMask,
    segments = false,
  }: { scale?: number; causal?: boolean; past?: number; keyMask?: Cpu; segments?: boolean } = {},
): Cpu {
  const Tk = x.shape[x.shape.length - 1];
  const Tq = x.shape.length >= 2 ? x.shape[x.shape.length - 2] : 1;
  const H = keyMask ? x.shape[1] : 1;
  const out = new Float64Array(x.data.length);
  for (let r = 0; r < x.data.length / Tk; r++) {
    const t = r % Tq;
    const b = Math.floor(r / (H * Tq));
    const at = (j: number) => keyMask!.data[b * keyMask!.shape[1] + j];
    const visible = (j: number) => (!causal || j <= past + t) && (!keyMask || (at(j) !== 0 && (!segments || at(j) === at(past + t))));
    let m = -Infinity;
    for (let j = 0; j < Tk; j++) if (visible(j)) m = Math.max(m, scale * x.data[r * Tk + j]);
    let s = 0;
    for (let j = 0; j < Tk; j++) if (visible(j)) s += Math.exp(scale * x.data[r * Tk + j] - m);
    for (let j = 0; j < Tk; j++) out[r * Tk + j] = visible(j) ? Math.exp(scale * x.data[r * Tk + j] - m) / s : 0;
  }
  return { data: out, shape: [...x.shape] };
}

// logits (N, V), targets (N) with −100 ignored → mean over scored rows of −log softmax[target] (0 if none);
// with weights (N), the weighted sum Σ_r w_r·(−log softmax[target_r]) over scored rows instead (independent
// sequences in one batch, each weighted by its own normaliser)
export function crossEntropy(logits: Cpu, targets: ArrayLike<number>, weights?: ArrayLike<number>): Cpu {
  const V = logits.shape[logits.shape.length - 1];
  let total = 0;
  let count = 0;
  for (let r = 0; r < targets.length; r++) {
    if (targets[r] === -100) continue;
    const row = logits.data.subarray(r * V, (r + 1) * V);
    const m = Math.max(...row);
    let s = 0;
    for (const v of row) s += Math.exp(v - m);
    total += (weights ? weights[r] : 1) * (m + Math.log(s) - row[targets[r]]);
    count++;
  }
  return { data: Float64Array.of(weights ? total : count ? total / count : 0), shape: [] };
}

// table (V, C), ids (N) → (N, C)
export function embedding(table: Cpu, ids: ArrayLike<number>): Cpu {
  const C = table.shape[1];
  const out = new Float64Array(ids.length * C);
  for (let n = 0; n < ids.length; n++) out.set(table.data.subarray(ids[n] * C, (ids[n] + 1) * C), n * C);
  return { data: out, shape: [ids.length, C] };
}

// q (B, T, H·D), k, v (B, S, Hkv·D) → (B, T, H·D): grouped-query attention over the first `keys` rows of
// k and v, query t sitting at position past + t (causal: it sees keys ≤ past + t); keyMask (B, ≥ keys)
// with 0 for padding, or with `segments` a document id per key (a query sees only its own document's keys)
export function attention(
  q: Cpu,
  k: Cpu,
  v: Cpu,
  s: { B: number; T: number; H: number; Hkv: number; D: number; S: number; keys: number; past: number },
  keyMask?: Cpu,
  { segments = false, causal = true }: { segments?: boolean; causal?: boolean } = {},
): Cpu {
  const { B, T, H, Hkv, D, S, keys, past } = s;
  const G = H / Hkv;
  const out = new Float64Array(B * T * H * D);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kv = Math.floor(h / G);
      const scores = new Float64Array(T * keys);
      for (let t = 0; t < T; t++) {
        for (let j = 0; j < keys; j++) {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q.data[(b * T + t) * H * D + h * D + d] * k.data[(b * S + j) * Hkv * D + kv * D + d];
          scores[t * keys + j] = dot;
        }
      }
      const mask = keyMask && { data: keyMask.data.subarray(b * keyMask.shape[1], (b + 1) * keyMask.shape[1]), shape: [1, keyMask.shape[1]] };
      const p = softmax({ data: scores, shape: [1, 1, T, keys] }, { scale: 1 / Math.sqrt(D), causal, past, keyMask: mask, segments }).data;
      for (let t = 0; t < T; t++) {
        for (let d = 0; d < D; d++) {
          let acc = 0;
          for (let j = 0; j < keys; j++) acc += p[t * keys + j] * v.data[(b * S + j) * Hkv * D + kv * D + d];
          out[(b * T + t) * H * D + h * D + d] = acc;
        }
      }
    }
  }
  return { data: out, shape: [B, T, H * D] };
}

// ---------------------------------------------------------------------------------------------------------
// Dropout: the counter-based mask of shaders/dropout.wgsl, bit for bit

/** lowbias32 (Chris Wellons' hash prospector), in u32 arithmetic as the shader does it. */
function hash32(v: number): number {
  let h = v >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Whether element i survives: hash(hash(i) ^ seed) ≥ p·2³² (rounded to an integer, as the host passes it). */
export function dropoutKeeps(i: number, p: number, seed: number): boolean {
  const threshold = Math.min(0xffffffff, Math.round(p * 2 ** 32));
  return hash32(hash32(i) ^ (seed >>> 0)) >= threshold;
}

// x (...) → x ⊙ mask / (1 − p), mask_i = dropoutKeeps(i, p, seed)
export function dropout(x: Cpu, p: number, seed: number): Cpu {
  return { data: x.data.map((v, i) => (dropoutKeeps(i, p, seed) ? v / (1 - p) : 0)), shape: [...x.shape] };
}

// ---------------------------------------------------------------------------------------------------------
// AdamW (torch.optim.AdamW, amsgrad off) after torch.nn.utils.clip_grad_norm_, in float64

export interface AdamWReferenceOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** Clip the global 2-norm of all gradients to this; 0 or undefined: off. */
  maxGradNorm?: number;
}

export interface AdamWReferenceState {
  /** Steps taken (t of the bias corrections). */
  step: number;
  m: Float64Array[];
  v: Float64Array[];
}

export function adamwInit(params: readonly ArrayLike<number>[]): AdamWReferenceState {
  return { step: 0, m: params.map((p) => new Float64Array(p.length)), v: params.map((p) => new Float64Array(p.length)) };
}

// params P[i] (flat), grads G[i] (same length, or null: the parameter is left alone) → one step:
//   g ← g · min(1, max_norm / (‖G‖₂ + 1e-6))           clip_grad_norm_ over the parameters that have a gradient
//   p ← p · (1 − lr·wd)                                  decoupled weight decay
//   m ← β1·m + (1 − β1)·g ;  v ← β2·v + (1 − β2)·g²
//   p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + eps)
// Returns the new parameters and state; the inputs are not modified.
export function adamwStep(
  params: readonly ArrayLike<number>[],
  grads: readonly (ArrayLike<number> | null)[],
  state: AdamWReferenceState,
  { lr, betas: [beta1, beta2] = [0.9, 0.999], eps = 1e-8, weightDecay = 0, maxGradNorm = 0 }: AdamWReferenceOptions,
): { params: Float64Array[]; state: AdamWReferenceState } {
  let sumSq = 0;
  for (const g of grads) if (g) for (let j = 0; j < g.length; j++) sumSq += g[j] * g[j];
  const clip = maxGradNorm > 0 ? Math.min(1, maxGradNorm / (Math.sqrt(sumSq) + 1e-6)) : 1;
  const t = state.step + 1;
  const stepSize = lr / (1 - beta1 ** t);
  const bias2Sqrt = Math.sqrt(1 - beta2 ** t);
  const next: AdamWReferenceState = { step: t, m: state.m.map((m) => m.slice()), v: state.v.map((v) => v.slice()) };
  const out = params.map((p, i) => {
    const q = Float64Array.from(p);
    const g = grads[i];
    if (!g) return q;
    const [m, v] = [next.m[i], next.v[i]];
    for (let j = 0; j < q.length; j++) {
      const gj = g[j] * clip;
      m[j] = beta1 * m[j] + (1 - beta1) * gj;
      v[j] = beta2 * v[j] + (1 - beta2) * gj * gj;
      q[j] = q[j] * (1 - lr * weightDecay) - (stepSize * m[j]) / (Math.sqrt(v[j]) / bias2Sqrt + eps);
    }
    return q;
  });
  return { params: out, state: next };
}
