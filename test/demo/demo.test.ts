// A CI-sized run of the demo on the bundled tiny model: a handful of people, one round, few steps. The
// loop completes, writes the table, the plot and the self-edit correctness report, and a re-run resumes
// (a finished run does nothing).
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO, runDemo } from '../../src/demo/demo.ts';

const MODEL = join(import.meta.dirname, '..', '..', 'weights', 'seal-tiny');

describe('npm run demo, CI-sized', () => {
  it('runs every condition and a round, and writes the results', async () => {
    const run = join(mkdtempSync(join(tmpdir(), 'demo-')), 'run');
    const config = {
      ...DEMO,
      model: MODEL,
      run,
      evalPeople: 4,
      rlPeoplePerRound: 4,
      rounds: 1,
      samples: 2,
      evalSeeds: 1,
      parallel: 4,
      inner: { ...DEMO.inner, epochs: 1 },
      restEm: { ...DEMO.restEm, sampling: { ...DEMO.restEm.sampling, maxNewTokens: 24 }, imitation: { ...DEMO.restEm.imitation, epochs: 1 } },
    };
    await runDemo(config);
    const report = readFileSync(join(run, 'demo.md'), 'utf8');
    for (const row of ['base', 'passage', 'round-0', 'repeated:round-0', 'round-1']) expect(report).toContain(`| ${row} |`);
    expect(report).toContain('correct facts / fact lines');
    expect(existsSync(join(run, 'plot.svg'))).toBe(true);
    const log = readFileSync(join(run, 'log.jsonl'), 'utf8');
    await runDemo(config);
    expect(readFileSync(join(run, 'log.jsonl'), 'utf8')).toBe(log);
  });
});
