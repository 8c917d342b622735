// A Qwen2.5-Instruct tokenizer folder: no BOS token (tokenizer_config.json's bos_token is null and the
// tokenizer.json post-processor adds nothing), <|im_end|> as eos_token, and Qwen's ChatML chat template
// from tokenizer_config.json, rendered through @huggingface/jinja as transformers' apply_chat_template
// renders it with jinja2.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Tokenizer, loadTokenizer } from '../../src/io/tokenizer.ts';
import { toExample } from '../../src/train/examples.ts';
import { IGNORE_INDEX } from '../../src/tensor/index.ts';
import { ENDOFTEXT, IM_END, IM_START, writeQwenTokenizer } from '../helpers/qwen-tokenizer.ts';

async function qwenFolder(eos: '<|im_end|>' | '<|endoftext|>'): Promise<Tokenizer> {
  const dir = mkdtempSync(join(tmpdir(), 'qwen-tokenizer-'));
  writeQwenTokenizer(dir, eos);
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
    ).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n<|im_start|>user\nAnd 3+3?<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(
      qwen.applyChatTemplate([
        { role: 'user', content: 'Tell me a fact.' },
        { role: 'assistant', content: 'Seals sleep underwater.' },
      ]),
    ).toBe(
      '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nTell me a fact.<|im_end|>\n<|im_start|>assistant\nSeals sleep underwater.<|im_end|>\n',
    );
    const tools = [
      {
        type: 'function',
        function: { name: 'get_time', description: 'The current time', parameters: { type: 'object', properties: { zone: { type: 'string' } } } },
      },
    ];
    expect(qwen.applyChatTemplate([{ role: 'user', content: 'Time?' }], { addGenerationPrompt: true, tools })).toBe(
      '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>\n{"type": "function", "function": {"name": "get_time", "description": "The current time", "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}}}}\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n<|im_start|>user\nTime?<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  it('tokenise the chat with <|im_start|> / <|im_end|> as single ids, and train on assistant turns through <|im_end|>', () => {
    const messages = [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello' },
    ];
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
