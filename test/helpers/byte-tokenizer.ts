// A byte-level tokenizer.json for models without one (the llama-tiny fixture has ids 0–511 and no
// tokenizer): ids 0, 1, 2 are <pad>, <s> (BOS), </s> (EOS), 3 + b is byte b, so any text round-trips, and
// the ids above up to the model's vocabulary are unused special tokens (decoded to nothing).
// Written as Hugging Face's tokenizers library writes a ByteLevel BPE with no merges.
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to U+0100 onwards. */
function byteToUnicode(): string[] {
  const keep = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const out: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCharCode(keep(b) ? b : 256 + extra++));
  return out;
}

export function byteTokenizerJson(vocabSize = 512): object {
  const names = ['<pad>', '<s>', '</s>'];
  const unused = Array.from({ length: vocabSize - 259 }, (_, i) => ({ id: 259 + i, content: `<unused_${i}>` }));
  const special = [...names.map((content, id) => ({ id, content })), ...unused].map(({ id, content }) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const vocab: Record<string, number> = { '<pad>': 0, '<s>': 1, '</s>': 2 };
  byteToUnicode().forEach((ch, b) => (vocab[ch] = 3 + b));
  for (const { id, content } of unused) vocab[content] = id;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: special,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: [],
    },
  };
}

/** A folder holding the model files of `modelDir` (linked) and the byte tokenizer. */
export function withByteTokenizer(modelDir: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'byte-tok-'));
  for (const f of ['config.json', 'model.safetensors']) symlinkSync(join(modelDir, f), join(dir, f));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(byteTokenizerJson()));
  // A minimal chat template: each turn is "<role>\n" + content + EOS, like Llama-3's turns without its special tokens.
  const chatTemplate =
    "{{ bos_token }}{% for m in messages %}{{ '<' + m['role'] + '>\n' + m['content'] + eos_token }}{% endfor %}" +
    "{% if add_generation_prompt %}{{ '<assistant>\n' }}{% endif %}";
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ bos_token: '<s>', eos_token: '</s>', pad_token: '<pad>', chat_template: chatTemplate }));
  return dir;
}
