// seal finetune: LoRA fine-tuning with AdamW on a JSONL dataset; writes a PEFT adapter folder.
import { join } from 'node:path';
import { PROJECTIONS } from '../model/llama.ts';
import { readExamples } from '../train/examples.ts';
import { LoraAdapter, checkTargets } from '../train/lora.ts';
import { SCHEDULES } from '../train/schedule.ts';
import { TrainingDivergedError, sft, stepPlan } from '../train/sft.ts';
import { Progress } from '../util/progress.ts';
import { SEED_RANGE, UsageError, defineCommand } from '../util/flags.ts';
import { loadModel, loraTargets } from './common.ts';

/** One AdamW beta: a number in [0, 1). */
function beta(text: string): number {
  const b = Number(text);
  if (!(b >= 0 && b < 1)) throw new Error(`each beta is a number in [0, 1), got "${text}"`);
  return b;
}

export const finetuneCommand = defineCommand({
  name: 'finetune',
  summary: 'Fine-tune a LoRA adapter with AdamW on a JSONL dataset and save it in PEFT format.',
  usage: 'seal finetune --model <dir> --data <file.jsonl> --out <adapter dir> [flags]',
  flags: [
    { name: 'model', type: 'string', required: true, help: 'Hugging Face model folder' },
    { name: 'data', type: 'string', required: true, help: 'JSONL: text, chat {"messages"}, prompt/completion, or pre-tokenised ids with labels' },
    { name: 'out', type: 'string', required: true, help: 'folder for the adapter (adapter_config.json + adapter_model.safetensors)' },
    { name: 'rank', type: 'int', min: 1, default: 16, help: 'LoRA rank r' },
    { name: 'alpha', type: 'number', above: 0, default: 32, help: 'LoRA alpha (scale alpha/r)' },
    { name: 'dropout', type: 'number', min: 0, below: 1, default: 0, help: 'LoRA dropout' },
    { name: 'targets', type: 'list', default: ['q_proj', 'v_proj'], help: `modules to adapt, from ${PROJECTIONS.join(',')}` },
    { name: 'init-adapter', type: 'string', help: 'start from this PEFT adapter instead of a fresh one' },
    { name: 'lr', type: 'number', above: 0, default: 1e-4, help: 'peak learning rate' },
    { name: 'epochs', type: 'number', above: 0, default: 1, help: 'passes over the data' },
    { name: 'steps', type: 'int', min: 1, help: 'optimiser steps (overrides --epochs)' },
    { name: 'batch-size', type: 'int', min: 1, default: 1, help: 'examples per micro-batch' },
    { name: 'grad-accum', type: 'int', min: 1, default: 1, help: 'micro-batches per optimiser step' },
    { name: 'schedule', type: 'string', default: 'linear', choices: SCHEDULES, help: 'learning-rate schedule' },
    { name: 'warmup', type: 'int', min: 0, default: 0, help: 'warmup steps' },
    {
      name: 'loss',
      type: 'string',
      default: 'all',
      choices: ['all', 'completion'],
      help: 'train on every token, or only on completions / assistant turns (pre-tokenised −100s are always kept)',
    },
    { name: 'betas', type: 'list', item: beta, default: ['0.9', '0.999'], help: 'AdamW betas b1,b2' },
    { name: 'eps', type: 'number', above: 0, default: 1e-8, help: 'AdamW epsilon' },
    { name: 'weight-decay', type: 'number', min: 0, default: 0, help: 'AdamW decoupled weight decay' },
    { name: 'max-grad-norm', type: 'number', min: 0, default: 1, help: 'clip the global gradient norm (0: off)' },
    { name: 'seed', type: 'int', ...SEED_RANGE, default: 0, help: 'seed of the adapter initialisation, shuffling and dropout' },
    { name: 'save-every', type: 'int', min: 0, default: 0, help: 'also write step-N/ adapters every N steps (0: off)' },
    {
      name: 'recompute',
      type: 'boolean',
      default: false,
      help: 'activation recomputation: keep only layer inputs, recompute layers in backward (less memory, ~1/3 more time)',
    },
  ],
  check(f) {
    if (f.betas.length !== 2) throw new UsageError(`seal finetune: --betas takes two numbers in [0, 1), got ${f.betas.join(',')}`);
    loraTargets(f.targets, 'seal finetune: --targets');
  },
  async run(f) {
    const targets = checkTargets(f.targets);
    const loaded = await loadModel(f.model);
    const { model, tokenizer } = loaded;
    const adapter = f.initAdapter
      ? await LoraAdapter.load(model, f.initAdapter)
      : LoraAdapter.create(model, { r: f.rank, alpha: f.alpha, dropout: f.dropout, targets }, f.seed);
    const examples = await readExamples(f.data, tokenizer, { loss: f.loss, appendEos: true, vocabSize: model.config.vocabSize });
    const pad = tokenizer?.padId ?? model.config.eosTokenIds[0] ?? 0;
    const options = {
      lr: f.lr,
      epochs: f.epochs,
      steps: f.steps,
      batchSize: f.batchSize,
      gradAccum: f.gradAccum,
      schedule: f.schedule,
      warmupSteps: f.warmup,
      betas: [f.betas[0], f.betas[1]] as [number, number],
      eps: f.eps,
      weightDecay: f.weightDecay,
      maxGradNorm: f.maxGradNorm,
      seed: f.seed,
      pad,
      recompute: f.recompute,
    };
    const progress = new Progress({
      label: 'finetune',
      total: stepPlan(
        examples.map((e) => e.ids.length),
        options,
      ).length,
    });
    try {
      await sft(model, adapter.parameters(), examples, {
        ...options,
        onStep: async (r) => {
          progress.update(r.step, { loss: r.loss.toFixed(4), lr: r.lr.toExponential(2), 'tok/s': Math.round(r.tokens / r.seconds) });
          if (f.saveEvery > 0 && r.step % f.saveEvery === 0) await adapter.save(join(f.out, `step-${r.step}`), f.model);
        },
      });
      progress.done();
      await adapter.save(f.out, f.model);
      console.error(`adapter written to ${f.out}`);
    } catch (e) {
      progress.done();
      if (e instanceof TrainingDivergedError) {
        await adapter.save(f.out, f.model);
        throw new Error(`${e.message}. The last good adapter is in ${f.out}; try a lower --lr or --max-grad-norm.`);
      }
      throw e;
    } finally {
      adapter.dispose();
      model.dispose();
    }
  },
});
