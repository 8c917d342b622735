// A model folder's tokenizer (tokenizer.json + tokenizer_config.json, as Hugging Face ships them), run by
// @huggingface/tokenizers, with the chat template from the same folder.
//
// BOS is handled exactly once:
//  - encode() never lets the tokenizer.json post-processor add special tokens (Llama-3.2's prepends
//    <|begin_of_text|>, Llama-3.0's original file does not); it prepends BOS itself when asked and the
//    text does not already start with it.
//  - encodeChat() tokenizes the rendered template without adding special tokens, exactly as transformers'
//    apply_chat_template(tokenize=True) does: Llama templates write <|begin_of_text|> themselves.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { jsonSnippet } from '../util/json.ts';
import { type ChatMessage, ChatTemplate, ChatTemplateError, type ChatTemplateOptions } from './chat-template.ts';

export type { ChatMessage, ChatTemplateOptions } from './chat-template.ts';

export interface EncodeOptions {
  /** Start with BOS (default: true when the tokenizer has one). Never doubles a BOS already in the text. */
  addBos?: boolean;
}

export interface DecodeOptions {
  /** Drop special tokens (<|begin_of_text|>, <|eot_id|>, …). Default false. */
  skipSpecial?: boolean;
  /**
   * Apply transformers' clean_up_tokenization_spaces (" ." → "." etc.). Default false, so that
   * decode(encode(text)) gives back the text; transformers applies it when tokenizer_config.json says so.
   */
  cleanUpSpaces?: boolean;
}

export class TokenizerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenizerError';
  }
}

export interface LoadTokenizerOptions {
  /** The clock for strftime_now() in chat templates (default: the real time at each render). */
  now?: () => Date;
}

export class Tokenizer {
  /** Number of token ids (base vocabulary plus added tokens), e.g. 128256 for Llama-3. */
  readonly vocabSize: number;
  readonly bosId: number | null;
  /** Ids that end generation: the tokenizer's eos_token plus generation_config.json's eos_token_id. */
  readonly eosIds: number[];
  readonly padId: number | undefined;
  private readonly chat: ChatTemplate | null;

  constructor(
    private readonly hf: HfTokenizer,
    readonly dir: string,
    special: { bos: string | null; eos: string | null; pad: string | null; unk: string | null },
    extraEosIds: number[],
    chatTemplate: { source: string; origin: string } | null,
    private readonly options: LoadTokenizerOptions = {},
  ) {
    let maxId = -1;
    for (const id of hf.get_vocab(true).values()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;
    const idOf = (token: string | null, what: string): number | null => {
      if (token === null) return null;
      const id = hf.token_to_id(token);
      if (id === undefined) throw new TokenizerError(`${dir}: tokenizer_config.json's ${what} "${token}" is not in tokenizer.json's vocabulary.`);
      return id;
    };
    for (const id of extraEosIds) {
      if (id >= this.vocabSize)
        throw new TokenizerError(`${dir}: generation_config.json's eos_token_id ${id} is not in the vocabulary (${this.vocabSize} tokens).`);
    }
    this.bosId = idOf(special.bos, 'bos_token');
    const eos = idOf(special.eos, 'eos_token');
    this.eosIds = [...new Set([...(eos === null ? [] : [eos]), ...extraEosIds])];
    this.padId = idOf(special.pad, 'pad_token') ?? undefined;
    const tokens: Record<string, string> = {};
    for (const [k, v] of Object.entries(special)) if (v !== null) tokens[`${k}_token`] = v;
    this.chat = chatTemplate && new ChatTemplate(chatTemplate.source, tokens, chatTemplate.origin);
  }

  get hasChatTemplate(): boolean {
    return this.chat !== null;
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    if (typeof text !== 'string') throw new TokenizerError(`encode: expected a string, got ${typeof text}.`);
    const addBos = options.addBos ?? this.bosId !== null;
    const ids = this.idsOf(text);
    if (!addBos) return ids;
    if (this.bosId === null) throw new TokenizerError(`${this.dir}: addBos was requested but the tokenizer has no bos_token.`);
    return ids[0] === this.bosId ? ids : [this.bosId, ...ids];
  }

  decode(ids: readonly number[] | Int32Array, options: DecodeOptions = {}): string {
    const list = Array.from(ids);
    if (list.length === 0) return ''; // the library refuses an empty list; a generation can be empty
    list.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new TokenizerError(`decode: id ${id} at position ${i} is not a token id (vocabulary size ${this.vocabSize}).`);
      }
    });
    return this.library('decode', () =>
      this.hf.decode(list, {
        skip_special_tokens: options.skipSpecial ?? false,
        clean_up_tokenization_spaces: options.cleanUpSpaces ?? false,
      }),
    );
  }

  /** The id of one token string (a special token such as "<|eot_id|>", or a vocabulary entry such as "ĠWorld"). */
  tokenToId(token: string): number | undefined {
    return this.hf.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.hf.id_to_token(id);
  }

  /** The conversation as the model's chat template writes it (the text, special tokens included). */
  applyChatTemplate(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): string {
    if (!this.chat) {
      throw new TokenizerError(
        `${this.dir}: tokenizer_config.json has no chat_template (base models have none); use encode() for plain text, or use the instruct model's tokenizer files.`,
      );
    }
    const now = options.now ?? this.options.now?.();
    return this.chat.render(messages, { ...options, ...(now ? { now } : {}) });
  }

  /** Token ids of the rendered conversation; as HF's apply_chat_template(tokenize=True), no special tokens are added. */
  encodeChat(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): number[] {
    return this.idsOf(this.applyChatTemplate(messages, options));
  }

  /** The library's token ids for `text` (no special tokens added), each checked to be a token id. */
  private idsOf(text: string): number[] {
    const ids: number[] = this.library('encode', () => this.hf.encode(text, { add_special_tokens: false }).ids);
    const bad = ids.findIndex((id) => !(Number.isSafeInteger(id) && id >= 0 && id < this.vocabSize));
    if (bad >= 0) {
      throw new TokenizerError(
        `${this.dir}: the tokenizer has no id for piece ${bad} of the text (it gave ${ids[bad]}); tokenizer.json lacks an unk_token for unknown pieces, or is corrupt.`,
      );
    }
    return ids;
  }

  /** Runs the tokenizers library, which trusts tokenizer.json: its failures on a corrupt file become named errors. */
  private library<T>(what: string, run: () => T): T {
    try {
      return run();
    } catch (e) {
      if (e instanceof TokenizerError || e instanceof ChatTemplateError) throw e;
      throw new TokenizerError(`${this.dir}: the tokenizers library failed to ${what} (${(e as Error).message}); tokenizer.json may be corrupt.`);
    }
  }
}

/** Loads `dir/tokenizer.json` and `dir/tokenizer_config.json` (and generation_config.json's EOS ids if present). */
export async function loadTokenizer(dir: string, options: LoadTokenizerOptions = {}): Promise<Tokenizer> {
  const tokenizerJson = await readJson(
    join(dir, 'tokenizer.json'),
    `${dir}: tokenizer.json is missing; copy it from the model repository (only fast tokenizers are supported).`,
  );
  const configFile = join(dir, 'tokenizer_config.json');
  const config = await readJson(configFile, `${dir}: tokenizer_config.json is missing; copy it from the model repository.`);
  checkTokenizerJson(tokenizerJson, join(dir, 'tokenizer.json'));
  if (!isObject(config)) throw new TokenizerError(`${configFile}: expected a JSON object.`);

  let hf: HfTokenizer;
  try {
    hf = new HfTokenizer(tokenizerJson, config);
  } catch (e) {
    throw new TokenizerError(`${join(dir, 'tokenizer.json')}: the tokenizer could not be built (${(e as Error).message}).`);
  }

  const special = {
    bos: tokenString(config.bos_token, configFile, 'bos_token'),
    eos: tokenString(config.eos_token, configFile, 'eos_token'),
    pad: tokenString(config.pad_token, configFile, 'pad_token'),
    unk: tokenString(config.unk_token, configFile, 'unk_token'),
  };

  const genFile = join(dir, 'generation_config.json');
  const gen = await readJson(genFile, null);
  const extraEos: number[] = [];
  if (isObject(gen) && gen.eos_token_id !== undefined && gen.eos_token_id !== null) {
    for (const id of [gen.eos_token_id].flat()) {
      if (!Number.isSafeInteger(id) || (id as number) < 0)
        throw new TokenizerError(`${genFile}: eos_token_id ${jsonSnippet(gen.eos_token_id)} is not a token id or a list of them.`);
      extraEos.push(id as number);
    }
  }

  return new Tokenizer(hf, dir, special, extraEos, await findChatTemplate(dir, config, configFile), options);
}

/** Newer transformers save the template as chat_template.jinja beside the config, and prefer it. */
async function findChatTemplate(dir: string, config: Record<string, unknown>, configFile: string): Promise<{ source: string; origin: string } | null> {
  const jinjaFile = join(dir, 'chat_template.jinja');
  try {
    return { source: await readFile(jinjaFile, 'utf8'), origin: jinjaFile };
  } catch {
    // fall through to tokenizer_config.json
  }
  const t = config.chat_template;
  if (t === undefined || t === null) return null;
  if (typeof t === 'string') return { source: t, origin: configFile };
  // A list of named templates: the "default" one is for plain chat.
  if (Array.isArray(t)) {
    const named = t.find((x) => isObject(x) && x.name === 'default');
    if (named && typeof named.template === 'string') return { source: named.template, origin: `${configFile} (chat_template "default")` };
  }
  throw new TokenizerError(`${configFile}: chat_template is neither a string nor a list holding a "default" template.`);
}

/** The vocabulary models the tokenizers library runs. */
const MODEL_TYPES = ['BPE', 'WordPiece', 'WordLevel', 'Unigram'];

/**
 * The structure of tokenizer.json that the tokenizers library takes on trust: the model's type and
 * vocabulary, BPE merges, and the added tokens. Ids must be dense (each below the number of tokens, as
 * every real tokenizer's are): the library allocates and walks an array up to the largest id.
 */
function checkTokenizerJson(json: unknown, file: string): asserts json is Record<string, unknown> {
  const bad = (what: string): never => {
    throw new TokenizerError(`${file}: ${what}; the file is corrupt or not a tokenizers file.`);
  };
  if (!isObject(json)) bad(`expected a JSON object, got ${jsonSnippet(json)}`);
  const t = json as Record<string, unknown>;
  const model = t.model;
  if (!isObject(model)) return bad('no "model" object');
  if (!MODEL_TYPES.includes(model.type as string)) bad(`model.type is ${jsonSnippet(model.type)}; supported are ${MODEL_TYPES.join(', ')}`);
  const added = t.added_tokens ?? [];
  if (!Array.isArray(added)) return bad(`"added_tokens" is ${jsonSnippet(added)}, not a list`);
  const ids: [string, unknown][] = [];
  if (model.type === 'Unigram') {
    const vocab = model.vocab;
    if (!Array.isArray(vocab) || !vocab.every((e) => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'number')) {
      bad('a Unigram model.vocab must be a list of [piece, score] pairs');
    }
    const unk = model.unk_id;
    if (unk !== undefined && unk !== null && !(Number.isSafeInteger(unk) && (unk as number) >= 0 && (unk as number) < (vocab as unknown[]).length)) {
      bad(`model.unk_id is ${jsonSnippet(unk)}, not an index into model.vocab`);
    }
  } else {
    if (!isObject(model.vocab)) bad(`model.vocab is ${jsonSnippet(model.vocab)}; expected an object mapping tokens to ids`);
    for (const entry of Object.entries(model.vocab as Record<string, unknown>)) ids.push(entry); // 128k entries: no spread
  }
  if (model.type === 'BPE') {
    const merges = model.merges;
    const isMerge = (m: unknown) => (typeof m === 'string' && m.includes(' ')) || (Array.isArray(m) && m.length === 2 && m.every((x) => typeof x === 'string'));
    if (!Array.isArray(merges) || !merges.every(isMerge)) bad('BPE model.merges must be a list of "a b" strings or [a, b] pairs');
  }
  added.forEach((token: unknown, i: number) => {
    if (!isObject(token) || typeof token.content !== 'string' || token.content === '')
      bad(`added_tokens[${i}] is ${jsonSnippet(token)}; expected {id, content}`);
    ids.push([(token as Record<string, unknown>).content as string, (token as Record<string, unknown>).id]);
  });
  // Added tokens usually repeat vocabulary entries: count distinct tokens.
  const tokens = new Set(ids.map(([token]) => token));
  if (model.type === 'Unigram') for (const [piece] of model.vocab as [string][]) tokens.add(piece);
  const count = tokens.size;
  for (const [token, id] of ids) {
    if (!Number.isSafeInteger(id) || (id as number) < 0 || (id as number) >= count) {
      bad(`token ${jsonSnippet(token, 40)} has id ${jsonSnippet(id)}; ids are integers in [0, ${count}) (the number of tokens)`);
    }
  }
}

/** Special tokens are written as a string or as an AddedToken object {content: "..."}. */
function tokenString(v: unknown, file: string, key: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  if (isObject(v) && typeof v.content === 'string') return v.content;
  throw new TokenizerError(`${file}: ${key} is ${jsonSnippet(v)}; expected a string or {"content": "..."}.`);
}

/** Parsed JSON; `missing` is the error message when the file does not exist, or null to return undefined. */
async function readJson(file: string, missing: string | null): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      if (missing === null) return undefined;
      throw new TokenizerError(missing);
    }
    throw new TokenizerError(`${file}: cannot read it (${(e as Error).message}).`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TokenizerError(`${file}: not valid JSON (${(e as Error).message}).`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
