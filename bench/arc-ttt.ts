// One test-time training run of the few-shot ARC domain at the paper's oracle configuration (every tool,
// 2 epochs, answer-only loss, lr 1e-4; LoRA r=128, α=16 on q, v, gate, up, down; batch 2), for the
// Llama-3.2-1B shape with random weights, on this machine.
//
// The training set is built for a real evaluation task with Llama-3's tokenizer, which gives the number
// of sequences, their lengths and the optimiser steps. A full run is far too slow on a CPU, so one step
// is measured at batch 2 × `seq` tokens (default 256) and the run is estimated from it: time scales
// with the step's FLOPs (linear layers ∝ tokens, attention ∝ tokens²); memory adds, per layer, the
// attention probabilities backward keeps (B·H·T²·4 bytes) and activations ∝ tokens, measured.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { engine } from '../src/gpu/engine.ts';
import { loadTokenizer } from '../src/io/tokenizer.ts';
import { loadLlama } from '../src/model/load.ts';
import { causalLmLoss } from '../src/model/loss.ts';
import { loadArcTasks } from '../src/seal/arc/arc-data.ts';
import { ArcDomain } from '../src/seal/arc/domain.ts';
import { ORACLE_SELF_EDIT } from '../src/seal/arc/self-edit.ts';
import { buildTttSet } from '../src/seal/arc/ttt-data.ts';
import { planTtt } from '../src/seal/arc/ttt-plan.ts';
import { backward, tidy } from '../src/tensor/index.ts';
import { AdamW } from '../src/train/adamw.ts';
import { LoraAdapter } from '../src/train/lora.ts';
import { type BenchOptions, note, report, round } from './lib.ts';
import { LLAMA_1B, randomModelFolder } from './models.ts';

const ROOT = join(import.meta.dirname, '..');
const ARC = join(ROOT, '..', 'shared', 'data', 'arc');
const TOKENIZER = join(ROOT, 'node_modules', '@lenml', 'tokenizer-llama3', 'models');

export async function run(opts: BenchOptions): Promise<void> {
  const taskId = opts.args[0] ?? '59341089';
  const seq = Number(opts.args[1] ?? 256);
  const challenges = join(ARC, 'arc-agi_evaluation_challenges_filtered_1B_eval_set.json');
  if (!existsSync(challenges)) {
    note(opts, `arc-ttt: SKIPPED, ${challenges} is absent (../shared is not mounted)`);
    return;
  }
  const task = loadArcTasks(challenges).find((t) => t.id === taskId);
  if (!task) throw new Error(`arc-ttt: no task ${taskId} in ${challenges}`);
  const tokenizer = await loadTokenizer(TOKENIZER, { now: () => new Date('2024-07-26T12:00:00Z') });
  const domain = new ArcDomain(tokenizer);
  const set = buildTttSet(task.train, ORACLE_SELF_EDIT.tools, { countTokens: domain.countTokens, seed: 0 });
  const plan = planTtt(ORACLE_SELF_EDIT, set.examples.length);
  const lengths = set.examples.map((e) => e.tokens).sort((a, b) => a - b);
  const mean = lengths.reduce((a, b) => a + b, 0) / lengths.length;
  const max = lengths.at(-1)!;
  note(opts, `task ${taskId}: ${set.examples.length} TTT sequences (mean ${round(mean)}, max ${max} tokens), ${plan.totalSteps} optimiser steps`);

  const model = await loadLlama(await randomModelFolder('llama-3.2-1b', LLAMA_1B));
  const { pool, cmd } = engine();
  const weightBytes = [...model.weights.values()].reduce((n, t) => n + t.bytes, 0);
  const adapter = LoraAdapter.create(model, { r: plan.lora.rank, alpha: plan.lora.alpha, dropout: 0, targets: [...plan.lora.targetModules] }, 0);
  const optimizer = new AdamW(adapter.parameters(), { lr: plan.learningRate, maxGradNorm: 1 });
  const B = plan.batchSize;
  const ids = Array.from({ length: B }, (_, b) => Array.from({ length: seq }, (_, t) => (b * 977 + t * 7919 + 1) % LLAMA_1B.vocabSize));
  const step = async () => {
    tidy(() => backward(causalLmLoss(model.forward({ ids, train: true }), ids)));
    optimizer.update();
    optimizer.zeroGrad();
    await cmd.sync();
  };
  note(opts, `measuring one step at batch ${B} × ${seq} tokens (pipelines compile in a first step)…`);
  await step();
  pool.resetPeak();
  const live = pool.memory().liveBytes;
  const t0 = performance.now();
  await step();
  const measured = (performance.now() - t0) / 1000;
  const peak = pool.memory().peakAllocatedBytes;

  const { numLayers: L, numHeads: H, headDim: D, hiddenSize: C } = LLAMA_1B;
  const linearFlops = (T: number) => 4 * 2 * T * (1235.8e6 - LLAMA_1B.vocabSize * C); // forward + activation grads, per batch row
  const attentionFlops = (T: number) => 2 * 4 * L * T * T * H * D;
  const stepFlops = (T: number) => B * (linearFlops(T) + attentionFlops(T));
  const estimate = plan.totalSteps * measured * (stepFlops(mean) / stepFlops(seq));
  const perToken = (peak - live) / (B * seq);
  const probs = (T: number) => L * B * H * T * T * 4;
  const peakAt = (T: number) => live + perToken * B * T - probs(seq) * (T / seq) + probs(T);
  report(
    opts,
    {
      bench: 'arc-ttt',
      task: taskId,
      sequences: set.examples.length,
      mean_tokens: mean,
      max_tokens: max,
      steps: plan.totalSteps,
      measured_seq: seq,
      measured_step_s: measured,
      estimated_ttt_s: estimate,
      measured_peak_gpu_bytes: peak,
      estimated_peak_gpu_bytes_at_max: peakAt(max),
      weight_bytes: weightBytes,
    },
    `oracle TTT on ${taskId}: ${set.examples.length} sequences, ${plan.totalSteps} steps of batch ${B} | measured step at ${seq} tokens: ${round(measured)} s, ` +
      `peak GPU ${round(peak / 2 ** 30)} GiB | estimated at the mean length ${round(mean)}: ${round(estimate / 3600)} h for the whole TTT | ` +
      `estimated peak at the longest sequence (${max} tokens): ${round(peakAt(max) / 2 ** 30)} GiB (weights ${round(weightBytes / 2 ** 30)} GiB)`,
  );
  optimizer.dispose();
  adapter.dispose();
  model.dispose();
}
