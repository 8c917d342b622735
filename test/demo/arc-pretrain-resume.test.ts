// `npm run pretrain-tiny -- arc --resume`: a folder holding the first phases of a recipe is trained on through
// the rest, and that is the same run as every phase from scratch (each phase has a fresh optimiser and
// schedule and its own seeded batch stream), byte for byte; a folder of another recipe is refused.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARC_TINY_RECIPE, type ArcTinyRecipe, completedPhases, pretrainTinyArc } from '../../src/demo/arc-pretrain.ts';

// A micro model and two short phases: the point is the bookkeeping, not what it learns.
const RECIPE: ArcTinyRecipe = {
  ...ARC_TINY_RECIPE,
  world: { ...ARC_TINY_RECIPE.world, trainTasks: 16 },
  model: { hidden: 16, layers: 1, heads: 2, intermediate: 32, maxPositions: 1024 },
  phases: [
    { steps: 2, identityShare: 1, policyShare: 0 },
    { steps: 2, identityShare: 0.1, policyShare: 0.5 },
  ],
};

describe('pretrain-tiny arc --resume', () => {
  it('continues a folder from its completed phases to the bytes a run from scratch writes', async () => {
    const root = mkdtempSync(join(tmpdir(), 'arc-resume-'));
    const [whole, resumed] = [join(root, 'whole'), join(root, 'resumed')];
    await pretrainTinyArc(RECIPE, whole);
    await pretrainTinyArc({ ...RECIPE, phases: RECIPE.phases.slice(0, 1) }, resumed);
    expect(completedPhases(RECIPE, resumed)).toHaveLength(1);
    const reports = await pretrainTinyArc(RECIPE, resumed, true);
    expect(reports.map((r) => r.steps)).toEqual([2, 2]);
    expect(readFileSync(join(resumed, 'model.safetensors')).equals(readFileSync(join(whole, 'model.safetensors')))).toBe(true);
  });

  it('refuses a folder of another recipe or with no record, naming the fix', () => {
    const dir = mkdtempSync(join(tmpdir(), 'arc-resume-'));
    expect(() => completedPhases(RECIPE, dir)).toThrow(/pretraining\.json is missing.*without --resume/);
    const record = { recipe: { ...RECIPE, lr: 1e-3 }, phases: [{ steps: 2 }] };
    writeFileSync(join(dir, 'pretraining.json'), JSON.stringify(record));
    expect(() => completedPhases(RECIPE, dir)).toThrow(/another recipe \(its pretraining\.json differs in lr\); pretrain from scratch without --resume/);
    const otherPhases = [{ ...RECIPE.phases[0], steps: 3 }, RECIPE.phases[1]];
    writeFileSync(join(dir, 'pretraining.json'), JSON.stringify({ ...record, recipe: { ...RECIPE, phases: otherPhases } }));
    expect(() => completedPhases(RECIPE, dir)).toThrow(/differs in phases\)/);
    writeFileSync(join(dir, 'pretraining.json'), JSON.stringify({ ...record, recipe: RECIPE }));
    expect(completedPhases(RECIPE, dir)).toHaveLength(1);
  });
});
