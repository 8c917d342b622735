// seal score: the mean masked cross-entropy of a dataset, and its perplexity.
import { causalLmLoss, scoredTargets } from '../model/loss.ts';
import { noGrad, tidy } from '../tensor/index.ts';
import { collate, readExamples } from '../train/examples.ts';
import { defineCommand } from '../util/flags.ts';
import { loadModel } from './common.ts';

export const scoreCommand = defineCommand({
  name: 'score',
  summary:
    "Mean cross-entropy over every scored token of a JSONL dataset (what Hugging Face's loss gives for one batch holding all of it), and the perplexity.",
  usage: 'seal score --model <dir> --data <file.jsonl> [flags]',
  flags: [
    { name: 'model', type: 'string', required: true, help: 'Hugging Face model folder' },
    {
      name: 'data',
      type: 'string',
      required: true,
      help: 'JSONL: {"text"}, {"messages"}, {"prompt","completion"} or {"input_ids","labels","attention_mask"} per line',
    },
    { name: 'adapter', type: 'string', help: 'a PEFT LoRA adapter folder to apply' },
    { name: 'loss', type: 'string', default: 'all', choices: ['all', 'completion'], help: 'score every token, or only completions / assistant turns' },
    { name: 'batch-size', type: 'int', min: 1, default: 8, help: 'examples per forward pass' },
    { name: 'json', type: 'boolean', default: false, help: 'print {loss, perplexity, tokens, examples} as JSON' },
  ],
  async run(f) {
    const loaded = await loadModel(f.model, f.adapter);
    const examples = await readExamples(f.data, loaded.tokenizer, { loss: f.loss, appendEos: false, vocabSize: loaded.model.config.vocabSize });
    const pad = loaded.tokenizer?.padId ?? loaded.model.config.eosTokenIds[0] ?? 0;
    let total = 0;
    let tokens = 0;
    for (let i = 0; i < examples.length; i += f.batchSize) {
      const batch = collate(examples.slice(i, i + f.batchSize), pad);
      const n = scoredTargets(batch.labels);
      if (n === 0) continue;
      const loss = noGrad(() => tidy(() => causalLmLoss(loaded.model.forward({ ids: batch.ids, attentionMask: batch.attentionMask }), batch.labels)));
      total += (await loss.item()) * n;
      tokens += n;
      loss.dispose();
    }
    if (tokens === 0) throw new Error(`${f.data}: no token is scored (every label is −100)`);
    const mean = total / tokens;
    const result = { loss: mean, perplexity: Math.exp(mean), tokens, examples: examples.length };
    if (f.json) console.log(JSON.stringify(result));
    else console.log(`loss ${mean.toFixed(6)}  perplexity ${result.perplexity.toFixed(4)}  (${tokens} scored tokens, ${examples.length} examples)`);
    loaded.adapter?.dispose();
    loaded.model.dispose();
  },
});
