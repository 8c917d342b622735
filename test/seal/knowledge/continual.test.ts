// `seal knowledge continual` (the paper's §5): sequences drawn as SEAL draws them, the forgetting matrix's
// shape and its files, and a killed run that resumes to the log an uninterrupted one writes. End to end on
// the bundled tiny model's demo world (CI-sized: 2 sequences of 2 passages, 2 inner epochs).
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ContinualRun, averageJobs, drawSequences } from '../../../src/seal/knowledge/continual.ts';
import type { KnowledgeDomain } from '../../../src/seal/knowledge/domain.ts';
import type { Policy } from '../../../src/seal/policy.ts';
import type { RunDir } from '../../../src/seal/run-dir.ts';
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

  it("aggregates jobs as SEAL's average_results.py: mean of job means, mean of job sample stds", () => {
    // Hand-computed: job A's cell values 0, 0.5, 1 → mean 0.5, sample std 0.5; job B's 0.2, 0.2, 0.8 →
    // mean 0.4, sample std √0.12 = 0.34641. SEAL: mean (0.5 + 0.4) / 2 = 0.45, std (0.5 + 0.34641) / 2 =
    // 0.42321. Pooled over the six (ours): mean 0.45, sample std √(0.755 / 5) = √0.151 = 0.38859.
    expect(
      averageJobs([
        { mean: [[0.5, null]], std: [[0.5, null]] },
        { mean: [[0.4, null]], std: [[Math.sqrt(0.12), null]] },
      ]),
    ).toEqual({
      mean: [[0.45, null]],
      std: [[(0.5 + Math.sqrt(0.12)) / 2, null]],
    });

    // The same through ContinualRun: 2 jobs × 3 sequences of 1 passage; job j draws with seed 42 + j.
    const base = [0, 0.5, 1, 0.2, 0.2, 0.8];
    const records = new Map<string, unknown>(
      base.flatMap((a, s) => [
        [`continual/s${s}/base`, { accuracies: [a] }],
        [`continual/s${s}/step0`, { accuracies: [1] }],
      ]),
    );
    const run = { get: (key: string) => records.get(key) } as unknown as RunDir;
    const passages = Array.from({ length: 2067 }, (_, i) => ({ title: `t${i}`, context: 'c', questions: [] }));
    const config = { passages, sequences: 3, jobs: 2, length: 1, seed: 42, sampling: { temperature: 1, topP: 1, maxNewTokens: 1 } };
    const continual = new ContinualRun({} as Policy, {} as KnowledgeDomain, config, run, async () => {});
    expect(continual.order).toEqual([...drawSequences(2067, 3, 1, 42), ...drawSequences(2067, 3, 1, 43)]);
    const m = continual.matrix();
    expect(m.aggregation).toBe('seal-average-of-jobs');
    expect(m.jobs.map((j) => j.seed)).toEqual([42, 43]);
    expect(m.mean[0][0]).toBeCloseTo(0.45, 12);
    expect(m.std[0][0]).toBeCloseTo(0.4232050807568877, 12);
    expect(m.pooled.mean[0][0]).toBeCloseTo(0.45, 12);
    expect(m.pooled.std[0][0]).toBeCloseTo(0.38858718455450897, 12);
    expect([m.mean[1][0], m.std[1][0]]).toEqual([1, 0]);
    // One job: its own mean and sample std, as each SEAL job's summary.
    const one = new ContinualRun({} as Policy, {} as KnowledgeDomain, { ...config, jobs: 1 }, run, async () => {}).matrix();
    expect(one.aggregation).toBe('one-job');
    expect([one.mean[0][0], one.std[0][0]]).toEqual([0.5, 0.5]);
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
    expect(summary).toMatchObject({ n_jobs: 1, n_sequences: 2, aggregation: expect.stringMatching(/^one job/) });
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
