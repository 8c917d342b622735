import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARC_TINY_RECIPE, arcPretrainingPass, chatDocument, identityTask, randomSelfEdit } from '../../src/demo/arc-pretrain.ts';
import { generateArcWorld } from '../../src/demo/arc-world.ts';
import type { Tokenizer } from '../../src/io/tokenizer.ts';
import { formatAnswer } from '../../src/seal/arc/grid-text.ts';
import { fewShotConversation } from '../../src/seal/arc/messages.ts';
import { parseSelfEdit } from '../../src/seal/arc/self-edit.ts';
import { Rng } from '../../src/util/random.ts';
import { temporaryArcTokenizer } from '../helpers/arc-tokenizer.ts';

const world = generateArcWorld({ ...ARC_TINY_RECIPE.world, trainTasks: 20 });
const whole = (t: (typeof world.train)[number]) => ({ demonstrations: t.train, test: { input: t.test[0].input, output: t.test[0].output! } });

describe('the tiny ARC model pretraining corpus', () => {
  let tok: Tokenizer;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ tok, dispose } = await temporaryArcTokenizer());
  });
  afterAll(() => dispose());

  it('trains on the output grids only: every demonstration output, and the answer with its <eot>', () => {
    const task = world.train[0];
    const doc = chatDocument(tok, fewShotConversation(whole(task)), 'arc-task');
    // The targets, read back in order, are the outputs' texts (each through its '#') and the answer's <eot>.
    const targets = tok.decode(doc.ids.filter((_, j) => doc.loss?.[j]));
    const outputs = [...task.train.map((p) => p.output), task.test[0].output!].map(formatAnswer).join('');
    expect(targets).toBe(`${outputs}<eot>`);
    expect(doc.loss?.[0]).toBe(0);
  });

  it('identity tasks copy every input; policy documents end in a parseable self-edit', () => {
    const copy = identityTask(world.train[1]);
    for (const pair of [...copy.train, ...copy.test]) expect(pair.output).toEqual(pair.input);
    const docs = arcPretrainingPass(world.train, tok, new Rng(1), { steps: 1, identityShare: 0.5, policyShare: 1 }, ARC_TINY_RECIPE.selfEditMenu);
    const kinds = docs.map((d) => d.kind);
    expect(kinds.filter((k) => k === 'arc-policy')).toHaveLength(20);
    expect(kinds.filter((k) => k === 'arc-identity').length).toBeGreaterThan(3);
    for (const doc of docs.filter((d) => d.kind === 'arc-policy')) {
      const answer = tok.decode(
        doc.ids.filter((_, j) => doc.loss?.[j]),
        { skipSpecial: true },
      );
      const parsed = parseSelfEdit(answer);
      expect(parsed.parsed && parsed.fallbacks).toEqual([]);
    }
  });

  it('draws self-edits from the whole menu', () => {
    const rng = new Rng(3);
    const drawn = Array.from({ length: 200 }, () => randomSelfEdit(rng, ARC_TINY_RECIPE.selfEditMenu));
    expect(new Set(drawn.map((c) => c.learningRate))).toEqual(new Set(ARC_TINY_RECIPE.selfEditMenu.learningRates));
    expect(new Set(drawn.map((c) => c.epochs))).toEqual(new Set(ARC_TINY_RECIPE.selfEditMenu.epochs));
    expect(new Set(drawn.map((c) => c.strategy)).size).toBe(2);
    for (const group of ['basic', 'size', 'chain', 'repeat'] as const) expect(new Set(drawn.map((c) => c.tools[group])).size).toBe(2);
  });
});
