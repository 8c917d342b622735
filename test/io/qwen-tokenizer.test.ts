// A Qwen2.5-Instruct tokenizer folder: no BOS token (tokenizer_config.json's bos_token is null and the
// tokenizer.json post-processor adds nothing), <|im_end|> as eos_token, and Qwen's ChatML chat template
// from tokenizer_config.json, rendered through @huggingface/jinja as transformers' apply_chat_template
// renders it with jinja2.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Tokenizer, loadTokenizer } from '../../src/io/tokenizer.ts';
import { toExample } from '../../src/train/examples.ts';
import { IGNORE_INDEX } from '../../src/tensor/index.ts';

// The chat_template of Qwen/Qwen2.5-7B-Instruct's tokenizer_config.json (data, verbatim).
const QWEN_25_CHAT_TEMPLATE = [
  "{%- if tools %}",
  "    {{- '<|im_start|>system\\n' }}",
  "    {%- if messages[0]['role'] == 'system' %}",
  "        {{- messages[0]['content'] }}",
  "    {%- else %}",
  "        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}",
  "    {%- endif %}",
  "    {{- \"\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\nYou are provided with function signatures within <tools></tools> XML tags:\\n<tools>\" }}",
  "    {%- for tool in tools %}",
  "        {{- \"\\n\" }}",
  "        {{- tool | tojson }}",
  "    {%- endfor %}",
  "    {{- \"\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\\"name\\\": <function-name>, \\\"arguments\\\": <args-json-object>}\\n</tool_call><|im_end|>\\n\" }}",
  "{%- else %}",
  "    {%- if messages[0]['role'] == 'system' %}",
  "        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}",
  "    {%- else %}",
  "        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}",
  "    {%- endif %}",
  "{%- endif %}",
  "{%- for message in messages %}",
  "    {%- if (message.role == \"user\") or (message.role == \"system\" and not loop.first) or (message.role == \"assistant\" and not message.tool_calls) %}",
  "        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}",
  "    {%- elif message.role == \"assistant\" %}",
  "        {{- '<|im_start|>' + message.role }}",
  "        {%- if message.content %}",
  "            {{- '\\n' + message.content }}",
  "        {%- endif %}",
  "        {%- for tool_call in message.tool_calls %}",
  "            {%- if tool_call.function is defined %}",
  "                {%- set tool_call = tool_call.function %}",
  "            {%- endif %}",
  "            {{- '\\n<tool_call>\\n{\"name\": \"' }}",
  "            {{- tool_call.name }}",
  "            {{- '\", \"arguments\": ' }}",
  "            {{- tool_call.arguments | tojson }}",
  "            {{- '}\\n</tool_call>' }}",
  "        {%- endfor %}",
  "        {{- '<|im_end|>\\n' }}",
  "    {%- elif message.role == \"tool\" %}",
  "        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != \"tool\") %}",
  "            {{- '<|im_start|>user' }}",
  "        {%- endif %}",
  "        {{- '\\n<tool_response>\\n' }}",
  "        {{- message.content }}",
  "        {{- '\\n</tool_response>' }}",
  "        {%- if loop.last or (messages[loop.index0 + 1].role != \"tool\") %}",
  "            {{- '<|im_end|>\\n' }}",
  "        {%- endif %}",
  "    {%- endif %}",
  "{%- endfor %}",
  "{%- if add_generation_prompt %}",
  "    {{- '<|im_start|>assistant\\n' }}",
  "{%- endif %}",
  "",
].join('\n');

/** GPT-2's bytes_to_unicode, as byte-level BPE vocabularies spell bytes. */
function byteToUnicode(): string[] {
  const keep = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let extra = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCharCode(keep(b) ? b : 256 + extra++));
}

// Qwen2's special tokens keep their order after a byte vocabulary (ids 256, 257, 258 here; 151643–151645
// in the real file).
const ENDOFTEXT = 256;
const IM_START = 257;
const IM_END = 258;

/** A Qwen2-style tokenizer.json: byte-level BPE (no merges), NFC, ByteLevel post-processor adding nothing. */
function qwenTokenizerJson(): object {
  const vocab: Record<string, number> = {};
  byteToUnicode().forEach((ch, b) => (vocab[ch] = b));
  const special = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'].map((content, i) => ({
    id: 256 + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  }));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
  return {
    version: '1.0', truncation: null, padding: null, added_tokens: special,
    normalizer: { type: 'NFC' }, pre_tokenizer: byteLevel, post_processor: byteLevel, decoder: byteLevel,
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: [] },
  };
}

/** Qwen2.5-7B(-Instruct)'s tokenizer_config.json, less added_tokens_decoder (the ids differ here). */
async function qwenFolder(eos: string): Promise<Tokenizer> {
  const dir = mkdtempSync(join(tmpdir(), 'qwen-tokenizer-'));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(qwenTokenizerJson()));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({
    add_bos_token: false, add_prefix_space: false, additional_special_tokens: ['<|im_start|>', '<|im_end|>'], bos_token: null,
    chat_template: QWEN_25_CHAT_TEMPLATE, clean_up_tokenization_spaces: false, eos_token: eos, errors: 'replace',
    model_max_length: 131072, pad_token: '<|endoftext|>', split_special_tokens: false, tokenizer_class: 'Qwen2Tokenizer', unk_token: null,
  }));
  return loadTokenizer(dir);
}

let qwen: Tokenizer;
let qwenBase: Tokenizer;
beforeAll(async () => {
  qwen = await qwenFolder('<|im_end|>'); // the instruct model's
  qwenBase = await qwenFolder('<|endoftext|>'); // the base model's (same template)
});

describe("Qwen2.5's tokenizer files", () => {
  it('have no BOS: encode adds none, and eos / pad come from tokenizer_config.json', () => {
    expect(qwen.bosId).toBeNull();
    expect(qwen.eosIds).toEqual([IM_END]);
    expect(qwen.padId).toBe(ENDOFTEXT);
    const ids = qwen.encode('Hi there');
    expect(ids).toEqual([...'Hi there'].map((ch) => ch.charCodeAt(0)));
    expect(qwen.decode(ids)).toBe('Hi there');
    expect(() => qwen.encode('x', { addBos: true })).toThrow(/no bos_token/);
  });

  // Expected texts: transformers' rendering, i.e. jinja2 3.1.6's ImmutableSandboxedEnvironment with
  // trim_blocks and lstrip_blocks and HF's tojson (json.dumps), on the same template and messages, run once
  // and pasted here.
  it('render the ChatML template exactly as transformers does', () => {
    expect(qwen.applyChatTemplate([{ role: 'user', content: 'Hi' }], { addGenerationPrompt: true })).toBe(
      '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(
      qwen.applyChatTemplate(
        [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'What is 2+2?' },
          { role: 'assistant', content: '4' },
          { role: 'user', content: 'And 3+3?' },
        ],
        { addGenerationPrompt: true },
      ),
    ).toBe('<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n<|im_start|>user\nAnd 3+3?<|im_end|>\n<|im_start|>assistant\n');
    expect(qwen.applyChatTemplate([{ role: 'user', content: 'Tell me a fact.' }, { role: 'assistant', content: 'Seals sleep underwater.' }])).toBe(
      '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nTell me a fact.<|im_end|>\n<|im_start|>assistant\nSeals sleep underwater.<|im_end|>\n',
    );
    const tools = [{ type: 'function', function: { name: 'get_time', description: 'The current time', parameters: { type: 'object', properties: { zone: { type: 'string' } } } } }];
    expect(qwen.applyChatTemplate([{ role: 'user', content: 'Time?' }], { addGenerationPrompt: true, tools })).toBe(
      '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>\n{"type": "function", "function": {"name": "get_time", "description": "The current time", "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}}}}\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n<|im_start|>user\nTime?<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  it('tokenise the chat with <|im_start|> / <|im_end|> as single ids, and train on assistant turns through <|im_end|>', () => {
    const messages = [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }];
    const ids = qwen.encodeChat(messages);
    expect(ids.filter((id) => id === IM_START).length).toBe(3);
    expect(ids.filter((id) => id === IM_END).length).toBe(3);
    expect(ids[0]).toBe(IM_START); // no BOS in front
    // The base model's eos_token is <|endoftext|>, but its turns end with <|im_end|> all the same.
    for (const tok of [qwen, qwenBase]) {
      const example = toExample({ messages }, tok, { loss: 'completion', appendEos: false });
      const trained = example.ids.filter((_, t) => example.labels[t] !== IGNORE_INDEX);
      expect(tok.decode(trained)).toBe('Hello<|im_end|>');
    }
  });
});
