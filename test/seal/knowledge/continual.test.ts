// `seal knowledge continual` (the paper's §5): sequences drawn as SEAL draws them, the forgetting matrix's
// shape and its files, and a killed run that resumes to the log an uninterrupted one writes. End to end on
// the bundled tiny model's demo world (CI-sized: 2 sequences of 2 passages, 2 inner epochs).
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { drawSequences } from '../../../src/seal/knowledge/continual.ts';
import { ROOT, finished, killAfter, logOf, seal } from '../../helpers/cli.ts';

const MODEL = join(ROOT, 'weights', 'seal-tiny');

describe('seal knowledge continual', () => {
  it("draws each sequence with random.sample after random.seed(seed), as SEAL's script does", () => {
    // random.seed(42); random.sample(range(2067), 8), twice (python3 3.11, run once): SEAL's first two
    // sequences on squad_val.json's 2,067 passages.
    expect(drawSequences(2067, 2, 8, 42)).toEqual([
      [456, 102, 1126, 1003, 914, 571, 419, 356],
      [1728, 130, 122, 383, 895, 952, 108, 814],
    ]);
    expect(() => drawSequences(3, 1, 4, 0)).toThrow(/pool of at least that many/);
  });

  const args = (run: string) => [
    'knowledge',
    'continual',
    '--model',
    MODEL,
    '--world',
    '--run',
    run,
    '--sequences',
    '2',
    '--length',
    '2',
    '--inner-epochs',
    '2',
    '--max-new-tokens',
    '24',
  ];

  it('writes the forgetting matrix (table, heatmap, summary) and keeps no merged model once done', async () => {
    const work = mkdtempSync(join(tmpdir(), 'continual-'));
    const run = join(work, 'whole');
    const result = await finished(seal(args(run)));
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8'));
    expect(summary.mean_over_sequences).toHaveLength(3); // base + 2 updates
    expect(summary.mean_over_sequences[0].every((v: number) => v >= 0 && v <= 1)).toBe(true);
    expect(summary.mean_over_sequences[1].map((v: number | null) => v === null)).toEqual([false, true]);
    expect(summary.mean_over_sequences[2].every((v: number | null) => v !== null)).toBe(true);
    expect(summary.sequences).toHaveLength(2);
    const table = readFileSync(join(run, 'results.md'), 'utf8');
    for (const row of ['| base |', '| after 1 |', '| after 2 |']) expect(table).toContain(row);
    expect(readFileSync(join(run, 'forgetting.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\n$/);
    const log = logOf(run);
    expect(log.filter((r) => r.kind === 'continual-step')).toHaveLength(4);
    expect(log.filter((r) => r.kind === 'continual-base')).toHaveLength(2);
    // Row k + 1 has the accuracies of passages 0 … k.
    for (const r of log.filter((x) => x.kind === 'continual-step')) expect((r.accuracies as number[]).length).toBe(Number(r.step) + 1);
    expect(readdirSync(join(run, 'models'))).toEqual([]);

    // Killed after the first step of the first sequence was logged, then resumed: the same log.
    const killed = join(work, 'killed');
    const child = seal(args(killed));
    const exit = finished(child);
    await killAfter(child, killed, 3);
    expect((await exit).signal).toBe('SIGKILL');
    const resumed = await finished(seal(args(killed)));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(logOf(killed)).toEqual(log);
    expect(existsSync(join(killed, 'done'))).toBe(true);
  }, 600_000); // two runs of 4 updates each, and the kill
});
