// Supervised fine-tuning: seeded shuffling, right-padded batches, gradient accumulation, AdamW with a
// schedule and global-norm clipping. Trains whatever parameters it is given (a LoRA adapter's, or a whole
// model's when pretraining); everything else stays frozen.
import type { Llama } from '../model/llama.ts';
import { scoredTargets } from '../model/loss.ts';
import { IGNORE_INDEX, type Tensor, backward, tensor, tidy } from '../tensor/index.ts';
import { Rng } from '../util/random.ts';
import { AdamW } from './adamw.ts';
import { type Batch, type Example, collate, pack } from './examples.ts';
import { type LoraConfig, LoraAdapter } from './lora.ts';
import { type ScheduleName, learningRate } from './schedule.ts';

export interface SftOptions {
  lr: number;
  /** Passes over the data (default 1); `steps`, when given, wins. */
  epochs?: number;
  /** Optimiser steps to take (the data is reshuffled and reused as needed). */
  steps?: number;
  batchSize?: number;
  /**
   * Form batches by tokens instead: consecutive examples of the shuffle until the next would pass this
   * many tokens (at least one each), packed into one row (examples.ts `pack`: each attends only to
   * itself) — equal training tokens then give about equal steps, and no compute goes to padding.
   */
  tokensPerBatch?: number;
  /** Micro-batches per optimiser step. */
  gradAccum?: number;
  schedule?: ScheduleName;
  warmupSteps?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  maxGradNorm?: number;
  seed?: number;
  /** Token id used for padding (masked everywhere). */
  pad: number;
  /** Activation recomputation (less memory, one more forward per step). */
  recompute?: boolean;
  /** Called after every optimiser step (progress, checkpoints); may be async. */
  onStep?: (report: StepReport) => void | Promise<void>;
}

export interface StepReport {
  step: number; // 1-based
  totalSteps: number;
  /** Mean loss over the step's scored tokens. */
  loss: number;
  lr: number;
  /** Tokens (scored and not) processed in this step. */
  tokens: number;
  seconds: number;
}

export class TrainingDivergedError extends Error {
  override name = 'TrainingDivergedError';
  constructor(
    readonly step: number,
    readonly loss: number,
  ) {
    super(`The loss became ${loss} at step ${step}; training stopped before that step's update (the parameters are those after step ${step - 1})`);
  }
}

/**
 * Micro-batches grouped per optimiser step: each epoch a fresh seeded shuffle cut into batches (of
 * `batchSize` examples, or by `tokensPerBatch`); an epoch's last step may have fewer micro-batches (as
 * Hugging Face's Trainer steps at the end of an epoch). `lengths` are the examples' token counts.
 */
export function stepPlan(lengths: number[], opts: Pick<SftOptions, 'epochs' | 'steps' | 'batchSize' | 'tokensPerBatch' | 'gradAccum' | 'seed'>): number[][][] {
  const n = lengths.length;
  const bs = opts.batchSize ?? 1;
  const accum = opts.gradAccum ?? 1;
  const rng = new Rng(opts.seed ?? 0);
  const steps: number[][][] = [];
  // With `steps`, the plan ends at that many steps (mid-epoch if need be); otherwise after `epochs`.
  const full = () => opts.steps !== undefined && steps.length >= opts.steps;
  const epochs = opts.steps !== undefined ? Infinity : Math.ceil(opts.epochs ?? 1);
  for (let epoch = 0; epoch < epochs && !full() && n > 0; epoch++) {
    const order = rng.shuffle([...Array(n).keys()]);
    const batches: number[][] = [];
    if (opts.tokensPerBatch) {
      let batch: number[] = [];
      let tokens = 0;
      for (const i of order) {
        if (batch.length && tokens + lengths[i] > opts.tokensPerBatch) {
          batches.push(batch);
          batch = [];
          tokens = 0;
        }
        batch.push(i);
        tokens += lengths[i];
      }
      if (batch.length) batches.push(batch);
    } else {
      for (let i = 0; i < n; i += bs) batches.push(order.slice(i, i + bs));
    }
    // A fractional last epoch takes its share of the batches.
    const share = opts.steps === undefined && epoch + 1 > (opts.epochs ?? 1) ? (opts.epochs ?? 1) - epoch : 1;
    const take = Math.ceil(batches.length * share);
    for (let i = 0; i < take && !full(); i += accum) steps.push(batches.slice(i, Math.min(take, i + accum)));
  }
  return steps;
}

/** Fine-tunes `params` (which must require grad) of `model` on `examples`; returns each step's loss. */
export async function sft(model: Llama, params: Tensor[], examples: Example[], opts: SftOptions): Promise<number[]> {
  if (examples.length === 0) throw new Error('sft: no training examples');
  const plan = stepPlan(
    examples.map((e) => e.ids.length),
    opts,
  );
  const optimizer = new AdamW(params, {
    lr: opts.lr,
    betas: opts.betas,
    eps: opts.eps,
    weightDecay: opts.weightDecay,
    maxGradNorm: opts.maxGradNorm,
  });
  const losses: number[] = [];
  try {
    for (let s = 0; s < plan.length; s++) {
      const started = performance.now();
      const micro = plan[s].map((batch) => batchOf([batch.map((i) => examples[i])], opts));
      const scored = micro.map((b) => scoredTargets(b.labels));
      const total = scored.reduce((a, b) => a + b, 0);
      // Each micro-batch's mean loss, weighted by its share of the step's scored tokens: the accumulated
      // gradient is that of the mean over every scored token of the step, as one big batch would give.
      const parts = micro.map((b, j) =>
        tidy(() => {
          // Every input of the batch (packed rows carry their documents' segments and restarting positions).
          const { labels, ...inputs } = b;
          const loss = model.loss({ ...inputs, train: true, recompute: opts.recompute, seed: (opts.seed ?? 0) * 7919 + s * 31 + j }, labels);
          if (scored[j] > 0) backward(loss, tensor([scored[j] / total], []));
          return loss;
        }),
      );
      let loss = 0;
      for (let j = 0; j < parts.length; j++) {
        loss += ((await parts[j].item()) * scored[j]) / Math.max(1, total);
        parts[j].dispose();
      }
      if (!Number.isFinite(loss)) throw new TrainingDivergedError(s + 1, loss);
      const lr = learningRate(opts.schedule ?? 'constant', opts.lr, s, plan.length, opts.warmupSteps ?? 0);
      optimizer.update(lr);
      optimizer.zeroGrad();
      losses.push(loss);
      const tokens = micro.reduce((n, b) => n + b.ids.length * b.ids[0].length, 0);
      await opts.onStep?.({ step: s + 1, totalSteps: plan.length, loss, lr, tokens, seconds: (performance.now() - started) / 1000 });
    }
  } finally {
    optimizer.zeroGrad();
    optimizer.dispose();
  }
  return losses;
}

/** A LoRA fine-tune's settings (SEAL's inner loops and M-steps are all of this kind). */
export interface LoraTraining {
  lora: LoraConfig;
  lr: number;
  epochs: number;
  batchSize: number;
  /** Batches by tokens instead of examples (see SftOptions.tokensPerBatch). */
  tokensPerBatch?: number;
  gradAccum: number;
  schedule: ScheduleName;
  warmupSteps: number;
  maxGradNorm: number;
}

/** A fresh LoRA adapter on `model` (initialised from `seed`, attached), fitted to `examples`. The caller disposes it. */
export async function fitLora(
  model: Llama,
  config: LoraTraining,
  examples: Example[],
  opts: Pick<SftOptions, 'seed' | 'pad' | 'steps' | 'onStep' | 'recompute' | 'betas' | 'eps' | 'weightDecay'>,
): Promise<{ adapter: LoraAdapter; losses: number[] }> {
  const adapter = LoraAdapter.create(model, config.lora, opts.seed ?? 0);
  try {
    const { lora: _, ...training } = config;
    const losses = await sft(model, adapter.parameters(), examples, { ...training, ...opts });
    return { adapter, losses };
  } catch (e) {
    adapter.dispose();
    throw e;
  }
}

/**
 * Independent fine-tunes run side by side: slot s of a multi-slot LoRA adapter trains on examples[s] with
 * its own seeded shuffle, its own schedule over its own step count, its own gradient norm, and its own
 * loss normaliser — each slot's result is what a lone fine-tune would give (up to float rounding), at
 * the cost of one batched step per step. A slot that has finished gets padding rows and learning rate 0.
 * Gradient accumulation is not supported here. Returns the steps each slot took.
 */
export async function sftParallel(
  model: Llama,
  adapter: LoraAdapter,
  examples: Example[][],
  opts: Omit<SftOptions, 'seed' | 'gradAccum' | 'onStep'> & { seeds: number[]; onStep?: (step: number, steps: number) => void },
): Promise<number[]> {
  const slots = adapter.slots;
  if (examples.length !== slots || opts.seeds.length !== slots)
    throw new RangeError(`sftParallel: ${examples.length} example sets and ${opts.seeds.length} seeds for ${slots} slots`);
  const plans = examples.map((ex, s) =>
    stepPlan(
      ex.map((e) => e.ids.length),
      { ...opts, seed: opts.seeds[s], gradAccum: 1 },
    ),
  );
  const optimizer = new AdamW(adapter.parameters(), {
    lr: opts.lr,
    betas: opts.betas,
    eps: opts.eps,
    weightDecay: opts.weightDecay,
    maxGradNorm: opts.maxGradNorm,
    slots,
  });
  const steps = Math.max(0, ...plans.map((p) => p.length));
  try {
    for (let k = 0; k < steps; k++) {
      const batches = plans.map((plan, s) => (plan[k]?.[0] ?? []).map((i) => examples[s][i]));
      const { batch: b, weights } = slotRows(batches, opts);
      const loss = tidy(() => {
        const { labels, ...inputs } = b;
        const l = model.loss({ ...inputs, train: true, recompute: opts.recompute, seed: opts.seeds[0] * 7919 + k }, labels, weights);
        backward(l);
        return l;
      });
      const value = await loss.item();
      loss.dispose();
      if (!Number.isFinite(value)) throw new TrainingDivergedError(k + 1, value);
      optimizer.update(plans.map((plan) => (k < plan.length ? learningRate(opts.schedule ?? 'constant', opts.lr, k, plan.length, opts.warmupSteps ?? 0) : 0)));
      optimizer.zeroGrad();
      opts.onStep?.(k + 1, steps);
    }
  } finally {
    optimizer.zeroGrad();
    optimizer.dispose();
  }
  return plans.map((p) => p.length);
}

/** One micro-batch: the examples of each group packed into a row (token budgets), or one example a row. */
function batchOf(groups: Example[][], opts: Pick<SftOptions, 'tokensPerBatch' | 'pad'>): Batch {
  return opts.tokensPerBatch ? pack(groups, opts.pad) : collate(groups.flat(), opts.pad);
}

/**
 * A parallel step's rows, slot-major, and each row's loss weight (1 / its slot's scored targets, so each
 * slot's loss is the mean over its own batch). Packed: one row per slot. Otherwise as many rows per slot as
 * the step's largest batch, padding rows for the others and for slots that have finished.
 */
function slotRows(batches: Example[][], opts: Pick<SftOptions, 'tokensPerBatch' | 'pad'>): { batch: Batch; weights: number[] } {
  const weight = (scored: number) => (scored > 0 ? 1 / scored : 0);
  if (opts.tokensPerBatch) {
    const batch = pack(batches, opts.pad);
    return { batch, weights: batch.labels.map((row) => weight(scoredTargets([row]))) };
  }
  const idle: Example = { ids: [opts.pad], labels: [IGNORE_INDEX] };
  const perSlot = Math.max(1, ...batches.map((b) => b.length));
  const rows: Example[] = [];
  const weights: number[] = [];
  for (const batch of batches) {
    const scored = batch.reduce((n, e) => n + scoredTargets([e.labels]), 0);
    for (let j = 0; j < perSlot; j++) {
      rows.push(batch[j] ?? idle);
      weights.push(batch[j] ? weight(scored) : 0);
    }
  }
  return { batch: collate(rows, opts.pad), weights };
}
