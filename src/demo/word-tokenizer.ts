// A word-level tokenizer for the tiny world, written as an ordinary Hugging Face tokenizer.json
// (WordLevel model, WhitespaceSplit pre-tokenizer, TemplateProcessing that adds BOS) plus
// tokenizer_config.json, so the model folder loads like any other; and a local encoder with the same ids for
// generating training data quickly (tests check the two agree).
//
// Every text of the world is words separated by single spaces; "\n" is a token of its own (an added token,
// so it is split off before whitespace splitting). Decoding joins tokens with spaces.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NEWLINE } from './prompts.ts';
import { ATTRIBUTES, PRONOUNS } from './world-schema.ts';
import type { World } from './world.ts';

export const SPECIAL = { pad: '<pad>', bos: '<bos>', eos: '<eos>', unk: '<unk>' } as const;

/** Ids 0..4 are fixed: <pad> <bos> <eos> <unk> and the newline token. */
export const FIXED_TOKENS = [SPECIAL.pad, SPECIAL.bos, SPECIAL.eos, SPECIAL.unk, NEWLINE] as const;

/** Words of the prompt formats (prompts.ts). */
const PROMPT_WORDS = ['Passage', ':', 'Implications'];

/** The vocabulary in id order: the fixed tokens, then every word the world can write, sorted. */
export function worldVocabulary(world: World): string[] {
  const words = new Set<string>(PROMPT_WORDS);
  const addWords = (text: string) => {
    for (const w of text.split(' ')) if (w && !w.startsWith('{')) words.add(w);
  };
  for (const a of ATTRIBUTES) {
    for (const f of [...a.passageForms, ...a.restatementForms, a.question]) addWords(f);
    for (const v of world.values[a.key]) words.add(v);
  }
  for (const p of PRONOUNS) words.add(p);
  for (const n of [...world.firstNames, ...world.lastNames]) words.add(n);
  return [...FIXED_TOKENS, ...[...words].sort()];
}

/** Splits a world text into tokens: words on spaces, "\n" as its own token. */
export function splitWords(text: string): string[] {
  const tokens: string[] = [];
  text.split(NEWLINE).forEach((segment, i) => {
    if (i > 0) tokens.push(NEWLINE);
    for (const w of segment.split(/[ \t\r]+/)) if (w) tokens.push(w);
  });
  return tokens;
}

export class WordTokenizer {
  readonly ids: ReadonlyMap<string, number>;
  readonly padId = 0;
  readonly bosId = 1;
  readonly eosId = 2;
  readonly unkId = 3;
  readonly newlineId = 4;

  constructor(readonly vocab: readonly string[]) {
    FIXED_TOKENS.forEach((t, i) => {
      if (vocab[i] !== t) throw new Error(`vocabulary must start with the fixed tokens; id ${i} is ${JSON.stringify(vocab[i])}`);
    });
    const ids = new Map<string, number>();
    vocab.forEach((w, i) => {
      if (ids.has(w)) throw new Error(`duplicate token ${JSON.stringify(w)}`);
      ids.set(w, i);
    });
    this.ids = ids;
  }

  get size(): number {
    return this.vocab.length;
  }

  /** Token ids of a world text; throws on a word outside the vocabulary (a bug in the generator). */
  encode(text: string, options: { bos?: boolean; eos?: boolean } = {}): number[] {
    const out = options.bos ? [this.bosId] : [];
    for (const w of splitWords(text)) {
      const id = this.ids.get(w);
      if (id === undefined) throw new Error(`word ${JSON.stringify(w)} is not in the world's vocabulary`);
      out.push(id);
    }
    if (options.eos) out.push(this.eosId);
    return out;
  }

  decode(ids: readonly number[]): string {
    return ids.map((id) => this.vocab[id] ?? SPECIAL.unk).join(' ');
  }

  id(word: string): number {
    const id = this.ids.get(word);
    if (id === undefined) throw new Error(`word ${JSON.stringify(word)} is not in the world's vocabulary`);
    return id;
  }
}

/** An entry of tokenizer.json's added_tokens: matched whole, before any splitting, never normalised. */
export function addedToken(id: number, content: string, special: boolean) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special };
}

/** tokenizer.json (the `tokenizers` library's serialisation) for a word-level vocabulary. */
export function tokenizerJson(vocab: readonly string[]): Record<string, unknown> {
  const vocabObject: Record<string, number> = {};
  vocab.forEach((w, i) => (vocabObject[w] = i));
  // The newline is text the model writes and decode must keep, not a control token.
  const added = FIXED_TOKENS.map((content, id) => addedToken(id, content, content !== NEWLINE));
  const bos = { SpecialToken: { id: SPECIAL.bos, type_id: 0 } };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'WhitespaceSplit' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [bos, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [bos, { Sequence: { id: 'A', type_id: 0 } }, bos, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { [SPECIAL.bos]: { id: SPECIAL.bos, ids: [1], tokens: [SPECIAL.bos] } },
    },
    decoder: null,
    model: { type: 'WordLevel', vocab: vocabObject, unk_token: SPECIAL.unk },
  };
}

/** tokenizer_config.json: BOS/EOS/PAD/UNK, no chat template (a base model prompted with plain text). */
export function tokenizerConfig(): Record<string, unknown> {
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: SPECIAL.bos,
    eos_token: SPECIAL.eos,
    pad_token: SPECIAL.pad,
    unk_token: SPECIAL.unk,
    add_bos_token: true,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
    model_max_length: 512,
  };
}

/** Writes tokenizer.json and tokenizer_config.json into `dir` (created if needed). */
export async function writeTokenizerFiles(dir: string, vocab: readonly string[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson(vocab), null, 2) + '\n');
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig(), null, 2) + '\n');
}
