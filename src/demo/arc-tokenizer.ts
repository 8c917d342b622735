// The tiny ARC model's tokenizer, written as an ordinary Hugging Face tokenizer.json (added tokens, a Split
// pre-tokenizer, a WordLevel model, a Fuse decoder) plus tokenizer_config.json with a chat template, so
// the folder loads like any other and every text goes through the real `seal arc` code.
//
// Why these pieces: a tiny model must copy cells from an input grid to an output grid, so one cell is one
// token. SEAL's grid text (numpy's `[[1 2 3]\n [4 5 6]]`) and its policy prompt's digit rows (`1 2 3\n`)
// give every cell but a row's last a trailing space: a cell is the digit with its space (`3 `) or alone
// (`3`), longest match first. Row punctuation (`[[`, `]\n [`, `]]`), the example separator ` -> ` and the
// answer end `#` are pieces too. The texts that never change (the two system prompts, the tool menu, the
// demonstration labels) are added tokens, one id each, so the prompts stay short. The policy's JSON
// self-edit (formatSelfEdit's layout) has its keys, enum strings and booleans as pieces; numbers and
// anything else fall back to single printable characters. Decoding concatenates (Fuse): decode(encode(x))
// is x for any printable ASCII text.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FEW_SHOT_SYSTEM_PROMPT } from '../seal/arc/messages.ts';
import { DEMONSTRATIONS_END, POLICY_SYSTEM_MESSAGE, SELF_EDIT_TOOL_PROMPT } from '../seal/arc/policy-prompt.ts';
import { addedToken } from './word-tokenizer.ts';

export const ARC_SPECIAL = { pad: '<pad>', bos: '<bos>', eos: '<eot>', unk: '<unk>' } as const;
const ROLES = ['<system>', '<user>', '<assistant>'] as const;

/** Control tokens: ids 0 to 6. */
const CONTROL = [ARC_SPECIAL.pad, ARC_SPECIAL.bos, ARC_SPECIAL.eos, ARC_SPECIAL.unk, ...ROLES];

/** Fixed texts of the prompts, one token each (matched before any other splitting). */
export const ARC_FIXED_TEXTS: readonly string[] = [
  FEW_SHOT_SYSTEM_PROMPT,
  POLICY_SYSTEM_MESSAGE,
  DEMONSTRATIONS_END + SELF_EDIT_TOOL_PROMPT,
  'Input:\n',
  'Output:\n',
];

const CELLS = Array.from({ length: 10 }, (_, d) => [`${d} `, `${d}`]).flat();
const GRID_PIECES = ['[[', ']\n [', ']]', ' -> ', '#'];
/** formatSelfEdit's JSON, indented by JSON.stringify(…, null, 2). */
const JSON_PIECES = [
  '{\n  "data_generation": {\n',
  '    "use_basic_augmentations": ',
  ',\n    "use_size_augmentations": ',
  ',\n    "use_chain_augmentations": ',
  ',\n    "use_repeat_augmentations": ',
  '\n  },\n  "training": {\n    "strategy": ',
  '"train_using_all_tokens"',
  '"train_using_output_tokens"',
  ',\n    "learning_rate": ',
  ',\n    "num_train_epochs": ',
  '\n  }\n}',
  'true',
  'false',
];
const PRINTABLE = ['\n', ...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i))];

/** The vocabulary in id order: control tokens, fixed texts, pieces, then single characters not yet in. */
export function arcVocabulary(): string[] {
  const vocab = [...CONTROL, ...ARC_FIXED_TEXTS, ...CELLS, ...GRID_PIECES, ...JSON_PIECES];
  for (const c of PRINTABLE) if (!vocab.includes(c)) vocab.push(c);
  return vocab;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The pre-tokenizer's pattern: every multi-character piece, longest first, else one character. */
export function arcSplitPattern(): string {
  const pieces = [...CELLS, ...GRID_PIECES, ...JSON_PIECES].filter((p) => p.length > 1).sort((a, b) => b.length - a.length);
  return `${pieces.map(escapeRegex).join('|')}|[\\s\\S]`;
}

/** tokenizer.json (the `tokenizers` library's serialisation). */
export function arcTokenizerJson(): Record<string, unknown> {
  const vocab = arcVocabulary();
  const vocabObject: Record<string, number> = {};
  vocab.forEach((piece, id) => (vocabObject[piece] = id));
  // The fixed texts are text the model reads and decode keeps; the control tokens are markup.
  const added = [...CONTROL, ...ARC_FIXED_TEXTS].map((content, id) => addedToken(id, content, id < CONTROL.length));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'Split', pattern: { Regex: arcSplitPattern() }, behavior: 'Isolated', invert: false },
    post_processor: null,
    decoder: { type: 'Fuse' },
    model: { type: 'WordLevel', vocab: vocabObject, unk_token: ARC_SPECIAL.unk },
  };
}

/** Each turn `<role>content<eot>` after one <bos>; the generation prompt is `<assistant>`. */
export const ARC_CHAT_TEMPLATE =
  "{{ bos_token }}{% for m in messages %}{{ '<' + m['role'] + '>' + m['content'] + eos_token }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<assistant>' }}{% endif %}";

export function arcTokenizerConfig(maxLength: number): Record<string, unknown> {
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: ARC_SPECIAL.bos,
    eos_token: ARC_SPECIAL.eos,
    pad_token: ARC_SPECIAL.pad,
    unk_token: ARC_SPECIAL.unk,
    add_bos_token: false,
    clean_up_tokenization_spaces: false,
    model_max_length: maxLength,
    chat_template: ARC_CHAT_TEMPLATE,
  };
}

/** Writes tokenizer.json and tokenizer_config.json into `dir` (created if needed). */
export async function writeArcTokenizerFiles(dir: string, maxLength: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'tokenizer.json'), `${JSON.stringify(arcTokenizerJson(), null, 2)}\n`);
  await writeFile(join(dir, 'tokenizer_config.json'), `${JSON.stringify(arcTokenizerConfig(maxLength), null, 2)}\n`);
}
