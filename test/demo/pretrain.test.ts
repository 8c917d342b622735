// Training a tiny model on (`npm run pretrain-tiny -- --train-on N`, and the recipe's opening phase): the
// folder is rewritten and world.json records the phase, its lr and the mix it trained on.
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TINY_RECIPE, laterMix, readTinyRecord, trainOn } from '../../src/demo/pretrain.ts';

const MODEL = join(import.meta.dirname, '..', '..', 'weights', 'seal-tiny');

describe('pretrain-tiny --train-on', () => {
  it("trains the folder on at the final lr with the opening phase's mix and records the phase", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'tiny-')), 'model');
    cpSync(MODEL, dir, { recursive: true });
    const before = readTinyRecord(dir);
    const weights = readFileSync(join(dir, 'model.safetensors'));
    const report = await trainOn(dir, 2);
    const after = readTinyRecord(dir);
    expect(after.trainedOn).toHaveLength((before.trainedOn?.length ?? 0) + 1);
    const phase = after.trainedOn!.at(-1)!;
    expect(phase.steps).toBe(2);
    expect(phase.lr).toBeCloseTo(TINY_RECIPE.lr * TINY_RECIPE.minLrRatio, 12);
    expect(phase.mix).toEqual(laterMix(TINY_RECIPE));
    expect(phase.mix!.exerciseStyle.namedOpening).toBe('first-form');
    expect(report.greedySelfEdits.selfEdits).toBe(16);
    expect(readFileSync(join(dir, 'model.safetensors')).equals(weights)).toBe(false);
  });
});
