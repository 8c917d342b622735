import { describe, expect, it } from 'vitest';
import { ORACLE_SELF_EDIT } from '../../../src/seal/arc/self-edit.ts';
import { exceedsStepBudget, learningRateAt, optimizerSteps, planTtt } from '../../../src/seal/arc/ttt-plan.ts';

describe('planTtt: the test-time training configuration as data', () => {
  it('the oracle on 184 sequences: SEAL LoRA and optimiser settings, 92 steps an epoch, 184 in all', () => {
    expect(planTtt(ORACLE_SELF_EDIT, 184)).toEqual({
      lora: { rank: 128, alpha: 16, dropout: 0, targetModules: ['q_proj', 'v_proj', 'gate_proj', 'up_proj', 'down_proj'] },
      optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, maxGradNorm: 1 },
      batchSize: 2,
      learningRate: 1e-4,
      schedule: { kind: 'cosine', warmupSteps: 11 },
      epochs: 2,
      lossOn: 'answer',
      maxSequenceTokens: 8192,
      examples: 184,
      stepsPerEpoch: 92,
      totalSteps: 184,
      refusal: null,
    });
  });

  it('loss on all tokens for train_using_all_tokens', () => {
    expect(planTtt({ ...ORACLE_SELF_EDIT, strategy: 'train_using_all_tokens' }, 10).lossOn).toBe('all');
  });

  it('an odd example count rounds the last batch up', () => {
    expect(optimizerSteps(249, 3)).toBe(375);
    expect(optimizerSteps(5, 1)).toBe(3);
    expect(optimizerSteps(5, 1.5)).toBe(5);
  });
});

describe('the 375-step budget (SEAL: epochs * len(train_data) // 2 > 375)', () => {
  it('allows exactly 375 steps', () => {
    expect(exceedsStepBudget(250, 3)).toBe(false);
    const plan = planTtt({ ...ORACLE_SELF_EDIT, epochs: 3 }, 250);
    expect(plan.refusal).toBeNull();
    expect(plan.totalSteps).toBe(375);
  });

  it('refuses 376 steps: nothing trains and the self-edit earns reward 0', () => {
    expect(exceedsStepBudget(188, 4)).toBe(true);
    const plan = planTtt({ ...ORACLE_SELF_EDIT, epochs: 4 }, 188);
    expect(plan.refusal).toBe('4 epochs × 188 sequences / batch 2 needs 376 steps, over the 375-step budget');
    expect(plan.epochs).toBe(0);
    expect(plan.totalSteps).toBe(0);
  });

  it("uses SEAL's floor division, which lets 3 epochs of 249 through at 373", () => {
    expect(exceedsStepBudget(249, 3)).toBe(false);
    expect(exceedsStepBudget(151, 5)).toBe(true); // 755 // 2 = 377
  });

  it('refuses a self-edit that needed fallbacks, and an empty training set', () => {
    expect(planTtt({ ...ORACLE_SELF_EDIT, epochs: 0 }, 100, ['strategy "x" is not one of …']).refusal).toMatch(/^invalid self-edit/);
    expect(planTtt(ORACLE_SELF_EDIT, 0).refusal).toBe('the tools produced no training sequences');
  });
});

describe('learningRateAt: transformers cosine schedule with warm-up', () => {
  const plan = { learningRate: 1e-4, schedule: { kind: 'cosine' as const, warmupSteps: 11 }, totalSteps: 111 };
  it('rises linearly from 0 over 11 steps, then falls along half a cosine to 0', () => {
    expect(learningRateAt(plan, 0)).toBe(0);
    expect(learningRateAt(plan, 1)).toBeCloseTo(1e-4 / 11, 15);
    expect(learningRateAt(plan, 11)).toBeCloseTo(1e-4, 15);
    expect(learningRateAt(plan, 61)).toBeCloseTo(0.5e-4, 15);
    expect(learningRateAt(plan, 111)).toBeCloseTo(0, 15);
  });
});
