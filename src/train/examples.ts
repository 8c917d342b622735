// Training and scoring data: JSONL lines turned into token ids with aligned labels (Hugging Face's
// convention: labels have the shape of the ids, −100 is ignored, the shift happens inside the loss).
// A line is one of
//   {"text": "..."}                                  plain text
//   {"messages": [{"role", "content"}, ...]}          a chat, rendered with the model's chat template
//   {"prompt": "...", "completion": "..."}            a prompt and its completion
//   {"input_ids": [...], "labels": [...], "attention_mask": [...]}   pre-tokenised (labels/mask optional)
import { readFile } from 'node:fs/promises';
import type { ChatMessage, Tokenizer } from '../io/tokenizer.ts';
import { IGNORE_INDEX } from '../tensor/index.ts';

export interface Example {
  ids: number[];
  labels: number[];
}

/** all: every token is a target; completion: only the completion / assistant tokens (−100 elsewhere). */
export type LossMode = 'all' | 'completion';

export interface ExampleOptions {
  loss: LossMode;
  /** Append the end-of-sequence token to text and completions (training); scoring leaves text as it is. */
  appendEos: boolean;
}

export class DataError extends Error {
  override name = 'DataError';
}

/** Parses a JSONL file: one object per non-empty line; a malformed line is an error naming its number. */
export async function readJsonl(file: string): Promise<{ line: number; value: Record<string, unknown> }[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new DataError(`Cannot read the data file ${file}: ${(e as Error).message}`);
  }
  const out: { line: number; value: Record<string, unknown> }[] = [];
  text.split('\n').forEach((raw, i) => {
    if (!raw.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      throw new DataError(`${file}:${i + 1}: not valid JSON (${(e as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DataError(`${file}:${i + 1}: expected a JSON object`);
    out.push({ line: i + 1, value: value as Record<string, unknown> });
  });
  if (out.length === 0) throw new DataError(`${file} holds no examples`);
  return out;
}

export async function readExamples(file: string, tokenizer: Tokenizer | null, opts: ExampleOptions): Promise<Example[]> {
  return (await readJsonl(file)).map(({ line, value }) => {
    try {
      return toExample(value, tokenizer, opts);
    } catch (e) {
      throw new DataError(`${file}:${line}: ${(e as Error).message}`);
    }
  });
}

export function toExample(value: Record<string, unknown>, tokenizer: Tokenizer | null, opts: ExampleOptions): Example {
  if ('input_ids' in value) return pretokenised(value);
  const tok = () => {
    if (!tokenizer) throw new Error('this line needs a tokenizer, but the model folder has none (use pre-tokenised input_ids)');
    return tokenizer;
  };
  const eos = () => {
    const id = tok().eosIds[0];
    if (id === undefined) throw new Error('the tokenizer has no eos_token to end the sequence with');
    return [id];
  };
  if (typeof value.text === 'string') {
    const ids = [...tok().encode(value.text), ...(opts.appendEos ? eos() : [])];
    return { ids, labels: [...ids] };
  }
  if (typeof value.prompt === 'string' && typeof value.completion === 'string') {
    const prompt = tok().encode(value.prompt);
    const completion = [...tok().encode(value.completion, { addBos: false }), ...(opts.appendEos ? eos() : [])];
    const ids = [...prompt, ...completion];
    const labels = opts.loss === 'completion' ? [...prompt.map(() => IGNORE_INDEX), ...completion] : [...ids];
    return { ids, labels };
  }
  if (Array.isArray(value.messages)) return chat(value.messages, tok(), opts.loss);
  throw new Error('expected "text", "prompt" + "completion", "messages" or "input_ids"');
}

function pretokenised(value: Record<string, unknown>): Example {
  const ints = (key: string) => {
    const v = value[key];
    if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x))) throw new Error(`"${key}" must be a list of integers`);
    return v as number[];
  };
  let ids = ints('input_ids');
  let labels = 'labels' in value ? ints('labels') : [...ids];
  if (labels.length !== ids.length) throw new Error(`"labels" has ${labels.length} entries, "input_ids" ${ids.length}`);
  if ('attention_mask' in value) {
    const mask = ints('attention_mask');
    if (mask.length !== ids.length) throw new Error(`"attention_mask" has ${mask.length} entries, "input_ids" ${ids.length}`);
    // Right padding: keep the tokens before the first 0.
    const n = mask.indexOf(0) < 0 ? mask.length : mask.indexOf(0);
    if (mask.slice(n).some((m) => m !== 0)) throw new Error('"attention_mask" must be right padding (ones, then zeros)');
    ids = ids.slice(0, n);
    labels = labels.slice(0, n);
  }
  if (ids.length === 0) throw new Error('no tokens');
  return { ids, labels };
}

/**
 * A chat's tokens, with the assistant turns as targets in completion mode: each assistant message's
 * tokens start where the conversation before it (with the generation prompt) ends, and run through its
 * end-of-turn token (some templates, like early Llama-3 ones, append the next assistant header even after
 * an assistant message, so the rendering of the conversation up to it is not a reliable end).
 */
function chat(messages: unknown[], tokenizer: Tokenizer, loss: LossMode): Example {
  const msgs = messages.map((m, i) => {
    if (typeof m !== 'object' || m === null || typeof (m as ChatMessage).role !== 'string' || typeof (m as ChatMessage).content !== 'string') {
      throw new Error(`messages[${i}] must be {"role": string, "content": string}`);
    }
    return m as ChatMessage;
  });
  const ids = tokenizer.encodeChat(msgs);
  if (loss === 'all') return { ids, labels: [...ids] };
  const labels = ids.map(() => IGNORE_INDEX);
  // A turn ends with the EOS, Llama-3's <|eot_id|> or ChatML's <|im_end|> (Qwen base models' EOS is another).
  const endOfTurn = new Set([...tokenizer.eosIds, tokenizer.tokenToId('<|eot_id|>') ?? -1, tokenizer.tokenToId('<|im_end|>') ?? -1]);
  msgs.forEach((m, i) => {
    if (m.role !== 'assistant') return;
    const start = tokenizer.encodeChat(msgs.slice(0, i), { addGenerationPrompt: true }).length;
    let end = Math.min(ids.length, tokenizer.encodeChat(msgs.slice(0, i + 1)).length);
    const stop = ids.findIndex((id, t) => t >= start && endOfTurn.has(id));
    if (stop >= 0 && stop < end) end = stop + 1;
    for (let t = start; t < end; t++) labels[t] = ids[t];
  });
  if (!labels.some((l) => l !== IGNORE_INDEX)) throw new Error('completion loss, but the chat has no assistant message');
  return { ids, labels };
}

/** Right-pads examples into one batch: ids padded with `pad`, labels with −100, mask 0 on padding. */
export function collate(batch: Example[], pad: number): { ids: number[][]; labels: number[][]; attentionMask: number[][] } {
  const T = Math.max(...batch.map((e) => e.ids.length));
  const fill = <V>(row: V[], value: V) => [...row, ...new Array(T - row.length).fill(value)];
  return {
    ids: batch.map((e) => fill(e.ids, pad)),
    labels: batch.map((e) => fill(e.labels, IGNORE_INDEX)),
    attentionMask: batch.map((e) => fill(e.ids.map(() => 1), 0)),
  };
}
