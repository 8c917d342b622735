// `npm run demo -- arc` on a tiny random model (the llama-tiny fixture with a byte-level tokenizer; the
// real tiny ARC model is not made yet): one evaluation task and one training task, every condition scored
// over 2 seeds, one ReST-EM round; the run writes its table, plot and summary in the knowledge demo's shape,
// a killed run resumes to the same log, and a finished one is not repeated. Also the per-family `best`
// table, and the self-edit report on a hand-written log (a random model writes no JSON).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARC_DEMO, bestFor, bestTableOf, checkModel, pendingBestTable, readBestTable, runArcDemo } from '../../src/demo/arc-demo.ts';
import { selfEditRows, tasksSolved } from '../../src/demo/arc-report.ts';
import { HELD_OUT_COMPOSITIONS } from '../../src/demo/arc-world.ts';
import { formatSelfEdit } from '../../src/seal/arc/self-edit.ts';
import { NO_TOOLS } from '../../src/seal/arc/tools.ts';
import { RunDir } from '../../src/seal/run-dir.ts';
import { withByteTokenizer } from '../helpers/byte-tokenizer.ts';
import { ROOT, finished, killAfter, logOf } from '../helpers/cli.ts';
import { FIXTURE } from '../model/fixture.ts';

const work = () => mkdtempSync(join(tmpdir(), 'arc-demo-'));

/** A cheap fixed self-edit: the three repeat tools, loss on the outputs, a few steps. */
const CHEAP = { tools: { ...NO_TOOLS, repeat: true }, strategy: 'train_using_output_tokens' as const, learningRate: 1e-3, epochs: 0.05 };

describe('the per-family table of best', () => {
  it('reads a table of SEAL self-edits, a family taking its own entry or "*"', () => {
    const path = join(work(), 'best.json');
    const families = { [HELD_OUT_COMPOSITIONS[0]]: JSON.parse(formatSelfEdit(CHEAP)), '*': JSON.parse(formatSelfEdit(ARC_DEMO.oracle)) };
    writeFileSync(path, JSON.stringify({ source: 'measured by hand', families }));
    const table = readBestTable(path);
    expect(table).toMatchObject({ source: 'measured by hand', pending: false });
    expect(bestFor(table, HELD_OUT_COMPOSITIONS[0])).toEqual(CHEAP);
    expect(bestFor(table, HELD_OUT_COMPOSITIONS[1])).toEqual(ARC_DEMO.oracle);
    const pending = pendingBestTable(ARC_DEMO.oracle);
    expect(pending.pending).toBe(true);
    expect(pending.source).toMatch(/PLACEHOLDER.*notes\/arc-demo\.md/);
    expect(bestFor(pending, 'rotate-90')).toEqual(ARC_DEMO.oracle);
  });

  it.each([
    [{ families: { 'rotate-45': {} } }, /rotate-45/],
    [{ families: { 'rotate-90': { data_generation: {}, training: {} } } }, /self-edit of rotate-90 is not valid: data_generation needs booleans/],
    [{ families: [] }, /expected \{"source"/],
  ])('refuses %j, naming what is wrong', (file, message) => {
    const path = join(work(), 'best.json');
    writeFileSync(path, JSON.stringify(file));
    expect(() => readBestTable(path)).toThrow(message);
  });

  it("defaults to the model folder's best-table.json, which --best overrides, and else to the placeholder", () => {
    const model = work();
    const given = join(work(), 'given.json');
    const table = (source: string) => JSON.stringify({ source, families: { '*': JSON.parse(formatSelfEdit(CHEAP)) } });
    writeFileSync(given, table('given'));
    expect(bestTableOf({ model, bestTable: null, oracle: ARC_DEMO.oracle }).pending).toBe(true);
    writeFileSync(join(model, 'best-table.json'), table("the model's"));
    expect(bestTableOf({ model, bestTable: null, oracle: ARC_DEMO.oracle }).source).toBe("the model's");
    expect(bestTableOf({ model, bestTable: given, oracle: ARC_DEMO.oracle }).source).toBe('given');
  });

  it('a table without "*" names the family it lacks', () => {
    expect(() => bestFor({ source: 'x', pending: false, families: {} }, 'rotate-90')).toThrow(/no entry for family rotate-90/);
  });
});

describe('a missing model', () => {
  it('is named with the command that makes it, before the run directory is made', async () => {
    const run = join(work(), 'run');
    expect(() => checkModel('/nonexistent/seal-tiny-arc')).toThrow(/no model at \/nonexistent\/seal-tiny-arc: .*`npm run pretrain-tiny -- arc`.*--model/);
    await expect(runArcDemo({ ...ARC_DEMO, model: '/nonexistent', run })).rejects.toThrow(/no model at \/nonexistent/);
    expect(existsSync(run)).toBe(false);
  });
});

describe('the self-edit report', () => {
  it('counts JSON, valid and resampled self-edits, and their choices per family and round', () => {
    const run = RunDir.open(join(work(), 'run'), {});
    const valid = formatSelfEdit({ ...CHEAP, learningRate: 1e-3, epochs: 2 });
    const other = formatSelfEdit({
      tools: { basic: true, size: false, chain: false, repeat: true },
      strategy: 'train_using_all_tokens',
      learningRate: 3e-3,
      epochs: 4,
    });
    const log = (condition: string, task: string, texts: string[], unparsedSamples: number, rewards: number[]) => {
      run.log({ kind: 'eval-self-edits', key: `eval-self-edits/${condition}/s0/${task}`, condition, seed: 0, task, texts, details: { unparsedSamples } });
      rewards.forEach((reward, j) => run.log({ kind: 'evaluation', key: `eval/${condition}/s0/${task}/e${j}`, condition, task, seed: 0, reward, seconds: 0 }));
    };
    log('round-0', 'aaaaaaa1', ['not json', valid], 5, [0, 1]);
    log('round-0', 'bbbbbbb2', ['{"data_generation": 1}', other], 0, [0, 0]);
    log('round-1', 'aaaaaaa1', [valid, other], 1, [1, 1]);
    run.log({ kind: 'evaluation', key: 'eval/in-context/s0/aaaaaaa1', condition: 'in-context', task: 'aaaaaaa1', seed: 0, reward: 1, seconds: 0 });
    const families: Record<string, string> = { aaaaaaa1: 'rotate-90', bbbbbbb2: 'tile-2x2' };
    const rows = selfEditRows(run, (t) => families[t]);
    expect(rows.map((r) => `${r.source} / ${r.family}`)).toEqual([
      'round-0 policy, evaluation tasks / rotate-90',
      'round-0 policy, evaluation tasks / tile-2x2',
      'round-0 policy, evaluation tasks / all',
      'round-1 policy, evaluation tasks / rotate-90',
      'round-1 policy, evaluation tasks / all',
    ]);
    const all0 = rows[2].stats;
    expect(all0).toMatchObject({ selfEdits: 4, parsed: 3, valid: 2, resampled: 5, outputTokens: 0.5, medianLr: 2e-3, meanEpochs: 3, solved: 0.25 });
    expect(all0.tools).toEqual({ basic: 0.5, size: 0, chain: 0, repeat: 1 });
    expect(rows[3].stats).toMatchObject({ selfEdits: 2, valid: 2, resampled: 1, solved: 1 });
    // Tasks solved: a task counts once however many of its self-edits solve it; in-context is "icl".
    expect(tasksSolved(run, ['aaaaaaa1', 'bbbbbbb2'], 1)).toEqual({ 'round-0': [0.5], 'round-1': [0.5], icl: [0.5] });
    run.close();
  });
});

/** `npm run demo -- arc <args>` as a child process (what npm runs, without the setup script). */
function demo(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'demo', 'demo.ts'), 'arc', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' },
  });
}

describe('npm run demo -- arc, one task', () => {
  const dir = work();
  const model = withByteTokenizer(FIXTURE);
  const best = join(dir, 'best.json');
  writeFileSync(best, JSON.stringify({ source: 'the test', families: { '*': JSON.parse(formatSelfEdit(CHEAP)) } }));
  // biome-ignore format: flag-value pairs read best one pair per line
  const args = (run: string) => [
    '--model', model,
    '--run', run,
    '--world-seed', '62', // whose first tasks are small: 84 cells to evaluate on, 116 to train on
    '--split', 'held-out', // the fixture has no pretraining world
    '--train-tasks', '1',
    '--eval-tasks', '1',
    '--rounds', '1',
    '--samples', '2',
    '--self-edits', '2',
    '--seeds', '2',
    '--max-new-tokens', '8',
    '--max-sample-attempts', '2',
    '--answer-tokens', '8',
    '--answer-batch', '16',
    '--oracle-epochs', '0.01',
    '--best', best,
  ];

  it('scores every condition, writes the summary in the knowledge demo shape, and resumes after a kill', { timeout: 600_000 }, async () => {
    const whole = join(dir, 'whole');
    const first = await finished(demo(args(whole)));
    expect(first.code, first.stderr).toBe(0);
    const log = logOf(whole);
    // 2 seeds: icl, oracle and best one pair each; round-0 and round-1 2 self-edits each.
    const evaluations = log.filter((r) => r.kind === 'evaluation');
    const count = (condition: string) => evaluations.filter((r) => r.condition === condition).length;
    expect([count('in-context'), count('round-0'), count('round-1'), count('oracle'), count('best')]).toEqual([2, 4, 4, 2, 2]);
    expect(log.filter((r) => r.kind === 'eval-self-edits')).toHaveLength(4);
    expect(log.filter((r) => r.kind === 'inner-loop')).toHaveLength(2);
    expect(log.some((r) => r.kind === 'm-step')).toBe(true);
    // best ran the table's configuration.
    expect(evaluations.find((r) => r.condition === 'best')?.selfEdit).toBe(formatSelfEdit(CHEAP));

    const summary = JSON.parse(readFileSync(join(whole, 'summary.json'), 'utf8'));
    expect(summary.results.map((r: { label: string }) => r.label)).toEqual(['icl', 'round-0', 'round-1', 'oracle', 'best']);
    for (const r of summary.results) {
      expect(r.perSeed).toHaveLength(2);
      for (const v of r.perSeed) expect(v >= 0 && v <= 1).toBe(true);
    }
    expect(summary.ordering.gaps.map((g: { higher: string; lower: string }) => `${g.higher} − ${g.lower}`)).toEqual([
      'round-0 − icl',
      'round-1 − round-0',
      'best − round-1',
    ]);
    expect(Object.keys(summary.tasksSolved).sort()).toEqual(['best', 'icl', 'oracle', 'round-0', 'round-1']);
    expect(summary.best).toEqual({ source: 'the test', pending: false });
    expect(summary.selfEdits.map((r: { source: string }) => r.source)).toContain('RL round 1: samples of the round-0 policy');
    const report = readFileSync(join(whole, 'results.md'), 'utf8');
    for (const row of ['icl', 'round-0', 'round-1', 'oracle', 'best']) expect(report).toContain(`| ${row} |`);
    expect(report).toContain('| best − round-1 |');
    expect(existsSync(join(whole, 'plot.svg'))).toBe(true);
    for (const f of ['arc-agi_training_challenges.json', 'arc-agi_evaluation_solutions.json', 'arc-world_meta.json']) {
      expect(existsSync(join(whole, 'world', f))).toBe(true);
    }

    // Killed in the ReST-EM round, then re-run: the same log, record for record (but times).
    const killed = join(dir, 'killed');
    const child = demo(args(killed));
    const exit = finished(child);
    await killAfter(child, killed, 14);
    expect((await exit).signal).toBe('SIGKILL');
    const resumed = await finished(demo(args(killed)));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(logOf(killed)).toEqual(log);

    // A finished run re-run prints its results and logs nothing.
    const again = await finished(demo(args(whole)));
    expect(again.code, again.stderr).toBe(0);
    expect(logOf(whole)).toEqual(log);
  });
});
