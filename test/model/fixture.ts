// The llama-tiny fixture (../shared/fixtures/llama-tiny): reference outputs from Hugging Face's own
// PyTorch LlamaForCausalLM. Tests that need it skip, loudly, where ../shared is absent.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSafetensors } from '../../src/io/safetensors.ts';

export const FIXTURE = join(import.meta.dirname, '..', '..', '..', 'shared', 'fixtures', 'llama-tiny');
export const HAVE_FIXTURE = existsSync(join(FIXTURE, 'model.safetensors'));
if (!HAVE_FIXTURE) console.warn(`SKIPPING fixture tests: ${FIXTURE} is absent (the shared folder ../shared is not mounted)`);

/** A fixture JSON file; undefined without the fixture (describe bodies run even when skipped). */
export function fixtureJson<T = any>(name: string): T {
  if (!HAVE_FIXTURE) return undefined as T;
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
