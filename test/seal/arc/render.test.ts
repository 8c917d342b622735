import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ArcTask } from '../../../src/seal/arc/arc-data.ts';
import { renderArc, renderArcTask } from '../../../src/seal/arc/render.ts';
import { HAVE_ARC, TRAINING_CHALLENGES } from './shared-arc.ts';

const task: ArcTask = {
  id: 'tiny',
  train: [
    { input: [[1, 0]], output: [[0, 1]] },
    { input: [[2, 0]], output: [[0, 2]] },
    { input: [[3, 0]], output: [[0, 3]] },
  ],
  test: [{ input: [[4, 0]] }],
};

describe('renderArcTask: what the models read, before the chat template', () => {
  it('shows the policy prompt, the oracle plan, the first training sequences and the queries', () => {
    const text = renderArcTask(task, undefined, { limit: 1 });
    expect(text).toContain('### Policy prompt (self-edit generation), task tiny\n──── system ────\nYou are a helpful assistant');
    expect(text).toContain('──── user ────\nInput:\n1 0\n\nOutput:\n0 1\n\nInput:\n2 0\n');
    expect(text).toContain('### Self-edit: the oracle configuration (no self-edit given)');
    expect(text).toContain('tools (23): Rotate(90), Rotate(270)');
    expect(text).toContain('(token limit not checked: no tokenizer)');
    expect(text).toContain('### Test-time training sequences: 1 of ');
    // Which sequence comes first depends on the seeded shuffle of the capped set: leave-1 or leave-2.
    expect(text).toMatch(/## sequence 1 \(leave-[12]-out\)\n──── system ────\nFigure out the underlying transformation/);
    // Its answer is a grid of the (augmented, recoloured) task, ended by '#'.
    expect(text).toMatch(/──── assistant ────\n\[\[[\d \n[\]]+\]\]#\n/);
    expect(text).toContain('### Inference queries, test input 1 of 1: 1 of ');
    // The query ends in " -> " exactly as the model sees it.
    expect(text).toContain('──── user ────\n[[4 0]] -> \n');
    expect(text.match(/## sequence/g)).toHaveLength(1);
    expect(text.match(/## query/g)).toHaveLength(1);
  });

  it('uses a given self-edit, with its fallbacks and refusal shown', () => {
    const selfEdit = JSON.stringify({
      data_generation: { use_basic_augmentations: false, use_size_augmentations: true, use_chain_augmentations: false, use_repeat_augmentations: false },
      training: { strategy: 'train_using_all_tokens', learning_rate: 0.001, num_train_epochs: 400 },
    });
    const text = renderArcTask(task, selfEdit, { limit: 0, countTokens: (t) => t.length });
    expect(text).toContain('fallbacks: none');
    expect(text).toContain('tools (3): IncreaseResolution(2), IncreaseHeight(2), IncreaseWidth(2)');
    expect(text).toContain('REFUSED, reward 0: 400 epochs');
    expect(text).toContain('loss on all tokens');
    expect(text).not.toContain('## sequence');
  });

  it('refuses a self-edit that is not JSON, and a bad limit', () => {
    expect(() => renderArcTask(task, 'use all the tools', {})).toThrow(/the self-edit is not a JSON object/);
    expect(() => renderArcTask(task, undefined, { limit: -1 })).toThrow(/--limit must be a whole number/);
  });
});

describe.skipIf(!HAVE_ARC)('renderArc from files', () => {
  it('reads the challenges and a self-edit file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'arc-render-'));
    const selfEditPath = join(dir, 'self-edit.json');
    writeFileSync(selfEditPath, '{"data_generation": {}, "training": {}}');
    const text = renderArc({ challengesPath: TRAINING_CHALLENGES, taskId: '6150a2bd', selfEditPath, limit: 2 });
    expect(text).toContain('Input:\n3 3 8\n3 7 0\n5 0 0\n\nOutput:\n0 0 5\n0 7 3\n8 3 3\n\n');
    expect(text).toContain('REFUSED, reward 0: invalid self-edit');
    expect(text).toContain('[[6 3 5]\n [6 8 0]\n [4 0 0]] -> \n');
    expect(() => renderArc({ challengesPath: TRAINING_CHALLENGES, taskId: 'nope' })).toThrow(/no ARC task "nope"/);
  });
});
