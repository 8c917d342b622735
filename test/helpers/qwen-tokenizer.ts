// Qwen2.5-Instruct-style tokenizer files for tests: Qwen's ChatML chat template verbatim, its
// tokenizer_config.json, and a tokenizer.json shaped like Qwen2's (byte-level BPE, NFC, a ByteLevel
// post-processor that adds no special token) over a byte vocabulary with Qwen's three special tokens.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// The chat_template of Qwen/Qwen2.5-7B-Instruct's tokenizer_config.json (data, verbatim).
export const QWEN_25_CHAT_TEMPLATE = [
  '{%- if tools %}',
  "    {{- '<|im_start|>system\\n' }}",
  "    {%- if messages[0]['role'] == 'system' %}",
  "        {{- messages[0]['content'] }}",
  '    {%- else %}',
  "        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}",
  '    {%- endif %}',
  '    {{- "\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\nYou are provided with function signatures within <tools></tools> XML tags:\\n<tools>" }}',
  '    {%- for tool in tools %}',
  '        {{- "\\n" }}',
  '        {{- tool | tojson }}',
  '    {%- endfor %}',
  '    {{- "\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\"name\\": <function-name>, \\"arguments\\": <args-json-object>}\\n</tool_call><|im_end|>\\n" }}',
  '{%- else %}',
  "    {%- if messages[0]['role'] == 'system' %}",
  "        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}",
  '    {%- else %}',
  "        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}",
  '    {%- endif %}',
  '{%- endif %}',
  '{%- for message in messages %}',
  '    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}',
  "        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}",
  '    {%- elif message.role == "assistant" %}',
  "        {{- '<|im_start|>' + message.role }}",
  '        {%- if message.content %}',
  "            {{- '\\n' + message.content }}",
  '        {%- endif %}',
  '        {%- for tool_call in message.tool_calls %}',
  '            {%- if tool_call.function is defined %}',
  '                {%- set tool_call = tool_call.function %}',
  '            {%- endif %}',
  '            {{- \'\\n<tool_call>\\n{"name": "\' }}',
  '            {{- tool_call.name }}',
  '            {{- \'", "arguments": \' }}',
  '            {{- tool_call.arguments | tojson }}',
  "            {{- '}\\n</tool_call>' }}",
  '        {%- endfor %}',
  "        {{- '<|im_end|>\\n' }}",
  '    {%- elif message.role == "tool" %}',
  '        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}',
  "            {{- '<|im_start|>user' }}",
  '        {%- endif %}',
  "        {{- '\\n<tool_response>\\n' }}",
  '        {{- message.content }}',
  "        {{- '\\n</tool_response>' }}",
  '        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}',
  "            {{- '<|im_end|>\\n' }}",
  '        {%- endif %}',
  '    {%- endif %}',
  '{%- endfor %}',
  '{%- if add_generation_prompt %}',
  "    {{- '<|im_start|>assistant\\n' }}",
  '{%- endif %}',
  '',
].join('\n');

/** GPT-2's bytes_to_unicode, as byte-level BPE vocabularies spell bytes. */
function byteToUnicode(): string[] {
  const keep = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let extra = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCharCode(keep(b) ? b : 256 + extra++));
}

// Qwen2's special tokens keep their order after a byte vocabulary (ids 256, 257, 258 here; 151643–151645
// in the real file).
export const ENDOFTEXT = 256;
export const IM_START = 257;
export const IM_END = 258;

/** A Qwen2-style tokenizer.json: byte-level BPE (no merges), NFC, ByteLevel post-processor adding nothing. */
export function qwenTokenizerJson(): object {
  const vocab: Record<string, number> = {};
  byteToUnicode().forEach((ch, b) => (vocab[ch] = b));
  const special = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'].map((content, i) => ({
    id: 256 + i,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: special,
    normalizer: { type: 'NFC' },
    pre_tokenizer: byteLevel,
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: [],
    },
  };
}

/** Writes tokenizer.json and Qwen2.5-7B(-Instruct)'s tokenizer_config.json (less added_tokens_decoder) into `dir`. */
export function writeQwenTokenizer(dir: string, eos: '<|im_end|>' | '<|endoftext|>' = '<|im_end|>'): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(qwenTokenizerJson()));
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify({
      add_bos_token: false,
      add_prefix_space: false,
      additional_special_tokens: ['<|im_start|>', '<|im_end|>'],
      bos_token: null,
      chat_template: QWEN_25_CHAT_TEMPLATE,
      clean_up_tokenization_spaces: false,
      eos_token: eos,
      errors: 'replace',
      model_max_length: 131072,
      pad_token: '<|endoftext|>',
      split_special_tokens: false,
      tokenizer_class: 'Qwen2Tokenizer',
      unk_token: null,
    }),
  );
}
