// The llama-tiny fixture (test/fixtures/llama-tiny, see its README): reference outputs from Hugging Face's
// own PyTorch LlamaForCausalLM, PEFT's LoRA and torch's AdamW, vendored so that every clone checks exactness.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSafetensors } from '../../src/io/safetensors.ts';

export const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'llama-tiny');

/** A fixture JSON file. */
export function fixtureJson<T = any>(name: string): T {
  return JSON.parse(readFileSync(join(FIXTURE, name), 'utf8'));
}

/** Every tensor of a fixture safetensors file, widened to f32. */
export function fixtureTensors(file: string): Promise<Map<string, Float32Array>> {
  return readTensors(join(FIXTURE, file));
}

/** Every tensor of a safetensors file, widened to f32. */
export async function readTensors(path: string): Promise<Map<string, Float32Array>> {
  const f = await openSafetensors(path);
  const out = new Map<string, Float32Array>();
  for (const name of f.names) out.set(name, await f.readToCpu(name));
  await f.close();
  return out;
}
