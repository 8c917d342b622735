// Model shapes the benchmarks use: Llama-3.2-1B's exact config, a ~30M-parameter Llama, the tiny
// fixture's shape, the demo's model, and Qwen2.5-0.5B / 1.5B / 7B-Instruct's exact configs; and writing a random-weight HF
// folder with our own safetensors writer, so the loading path is the one real weights take.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LlamaConfig, expectedWeights, parseLlamaConfig, writeLlamaConfig } from '../src/io/hf-config.ts';
import { writeSafetensors } from '../src/io/safetensors.ts';
import { f32ToBf16 } from '../src/tensor/index.ts';
import { Rng } from '../src/util/random.ts';

const llama = (fields: Record<string, unknown>) =>
  parseLlamaConfig({
    model_type: 'llama',
    architectures: ['LlamaForCausalLM'],
    hidden_act: 'silu',
    rms_norm_eps: 1e-5,
    bos_token_id: 128000,
    eos_token_id: [128001, 128008, 128009],
    tie_word_embeddings: true,
    torch_dtype: 'bfloat16',
    ...fields,
  });

/** meta-llama/Llama-3.2-1B-Instruct's config.json (shape and RoPE; weights are random here). */
export const LLAMA_1B: LlamaConfig = llama({
  vocab_size: 128256,
  hidden_size: 2048,
  intermediate_size: 8192,
  num_hidden_layers: 16,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  head_dim: 64,
  max_position_embeddings: 131072,
  rope_theta: 500000,
  rope_scaling: { factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192, rope_type: 'llama3' },
});

/** A Llama-3.2-shaped model of about 30M parameters (a 16k vocabulary, 6 layers of 512). */
export const LLAMA_30M: LlamaConfig = llama({
  vocab_size: 16384,
  hidden_size: 512,
  intermediate_size: 1536,
  num_hidden_layers: 6,
  num_attention_heads: 8,
  num_key_value_heads: 2,
  head_dim: 64,
  max_position_embeddings: 8192,
  rope_theta: 500000,
  bos_token_id: 1,
  eos_token_id: 2,
});

/** The llama-tiny fixture's shape. */
export const LLAMA_TINY: LlamaConfig = llama({
  vocab_size: 512,
  hidden_size: 64,
  intermediate_size: 192,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 16,
  max_position_embeddings: 131072,
  rope_theta: 500000,
  bos_token_id: 1,
  eos_token_id: 2,
});

/** The demo's model, weights/seal-tiny (4 layers of 128, 4 heads of 32, a 298-token vocabulary): its own config.json. */
export const SEAL_TINY: LlamaConfig = parseLlamaConfig(
  JSON.parse(readFileSync(join(import.meta.dirname, '..', 'weights', 'seal-tiny', 'config.json'), 'utf8')),
);

const qwen25 = (fields: Record<string, unknown>) =>
  parseLlamaConfig({
    model_type: 'qwen2',
    architectures: ['Qwen2ForCausalLM'],
    hidden_act: 'silu',
    rms_norm_eps: 1e-6,
    rope_theta: 1000000,
    bos_token_id: 151643,
    eos_token_id: 151645,
    max_position_embeddings: 32768,
    use_sliding_window: false,
    torch_dtype: 'bfloat16',
    ...fields,
  });

/** Qwen/Qwen2.5-0.5B-Instruct's config.json (shape; weights are random here). */
export const QWEN25_05B: LlamaConfig = qwen25({
  vocab_size: 151936,
  hidden_size: 896,
  intermediate_size: 4864,
  num_hidden_layers: 24,
  num_attention_heads: 14,
  num_key_value_heads: 2,
  tie_word_embeddings: true,
  sliding_window: 32768,
  max_window_layers: 21,
});

/** Qwen/Qwen2.5-1.5B-Instruct's config.json. */
export const QWEN25_15B: LlamaConfig = qwen25({
  vocab_size: 151936,
  hidden_size: 1536,
  intermediate_size: 8960,
  num_hidden_layers: 28,
  num_attention_heads: 12,
  num_key_value_heads: 2,
  tie_word_embeddings: true,
  sliding_window: 32768,
  max_window_layers: 21,
});

/** Qwen/Qwen2.5-7B-Instruct's config.json (SEAL's knowledge-incorporation model is the base Qwen2.5-7B, same shape). */
export const QWEN25_7B: LlamaConfig = qwen25({
  vocab_size: 152064,
  hidden_size: 3584,
  intermediate_size: 18944,
  num_hidden_layers: 28,
  num_attention_heads: 28,
  num_key_value_heads: 4,
  tie_word_embeddings: false,
  sliding_window: 131072,
  max_window_layers: 28,
});

export function parameterCount(config: LlamaConfig): number {
  return expectedWeights(config).reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
}

/**
 * A Hugging Face folder with random bf16 weights of `config`'s shape, written once per shape under the
 * system's temporary folder (2.5 GB for the 1B shape) and reused.
 */
export async function randomModelFolder(name: string, config: LlamaConfig, seed = 0): Promise<string> {
  const dir = join(tmpdir(), 'seal-bench-models', name);
  if (existsSync(join(dir, 'model.safetensors'))) return dir;
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(seed);
  await writeSafetensors(
    join(dir, 'model.safetensors'),
    expectedWeights(config).map(({ name: tensorName, shape }) => ({
      name: tensorName,
      dtype: 'BF16' as const,
      shape,
      data: () => {
        const n = shape.reduce((a, b) => a * b, 1);
        const out = new Uint16Array(n);
        // Norm weights near 1, the rest (biases too) N(0, 0.02²): activations keep a sane scale through 16 layers.
        const norm = shape.length === 1 && !tensorName.endsWith('.bias');
        for (let i = 0; i < n; i++) out[i] = f32ToBf16(norm ? 0.9 + 0.2 * rng.uniform() : 0.02 * rng.normal());
        return Promise.resolve(new Uint8Array(out.buffer));
      },
    })),
  );
  await writeLlamaConfig(dir, config);
  return dir;
}
