// Loading a Hugging Face Llama or Qwen2 folder (config.json + safetensors, single or sharded) onto the GPU,
// and making random ones of any shape (tests, benchmarks). Biases are loaded as f32 whatever their file
// dtype (widening is exact; saveModel writes them back in their weight's dtype).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type LlamaConfig, expectedWeights, loadLlamaConfig, validateWeights } from '../io/hf-config.ts';
import { openSafetensors } from '../io/safetensors.ts';
import { type DType, type Tensor, keep, parameter } from '../tensor/index.ts';
import { Rng } from '../util/random.ts';
import { Llama } from './llama.ts';

export interface LoadOptions {
  /** Convert the weights to this dtype on load (default: keep the file's). */
  dtype?: DType;
}

export async function loadLlama(dir: string, options: LoadOptions = {}): Promise<Llama> {
  if (!existsSync(dir)) throw new Error(`Model folder ${dir} does not exist. Put a Hugging Face Llama or Qwen2 folder there (see weights/README.md).`);
  if (!existsSync(join(dir, 'config.json'))) {
    throw new Error(`${dir} has no config.json: it is not a Hugging Face model folder (see weights/README.md).`);
  }
  const config = await loadLlamaConfig(dir);
  const files = await openSafetensors(dir);
  const weights = new Map<string, Tensor>();
  try {
    validateWeights(config, files);
    for (const { name } of expectedWeights(config)) {
      weights.set(name, keep(await files.loadToGpu(name, { dtype: isBias(name) ? 'f32' : options.dtype })));
    }
  } catch (e) {
    for (const t of weights.values()) t.dispose();
    throw e;
  } finally {
    await files.close();
  }
  return new Llama(config, weights);
}

const isBias = (name: string) => name.endsWith('.bias');

/**
 * A model with random weights of `config`'s shape: linear and embedding weights and biases N(0, std²),
 * norm weights U[0.5, 1.5) — enough signal for benchmarks and for gradient checks. Biases are f32.
 */
export function randomLlama(config: LlamaConfig, seed = 0, dtype: DType = 'bf16', std = 0.02): Llama {
  const rng = new Rng(seed);
  const weights = new Map<string, Tensor>();
  for (const { name, shape } of expectedWeights(config)) {
    const t = keep(parameter(shape, isBias(name) ? 'f32' : dtype));
    const n = t.size;
    const values = new Float32Array(n);
    const isNorm = shape.length === 1 && !isBias(name);
    for (let i = 0; i < n; i++) values[i] = isNorm ? 0.5 + rng.uniform() : std * rng.normal();
    t.write(values);
    weights.set(name, t);
  }
  return new Llama(config, weights);
}
