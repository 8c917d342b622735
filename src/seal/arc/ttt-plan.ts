// How a self-edit's test-time training runs, as plain data for the trainer (SEAL self-edit.py and
// arclib/update_model.py: a fresh LoRA r=128, α=16 on q, v, gate, up, down; batch 2; Hugging Face
// Trainer defaults for AdamW; cosine schedule with 11 warmup steps). Configurations that would take
// more than 375 optimiser steps are refused, as in the paper, and earn reward 0.
import type { SelfEditConfig } from './self-edit.ts';
import { MAX_SEQUENCE_TOKENS } from './messages.ts';

export const MAX_TTT_STEPS = 375;

export const TTT_LORA = {
  rank: 128,
  alpha: 16,
  dropout: 0,
  targetModules: ['q_proj', 'v_proj', 'gate_proj', 'up_proj', 'down_proj'],
} as const;

/** torch AdamW as Hugging Face's Trainer sets it up by default (SEAL passes no overrides). */
export const TTT_OPTIMIZER = {
  kind: 'adamw',
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  weightDecay: 0,
  maxGradNorm: 1,
} as const;

export const TTT_BATCH_SIZE = 2;
export const TTT_WARMUP_STEPS = 11;

export interface TttPlan {
  lora: typeof TTT_LORA;
  optimizer: typeof TTT_OPTIMIZER;
  batchSize: number;
  /** Peak learning rate, from the self-edit. */
  learningRate: number;
  schedule: { kind: 'cosine'; warmupSteps: number };
  epochs: number;
  /** `all`: loss on every token; `answer`: only on what follows the assistant header. */
  lossOn: 'all' | 'answer';
  /** Sequences are truncated to this many tokens (SEAL's tokenizer call). */
  maxSequenceTokens: number;
  examples: number;
  stepsPerEpoch: number;
  totalSteps: number;
  /** Why this self-edit trains nothing and earns reward 0; null when it trains. */
  refusal: string | null;
}

/**
 * Optimiser steps as Hugging Face's Trainer takes them: ⌈examples / batch⌉ per epoch, and
 * ⌈epochs × that⌉ in all (epochs may be fractional).
 */
export function optimizerSteps(examples: number, epochs: number, batchSize = TTT_BATCH_SIZE): number {
  return Math.ceil(epochs * Math.ceil(examples / batchSize));
}

/**
 * The refusal rule exactly as SEAL writes it: `num_train_epochs * len(train_data) // 2 > 375`. It can
 * undercount optimizerSteps by up to epochs/2 when the example count is odd.
 */
export function exceedsStepBudget(examples: number, epochs: number): boolean {
  return Math.floor((epochs * examples) / TTT_BATCH_SIZE) > MAX_TTT_STEPS;
}

/**
 * The training plan for a self-edit's configuration and the number of training sequences its tools
 * produced. `fallbacks` are those of parseSelfEdit: any of them refuses the self-edit.
 */
export function planTtt(config: SelfEditConfig, examples: number, fallbacks: readonly string[] = []): TttPlan {
  let refusal: string | null = null;
  if (fallbacks.length > 0) {
    refusal = `invalid self-edit (${fallbacks.join('; ')})`;
  } else if (examples === 0) {
    refusal = 'the tools produced no training sequences';
  } else if (exceedsStepBudget(examples, config.epochs)) {
    refusal =
      `${config.epochs} epochs × ${examples} sequences / batch ${TTT_BATCH_SIZE} needs ` +
      `${Math.floor((config.epochs * examples) / TTT_BATCH_SIZE)} steps, over the ${MAX_TTT_STEPS}-step budget`;
  }
  const epochs = refusal === null ? config.epochs : 0;
  return {
    lora: TTT_LORA,
    optimizer: TTT_OPTIMIZER,
    batchSize: TTT_BATCH_SIZE,
    learningRate: config.learningRate,
    schedule: { kind: 'cosine', warmupSteps: TTT_WARMUP_STEPS },
    epochs,
    lossOn: config.strategy === 'train_using_all_tokens' ? 'all' : 'answer',
    maxSequenceTokens: MAX_SEQUENCE_TOKENS,
    examples,
    stepsPerEpoch: Math.ceil(examples / TTT_BATCH_SIZE),
    totalSteps: optimizerSteps(examples, epochs),
    refusal,
  };
}

/**
 * The learning rate for optimiser step `step` (0-based), as transformers' get_cosine_schedule_with_warmup:
 * linear warm-up from 0, then half a cosine down to 0 at totalSteps.
 */
export function learningRateAt(plan: Pick<TttPlan, 'learningRate' | 'schedule' | 'totalSteps'>, step: number): number {
  const warmup = plan.schedule.warmupSteps;
  if (step < warmup) return (plan.learningRate * step) / Math.max(1, warmup);
  const progress = (step - warmup) / Math.max(1, plan.totalSteps - warmup);
  return plan.learningRate * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
}
