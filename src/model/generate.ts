// Batched generation: left-pad the prompts to one length, prefill them into a KV cache, then decode one
// token per row per step until every row has produced a stop token or max_new_tokens.
import { noGrad, tidy } from '../tensor/index.ts';
import { Rng } from '../util/random.ts';
import { KVCache } from './kv-cache.ts';
import type { Llama } from './llama.ts';
import { type SamplingOptions, sampleToken } from './sampling.ts';

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  /** Generation stops for a row at any of these ids (default: the model's eos ids). */
  stopIds?: number[];
  /** Seed of the sampler: one stream shared by the rows, in row order. */
  seed?: number;
  /**
   * One seed per row instead: each row samples from its own stream, so its tokens do not depend on what
   * else is in the batch (batches can then be formed freely, e.g. when resuming).
   */
  rowSeeds?: number[];
  /** Called as each token is chosen (streaming). */
  onToken?: (row: number, id: number) => void;
}

export interface Generation {
  /** New tokens per row, without the stop token. */
  tokens: number[][];
  /** Whether the row ended with a stop token (rather than max_new_tokens). */
  stopped: boolean[];
}

export async function generate(model: Llama, prompts: number[][], opts: GenerateOptions): Promise<Generation> {
  const B = prompts.length;
  if (B === 0) return { tokens: [], stopped: [] };
  prompts.forEach((p, b) => {
    if (p.length === 0) throw new RangeError(`generate: prompt ${b} is empty (it needs at least a BOS token)`);
  });
  const L = Math.max(...prompts.map((p) => p.length));
  const stopIds = new Set(opts.stopIds ?? model.config.eosTokenIds);
  const pad = prompts[0][0];
  if (opts.rowSeeds && opts.rowSeeds.length !== B) throw new RangeError(`generate: ${opts.rowSeeds.length} row seeds for ${B} prompts`);
  const shared = new Rng(opts.seed ?? 0);
  const rngs = opts.rowSeeds ? opts.rowSeeds.map((s) => new Rng(s)) : null;
  const longest = L + opts.maxNewTokens;
  if (longest > model.config.maxPositionEmbeddings) {
    throw new RangeError(`generate: ${L} prompt tokens + ${opts.maxNewTokens} new ones exceed the model's context of ${model.config.maxPositionEmbeddings}`);
  }

  // Left padding: every prompt ends at column L − 1, and real tokens count positions from 0.
  const ids = prompts.map((p) => [...new Array(L - p.length).fill(pad), ...p]);
  const mask = prompts.map((p) => [...new Array(L - p.length).fill(0), ...new Array(p.length).fill(1)]);
  const positions = prompts.map((p) => [...new Array(L - p.length).fill(0), ...p.map((_, t) => t)]);
  const next = positions.map((row) => row[L - 1] + 1);

  const cache = new KVCache(model.config, B, longest);
  const tokens: number[][] = prompts.map(() => []);
  const stopped = new Array(B).fill(false);
  try {
    let logits = await step(model, { ids, positions, attentionMask: mask, cache });
    for (let s = 0; s < opts.maxNewTokens; s++) {
      const chosen: number[] = [];
      for (let b = 0; b < B; b++) {
        if (stopped[b]) {
          chosen.push(pad);
          continue;
        }
        const id = sampleToken(logits.subarray(b * model.config.vocabSize, (b + 1) * model.config.vocabSize), opts, rngs ? rngs[b] : shared);
        chosen.push(id);
        if (stopIds.has(id)) stopped[b] = true;
        else {
          tokens[b].push(id);
          opts.onToken?.(b, id);
        }
      }
      if (stopped.every(Boolean) || s === opts.maxNewTokens - 1) break;
      logits = await step(model, {
        ids: chosen.map((id) => [id]),
        positions: next.map((p) => [p + s]),
        attentionMask: stopped.map((done) => [done ? 0 : 1]),
        cache,
      });
    }
  } finally {
    cache.dispose();
  }
  return { tokens, stopped };
}

async function step(model: Llama, input: Parameters<Llama['forward']>[0]): Promise<Float32Array> {
  const logits = noGrad(() => tidy(() => model.forward({ ...input, lastOnly: true })));
  try {
    return await logits.readF32();
  } finally {
    logits.dispose();
  }
}
