// Training and scoring data: JSONL lines turned into token ids with aligned labels (Hugging Face's
// convention: labels have the shape of the ids, −100 is ignored, the shift happens inside the loss).
// A line is one of
//   {"text": "..."}                                  plain text
//   {"messages": [{"role", "content"}, ...]}          a chat, rendered with the model's chat template
//   {"prompt": "...", "completion": "..."}            a prompt and its completion
//   {"input_ids": [...], "labels": [...], "attention_mask": [...]}   pre-tokenised (labels/mask optional)
import { readFile } from 'node:fs/promises';
import { ChatTemplateError } from '../io/chat-template.ts';
import { type ChatMessage, type Tokenizer, TokenizerError } from '../io/tokenizer.ts';
import { IGNORE_INDEX } from '../tensor/index.ts';
import { jsonSnippet } from '../util/json.ts';

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
  /** The model's vocabulary size: pre-tokenised ids and labels must lie below it (checked when given). */
  vocabSize?: number;
}

/** A data file or line that cannot be used; the message names the file and line (readExamples adds them). */
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
      // What the line gets wrong, or what the tokenizer or its chat template refuses in it; anything else is a bug here.
      if (e instanceof DataError || e instanceof TokenizerError || e instanceof ChatTemplateError) throw new DataError(`${file}:${line}: ${e.message}`);
      throw e;
    }
  });
}

export function toExample(value: Record<string, unknown>, tokenizer: Tokenizer | null, opts: ExampleOptions): Example {
  if ('input_ids' in value) return pretokenised(value, opts.vocabSize);
  const tok = () => {
    if (!tokenizer) throw new DataError('this line needs a tokenizer, but the model folder has none (use pre-tokenised input_ids)');
    return tokenizer;
  };
  const eos = () => {
    const id = tok().eosIds[0];
    if (id === undefined) throw new DataError('the tokenizer has no eos_token to end the sequence with');
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
  throw new DataError('expected "text", "prompt" + "completion", "messages" or "input_ids"');
}

/** Ids (and labels: −100 or an id) below `vocabSize` when it is known; the mask is ones, then zeros. */
function pretokenised(value: Record<string, unknown>, vocabSize: number | undefined): Example {
  const ints = (key: string, ok: (x: number) => boolean, what: string) => {
    const v = value[key];
    if (!Array.isArray(v)) throw new DataError(`"${key}" must be a list of ${what}, got ${jsonSnippet(v)}`);
    const i = v.findIndex((x) => !(Number.isSafeInteger(x) && ok(x)));
    if (i >= 0) throw new DataError(`"${key}"[${i}] is ${jsonSnippet(v[i])}; "${key}" must be a list of ${what}`);
    return v as number[];
  };
  const isId = (x: number) => x >= 0 && (vocabSize === undefined || x < vocabSize);
  const idText = vocabSize === undefined ? 'token ids (integers ≥ 0)' : `token ids in [0, ${vocabSize})`;
  let inputIds = ints('input_ids', isId, idText);
  let labels = 'labels' in value ? ints('labels', (x) => x === IGNORE_INDEX || isId(x), `${idText} or ${IGNORE_INDEX}`) : [...inputIds];
  if (labels.length !== inputIds.length) throw new DataError(`"labels" has ${labels.length} entries, "input_ids" ${inputIds.length}`);
  if ('attention_mask' in value) {
    const mask = ints('attention_mask', (x) => x === 0 || x === 1, '0s and 1s');
    if (mask.length !== inputIds.length) throw new DataError(`"attention_mask" has ${mask.length} entries, "input_ids" ${inputIds.length}`);
    // Right padding: keep the tokens before the first 0.
    const n = mask.indexOf(0) < 0 ? mask.length : mask.indexOf(0);
    if (mask.slice(n).some((m) => m !== 0)) throw new DataError('"attention_mask" must be right padding (ones, then zeros)');
    inputIds = inputIds.slice(0, n);
    labels = labels.slice(0, n);
  }
  if (inputIds.length === 0) throw new DataError('no tokens');
  return { ids: inputIds, labels };
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
      throw new DataError(`messages[${i}] must be {"role": string, "content": string}, got ${jsonSnippet(m)}`);
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
  if (!labels.some((l) => l !== IGNORE_INDEX)) throw new DataError('completion loss, but the chat has no assistant message');
  return { ids, labels };
}

/**
 * A batch as the model takes it: rows of ids and aligned labels, right-padded to one length, and either an
 * attention mask (one example per row) or per-token positions and document segments (packed rows).
 */
export interface Batch {
  ids: number[][];
  labels: number[][];
  attentionMask?: number[][];
  positions?: number[][];
  segments?: number[][];
}

/** Right-pads examples into one batch: ids padded with `pad`, labels with −100, mask 0 on padding. */
export function collate(batch: Example[], pad: number): Batch & { attentionMask: number[][] } {
  const T = Math.max(...batch.map((e) => e.ids.length));
  const fill = <V>(row: V[], value: V) => [...row, ...new Array(T - row.length).fill(value)];
  return {
    ids: batch.map((e) => fill(e.ids, pad)),
    labels: batch.map((e) => fill(e.labels, IGNORE_INDEX)),
    attentionMask: batch.map((e) =>
      fill(
        e.ids.map(() => 1),
        0,
      ),
    ),
  };
}

/**
 * Packs each group of examples into one row, back to back. Every example attends only to itself (segments
 * 1, 2, … in the row; 0 on padding) and its positions restart at 0, so it is computed exactly as if it
 * were alone; its first label is dropped, so no example is scored on predicting the next one's first
 * token. Rows are right-padded to one length, rounded up to a multiple of `multiple`: sums over a row's
 * tokens then never end in a short tail, whatever the other rows' lengths (the CPU GEMM takes K in fours
 * and hands K % 4 to a second pass), and a row's gradients do not depend on what it is batched with.
 */
export function pack(groups: Example[][], pad: number, multiple = 8): Batch & { positions: number[][]; segments: number[][] } {
  const used = groups.map((g) => g.reduce((n, e) => n + e.ids.length, 0));
  const T = Math.max(multiple, Math.ceil(Math.max(...used) / multiple) * multiple);
  const batch = { ids: [] as number[][], labels: [] as number[][], positions: [] as number[][], segments: [] as number[][] };
  for (const group of groups) {
    const ids: number[] = [];
    const labels: number[] = [];
    const positions: number[] = [];
    const segments: number[] = [];
    group.forEach((e, d) => {
      if (e.labels.length !== e.ids.length) throw new RangeError(`pack: an example has ${e.ids.length} ids and ${e.labels.length} labels`);
      e.ids.forEach((id, t) => {
        ids.push(id);
        labels.push(t === 0 ? IGNORE_INDEX : e.labels[t]);
        positions.push(t);
        segments.push(d + 1);
      });
    });
    const padding = T - ids.length;
    batch.ids.push([...ids, ...new Array(padding).fill(pad)]);
    batch.labels.push([...labels, ...new Array(padding).fill(IGNORE_INDEX)]);
    batch.positions.push([...positions, ...new Array(padding).fill(0)]);
    batch.segments.push([...segments, ...new Array(padding).fill(0)]);
  }
  return batch;
}
