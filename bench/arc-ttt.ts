// One test-time training step of the few-shot ARC domain at the paper's oracle configuration (every tool,
// 2 epochs, answer-only loss, lr 1e-4; LoRA r=128, α=16 on q, v, gate, up, down), for the Llama-3.2-1B
// shape with random weights, measured on this machine: its time and its peak GPU bytes.
//
// The training set is built for a real evaluation task with Llama-3's tokenizer, which gives the number
// of sequences, their lengths and the optimiser steps. One step is measured at `batch` × `tokens` (default
// 1 × the task's longest sequence) the way TTT trains (Llama.loss: the LM head and loss in row chunks;
// fused attention; activation recomputation, which the ARC domain turns on), then the whole TTT's time is
// estimated from it: time scales with the step's FLOPs (linear layers ∝ tokens, attention ∝ tokens²).
//
//   npm run bench -- arc-ttt [task] [tokens] [batch=1] [layers=16] [no-recompute]
//
// `layers` < 16 builds the 1B shape with fewer layers (a smaller, faster measurement): its peak is then
// reported for that many layers only.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { engine } from '../src/gpu/engine.ts';
import { loadTokenizer } from '../src/io/tokenizer.ts';
import { loadLlama } from '../src/model/load.ts';
import { loadArcTasks } from '../src/seal/arc/arc-data.ts';
import { ArcDomain } from '../src/seal/arc/domain.ts';
import { ORACLE_SELF_EDIT } from '../src/seal/arc/self-edit.ts';
import { buildTttSet } from '../src/seal/arc/ttt-data.ts';
import { planTtt } from '../src/seal/arc/ttt-plan.ts';
import { backward, tidy } from '../src/tensor/index.ts';
import { AdamW } from '../src/train/adamw.ts';
import { LoraAdapter } from '../src/train/lora.ts';
import { type BenchOptions, note, report, round } from './lib.ts';
import { LLAMA_1B, parameterCount, randomModelFolder } from './models.ts';

const ROOT = join(import.meta.dirname, '..');
const ARC = join(ROOT, '..', 'shared', 'data', 'arc');
const TOKENIZER = join(ROOT, 'node_modules', '@lenml', 'tokenizer-llama3', 'models');

export async function run(opts: BenchOptions): Promise<void> {
  const words = opts.args.filter((a) => a !== 'no-recompute');
  const recompute = !opts.args.includes('no-recompute');
  const taskId = words[0] ?? '59341089';
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
  const longest = lengths.at(-1)!;
  const seq = Number(words[1] ?? longest);
  const B = Number(words[2] ?? 1);
  const layers = Number(words[3] ?? LLAMA_1B.numLayers);
  note(
    opts,
    `task ${taskId}: ${set.examples.length} TTT sequences (mean ${round(mean)}, longest ${longest} tokens), ${plan.totalSteps} optimiser steps of batch ${plan.batchSize}`,
  );

  const config = { ...LLAMA_1B, numLayers: layers };
  const folder = layers === LLAMA_1B.numLayers ? 'llama-3.2-1b' : `llama-3.2-1b-${layers}-layers`;
  const { pool, cmd } = engine();
  pool.trim();
  pool.resetPeak();
  const model = await loadLlama(await randomModelFolder(folder, config));
  const weightBytes = [...model.weights.values()].reduce((n, t) => n + t.bytes, 0);
  const adapter = LoraAdapter.create(model, { r: plan.lora.rank, alpha: plan.lora.alpha, dropout: 0, targets: [...plan.lora.targetModules] }, 0);
  const optimizer = new AdamW(adapter.parameters(), { lr: plan.learningRate, maxGradNorm: 1 });
  const loraBytes = adapter.parameters().reduce((n, t) => n + t.bytes, 0);
  const ids = Array.from({ length: B }, (_, b) => Array.from({ length: seq }, (_, t) => (b * 977 + t * 7919 + 1) % LLAMA_1B.vocabSize));
  // Answer-only loss: the last quarter of each sequence is scored, as an ARC answer follows its prompt.
  const labels = ids.map((row) => row.map((id, t) => (t >= (seq * 3) / 4 ? id : -100)));
  note(
    opts,
    `measuring one step at batch ${B} × ${seq} tokens, ${layers} layers, recompute ${recompute ? 'on' : 'off'} (its first pass also compiles the pipelines)…`,
  );
  await cmd.sync();
  const t0 = performance.now();
  tidy(() => backward(model.loss({ ids, train: true, recompute }, labels)));
  optimizer.update();
  optimizer.zeroGrad();
  await cmd.sync();
  const measured = (performance.now() - t0) / 1000;
  const { peakAllocatedBytes: peak, peakLiveBytes: peakLive } = pool.memory();

  const { numLayers: L, numHeads: H, headDim: D, hiddenSize: C } = config;
  // Every linear weight and the (tied) LM head: all parameters but the norms.
  const linearParams = parameterCount(config) - L * 2 * C - C;
  const linearFlops = (T: number) => 2 * 2 * T * linearParams; // forward + activation grads, per batch row
  const attentionFlops = (T: number) => 2 * 4 * L * T * T * H * D;
  const stepFlops = (T: number, rows: number) => rows * (linearFlops(T) + attentionFlops(T));
  const estimate = plan.totalSteps * measured * (stepFlops(mean, plan.batchSize) / stepFlops(seq, B));
  const gib = (b: number) => round(b / 2 ** 30);
  report(
    opts,
    {
      bench: 'arc-ttt',
      task: taskId,
      sequences: set.examples.length,
      mean_tokens: mean,
      max_tokens: longest,
      steps: plan.totalSteps,
      batch: B,
      tokens: seq,
      layers,
      recompute,
      measured_step_s: measured,
      estimated_ttt_s: estimate,
      peak_gpu_bytes: peak,
      peak_live_bytes: peakLive,
      weight_bytes: weightBytes,
      peak_over_weights: peak / weightBytes,
      lora_bytes: loraBytes,
      optimizer_bytes: optimizer.stateBytes,
    },
    `oracle TTT on ${taskId}, ${layers} layers: measured step at ${B} × ${seq} tokens (recompute ${recompute ? 'on' : 'off'}): ${round(measured)} s, ` +
      `peak GPU ${gib(peak)} GiB = ${round(peak / weightBytes)}× the weights (${gib(weightBytes)} GiB; live peak ${gib(peakLive)} GiB; LoRA ${gib(loraBytes)} GiB, its grads the same, AdamW ${gib(optimizer.stateBytes)} GiB) | ` +
      `estimated whole TTT (${plan.totalSteps} steps of ${plan.batchSize} × ${round(mean)} tokens): ${round(estimate / 3600)} h`,
  );
  optimizer.dispose();
  adapter.dispose();
  model.dispose();
}
