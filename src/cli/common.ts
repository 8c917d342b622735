// What several commands share: loading a model folder with its tokenizer and an optional adapter.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Tokenizer, loadTokenizer } from '../io/tokenizer.ts';
import type { Llama } from '../model/llama.ts';
import { loadLlama } from '../model/load.ts';
import { stopIdsOf } from '../seal/policy.ts';
import { LoraAdapter, checkTargets } from '../train/lora.ts';
import { UsageError } from '../util/flags.ts';

export interface Loaded {
  model: Llama;
  tokenizer: Tokenizer | null;
  adapter: LoraAdapter | null;
}

export async function loadModel(dir: string, adapterDir?: string): Promise<Loaded> {
  const model = await loadLlama(dir);
  const tokenizer = existsSync(join(dir, 'tokenizer.json')) ? await loadTokenizer(dir) : null;
  let adapter: LoraAdapter | null = null;
  if (adapterDir) {
    try {
      adapter = await LoraAdapter.load(model, adapterDir);
    } catch (e) {
      model.dispose();
      throw e;
    }
  }
  return { model, tokenizer, adapter };
}

export function needTokenizer(loaded: Loaded, what: string, dir: string): Tokenizer {
  if (!loaded.tokenizer) throw new Error(`${dir} has no tokenizer.json, which ${what} needs (pass token ids instead where the command allows)`);
  return loaded.tokenizer;
}

/** Ids that end generation (policy.ts's stopIdsOf). */
export function stopIds(loaded: Loaded): number[] {
  return stopIdsOf(loaded.model, loaded.tokenizer);
}

export function parseIds(text: string, flag: string): number[] {
  const ids = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (ids.length === 0 || ids.some((x) => !Number.isSafeInteger(x) || x < 0)) throw new UsageError(`${flag} takes comma-separated token ids, got "${text}"`);
  return ids;
}

/** A list of LoRA target modules given by `flag`, checked at the door. */
export function loraTargets(targets: readonly string[], flag: string): void {
  try {
    checkTargets(targets);
  } catch (e) {
    throw new UsageError(`${flag}: ${(e as Error).message}`);
  }
}
