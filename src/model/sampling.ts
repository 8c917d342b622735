// Choosing the next token from one row of logits, as Hugging Face's generate() does: greedy (argmax,
// first index on ties) at temperature 0; otherwise logits / temperature, then nucleus (top-p) filtering —
// keep the most probable tokens until their probability mass reaches top_p, the crossing token included
// — then a draw from the renormalised distribution with a seeded generator.
import type { Rng } from '../util/random.ts';

export interface SamplingOptions {
  /** 0 (the default) is greedy. */
  temperature?: number;
  /** 1 (the default) keeps every token. */
  topP?: number;
}

export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

export function sampleToken(logits: Float32Array, opts: SamplingOptions, rng: Rng): number {
  const temperature = opts.temperature ?? 0;
  const topP = opts.topP ?? 1;
  if (temperature < 0 || !(topP > 0 && topP <= 1)) throw new RangeError(`sampling: temperature ${temperature} must be ≥ 0 and top-p ${topP} in (0, 1]`);
  if (temperature === 0) return argmax(logits);
  const V = logits.length;
  let max = -Infinity;
  for (let i = 0; i < V; i++) max = Math.max(max, logits[i] / temperature);
  const probs = new Float64Array(V);
  let total = 0;
  for (let i = 0; i < V; i++) total += probs[i] = Math.exp(logits[i] / temperature - max);
  let order: number[] = [];
  if (topP < 1) {
    order = [...probs.keys()].sort((a, b) => probs[b] - probs[a] || a - b);
    let mass = 0;
    let keep = 0;
    while (keep < V && mass < topP * total) mass += probs[order[keep++]];
    order = order.slice(0, Math.max(1, keep));
    total = order.reduce((s, i) => s + probs[i], 0);
  } else {
    order = [...probs.keys()];
  }
  let r = rng.uniform() * total;
  for (const i of order) {
    r -= probs[i];
    if (r < 0) return i;
  }
  return order[order.length - 1];
}
