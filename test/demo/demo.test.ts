// A CI-sized run of the demo on the bundled tiny model: a handful of people, one round, few steps. The
// loop completes, writes the table, the plot and the self-edit correctness report, and a re-run resumes
// (a finished run does nothing), but not after the model was retrained.
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO, runDemo } from '../../src/demo/demo.ts';

const MODEL = join(import.meta.dirname, '..', '..', 'weights', 'seal-tiny');

describe('npm run demo, CI-sized', () => {
  it('runs every condition and a round, and writes the results', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'demo-'));
    const [run, model] = [join(dir, 'run'), join(dir, 'model')];
    cpSync(MODEL, model, { recursive: true });
    const config = {
      ...DEMO,
      model,
      run,
      evalPeople: 4,
      rlPeoplePerRound: 4,
      rounds: 1,
      samples: 2,
      evalSeeds: 2,
      parallel: 4,
      inner: { ...DEMO.inner, epochs: 1 },
      restEm: { ...DEMO.restEm, sampling: { ...DEMO.restEm.sampling, maxNewTokens: 24 }, imitation: { ...DEMO.restEm.imitation, epochs: 1 } },
    };
    await runDemo(config);
    const report = readFileSync(join(run, 'results.md'), 'utf8');
    for (const row of ['base', 'passage', 'round-0', 'round-1', 'repeated:round-1']) expect(report).toContain(`| ${row} |`);
    expect(report).toContain('correct facts / fact lines');
    for (const gap of ['passage − base', 'round-0 − passage', 'round-1 − round-0', 'round-1 − repeated:round-1']) expect(report).toContain(`| ${gap} |`);
    const summary = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8'));
    expect(summary.ordering.gaps.map((g: { higher: string }) => g.higher)).toEqual(['passage', 'round-0', 'round-1', 'round-1']);
    // 4 people in one adapter a seed, 2 seeds: each gap's spread is measured over 2 adapter pairs.
    for (const g of summary.ordering.gaps) expect(g.power.adaptersPerSeed).toBe(1);
    expect(report).toContain('adapters a seed: run / to hold');
    expect(Object.keys(summary.selfEdits)).toContain('round-1 (evaluation people)');
    expect(Object.keys(summary.selfEdits)).toContain('RL round 1: samples of the round-0 policy');
    expect(existsSync(join(run, 'plot.svg'))).toBe(true);
    const log = readFileSync(join(run, 'log.jsonl'), 'utf8');
    await runDemo(config);
    expect(readFileSync(join(run, 'log.jsonl'), 'utf8')).toBe(log);
    // The same folder trained on: its results would be stale, so the run directory refuses it.
    const meta = JSON.parse(readFileSync(join(model, 'world.json'), 'utf8'));
    meta.trainedOn = [...(meta.trainedOn ?? []), { steps: 1 }];
    writeFileSync(join(model, 'world.json'), JSON.stringify(meta));
    await expect(runDemo(config)).rejects.toThrow(/different config[\s\S]*model\.trainedOn/);
  });
});
