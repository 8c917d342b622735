// seal generate: sample a continuation, streaming tokens as they come.
import { generate } from '../model/generate.ts';
import { SEED_RANGE, UsageError, defineCommand } from '../util/flags.ts';
import { loadModel, needTokenizer, parseIds, stopIds } from './common.ts';

export const generateCommand = defineCommand({
  name: 'generate',
  summary: 'Generate text from a prompt (greedy by default), streaming tokens as they come.',
  usage: 'seal generate --model <dir> (--prompt "…" | --ids 1,2,3) [flags]',
  flags: [
    { name: 'model', type: 'string', required: true, help: 'Hugging Face model folder (config.json, *.safetensors, tokenizer.json)' },
    { name: 'prompt', type: 'string', help: 'the prompt text' },
    { name: 'ids', type: 'string', help: 'the prompt as comma-separated token ids (instead of --prompt)' },
    { name: 'chat', type: 'boolean', default: false, help: "wrap the prompt as a user message in the model's chat template" },
    { name: 'system', type: 'string', help: 'a system message (with --chat)' },
    { name: 'adapter', type: 'string', help: 'a PEFT LoRA adapter folder to apply' },
    { name: 'max-new-tokens', type: 'int', min: 1, default: 128, help: 'tokens to generate at most' },
    { name: 'temperature', type: 'number', min: 0, default: 0, help: '0 is greedy' },
    { name: 'top-p', type: 'number', above: 0, max: 1, default: 1, help: 'nucleus sampling mass' },
    { name: 'seed', type: 'int', ...SEED_RANGE, default: 0, help: 'seed of the sampler' },
    { name: 'json', type: 'boolean', default: false, help: 'print {prompt_ids, ids, text, stopped} as one JSON object instead of streaming' },
  ],
  check(f) {
    if ((f.prompt === undefined) === (f.ids === undefined)) throw new UsageError('seal generate: give exactly one of --prompt and --ids');
    if (f.ids !== undefined) parseIds(f.ids, '--ids');
    if (f.system !== undefined && !f.chat) throw new UsageError('seal generate: --system needs --chat (a system message goes into the chat template)');
  },
  async run(f) {
    const loaded = await loadModel(f.model, f.adapter);
    let prompt: number[];
    if (f.ids !== undefined) prompt = parseIds(f.ids, '--ids');
    else if (f.prompt !== undefined) {
      const tok = needTokenizer(loaded, '--prompt', f.model);
      if (f.chat) {
        const messages = [...(f.system ? [{ role: 'system', content: f.system }] : []), { role: 'user', content: f.prompt }];
        prompt = tok.encodeChat(messages, { addGenerationPrompt: true });
      } else prompt = tok.encode(f.prompt);
    } else throw new UsageError('seal generate: give exactly one of --prompt and --ids'); // checked at the door
    const decode = (ids: number[]) => loaded.tokenizer?.decode(ids, { skipSpecial: true }) ?? ids.join(' ');
    const out: number[] = [];
    let printed = '';
    const result = await generate(loaded.model, [prompt], {
      maxNewTokens: f.maxNewTokens,
      temperature: f.temperature,
      topP: f.topP,
      seed: f.seed,
      stopIds: stopIds(loaded),
      onToken: f.json
        ? undefined
        : (_, id) => {
            out.push(id);
            // Decode the whole tail each time: a character may span several tokens.
            const text = decode(out);
            if (text.startsWith(printed) && !text.endsWith('\uFFFD')) {
              process.stdout.write(loaded.tokenizer ? text.slice(printed.length) : `${printed ? ' ' : ''}${id}`);
              printed = text;
            }
          },
    });
    const ids = result.tokens[0];
    if (f.json) console.log(JSON.stringify({ prompt_ids: prompt, ids, text: decode(ids), stopped: result.stopped[0] }));
    else {
      const text = decode(ids);
      if (loaded.tokenizer && text.length > printed.length) process.stdout.write(text.slice(printed.length));
      process.stdout.write('\n');
    }
    loaded.adapter?.dispose();
    loaded.model.dispose();
  },
});
