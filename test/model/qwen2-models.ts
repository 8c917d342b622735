// Small random Qwen2 models in the exact Hugging Face layout — config.json as Qwen2.5's on the Hub
// (Qwen2ForCausalLM, no head_dim, rope_theta 1e6, rms_norm_eps 1e-6, use_sliding_window false), and
// model.safetensors with HF's tensor names, q/k/v biases included, in bf16 or f32 — with the same weights
// for the float64 reference (test/helpers/qwen2-reference.ts).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectedWeights, parseLlamaConfig } from '../../src/io/hf-config.ts';
import { writeSafetensors } from '../../src/io/safetensors.ts';
import { bf16ToF32, encode, f32ToBf16 } from '../../src/tensor/index.ts';
import { Rng } from '../../src/util/random.ts';
import type { RefModel } from '../helpers/qwen2-reference.ts';

export interface TinyQwen2Options {
  tied: boolean;
  dtype: 'bfloat16' | 'float32';
  seed: number;
  /** Default 96 (ids only); 259 fits test/helpers/qwen-tokenizer.ts, whose BOS/EOS ids 256/258 it then uses. */
  vocabSize?: number;
  /** Default 128. */
  maxPositions?: number;
}

/** Qwen2.5-0.5B's config.json field for field, at a tiny size (C 32, F 64, 2 layers, 4 heads, 2 KV heads, D 8). */
export function tinyQwen2ConfigJson({ tied, dtype, vocabSize = 96, maxPositions = 128 }: Omit<TinyQwen2Options, 'seed'>): Record<string, unknown> {
  const withTokenizer = vocabSize >= 259;
  return {
    architectures: ['Qwen2ForCausalLM'],
    attention_dropout: 0.0,
    bos_token_id: withTokenizer ? 256 : 90,
    eos_token_id: withTokenizer ? 258 : 91,
    hidden_act: 'silu',
    hidden_size: 32,
    initializer_range: 0.02,
    intermediate_size: 64,
    max_position_embeddings: maxPositions,
    max_window_layers: 2,
    model_type: 'qwen2',
    num_attention_heads: 4,
    num_hidden_layers: 2,
    num_key_value_heads: 2,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000.0,
    sliding_window: maxPositions,
    tie_word_embeddings: tied,
    torch_dtype: dtype,
    transformers_version: '4.43.1',
    use_cache: true,
    use_sliding_window: false,
    vocab_size: vocabSize,
  };
}

/**
 * Writes a random tiny Qwen2 folder and returns it with the reference's view of the same weights. Linear
 * weights N(0, 0.2²), embedding N(0, 0.3²), q/k/v biases N(0, 0.5²) (large, as Qwen's are, so a missing or
 * misplaced bias shows), layer norms U[0.5, 1.5), the final norm U[−1.5, 1.5) (signed, so that a tied head
 * does not simply favour repeating the current token: greedy continuations then test something).
 */
export async function writeTinyQwen2(options: TinyQwen2Options): Promise<{ dir: string; ref: RefModel }> {
  const dir = mkdtempSync(join(tmpdir(), `qwen2-${options.tied ? 'tied' : 'untied'}-`));
  const json = tinyQwen2ConfigJson(options);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(json, null, 2));
  const config = parseLlamaConfig(json);
  const rng = new Rng(options.seed);
  const weights = new Map<string, Float64Array>();
  const bf16 = options.dtype === 'bfloat16';
  const entries = expectedWeights(config).map(({ name, shape }) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const draw = (): number => {
      if (name === 'model.norm.weight') return 3 * rng.uniform() - 1.5;
      if (name.endsWith('layernorm.weight')) return 0.5 + rng.uniform();
      if (name.endsWith('.bias')) return 0.5 * rng.normal();
      if (name === 'model.embed_tokens.weight') return 0.3 * rng.normal();
      return 0.2 * rng.normal();
    };
    const values = Float64Array.from({ length: n }, () => {
      const v = draw();
      return bf16 ? bf16ToF32(f32ToBf16(v)) : Math.fround(v);
    });
    weights.set(name, values);
    return { name, dtype: bf16 ? ('BF16' as const) : ('F32' as const), shape, data: encode(values, bf16 ? 'bf16' : 'f32') };
  });
  await writeSafetensors(join(dir, 'model.safetensors'), entries);
  return { dir, ref: { config, weights } };
}
