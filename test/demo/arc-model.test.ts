// The bundled tiny ARC model (weights/seal-tiny-arc), as the demo uses it: its untrained policy writes
// self-edits that parse (issue 24 asks ≥ 90 %) with varied choices, sampled at the demo's settings on the
// policy prompts of fresh tasks of its own world, which it never saw.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARC_DEMO, worldShape } from '../../src/demo/arc-demo.ts';
import { generateArcWorld } from '../../src/demo/arc-world.ts';
import { ArcDomain } from '../../src/seal/arc/domain.ts';
import { parseSelfEdit } from '../../src/seal/arc/self-edit.ts';
import { Policy } from '../../src/seal/policy.ts';

const MODEL = join(import.meta.dirname, '..', '..', 'weights', 'seal-tiny-arc');

describe('the bundled tiny ARC model', () => {
  it('writes valid, varied self-edits for at least 90 % of fresh policy prompts', async () => {
    const world = generateArcWorld({ seed: ARC_DEMO.world.seed, trainTasks: 0, evalTasks: 32, ...worldShape({ ...ARC_DEMO, model: MODEL }) });
    const policy = await Policy.load(MODEL);
    try {
      const domain = new ArcDomain(policy.tokenizer, ARC_DEMO.domain);
      const texts = await policy.sample(
        world.eval.map((task, seed) => ({ prompt: domain.prompt(task), seed })),
        ARC_DEMO.domain.sampling,
      );
      const valid = texts.map(parseSelfEdit).filter((p) => p.parsed && p.fallbacks.length === 0);
      expect(valid.length / texts.length).toBeGreaterThanOrEqual(0.9);
      // Varied: the menu has 16 × 2 × 4 × 4 configurations; a policy stuck on a few would leave RL nothing to choose.
      expect(new Set(valid.map((p) => JSON.stringify(p.config))).size).toBeGreaterThanOrEqual(16);
    } finally {
      policy.model.dispose();
    }
  });
});
