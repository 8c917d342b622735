// What every SEAL experiment shares, whoever drives it (the `seal` commands, the demo): opening the run
// directory, a progress bar per phase, and at the end a results table (markdown), an SVG plot of the score
// per round against the baselines, and the summary. The policy itself loads with Policy.load (policy.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { type Condition, policyRound } from './condition.ts';
import { renderResultsTable, resultRow } from './knowledge/results-table.ts';
import { type JsonValue, RunDir } from './run-dir.ts';
import { onShaderCompiled } from '../tensor/index.ts';
import { Progress, type ProgressOptions } from '../util/progress.ts';
import { svgPlot } from '../util/svg-plot.ts';

/**
 * One progress bar per phase, replaced when the phase changes. Shader compiles show on the current bar, so a
 * first (cold) run, which compiles for up to half a minute before a phase's first unit ends, still moves.
 */
export function progressUi(stream?: ProgressOptions['stream']) {
  let bar: Progress | null = null;
  let label = '';
  let compiled = 0;
  onShaderCompiled(() => {
    compiled++;
    bar?.tick(0, { 'shaders compiled': compiled });
  });
  const show = (name: string, done: number, total: number, fields?: Record<string, string | number>) => {
    if (name !== label || !bar) {
      bar?.done();
      bar = new Progress({ label: name, total, stream });
      label = name;
    }
    bar.update(done, fields);
    if (done >= total) {
      bar.done();
      bar = null;
      label = '';
    }
  };
  const phase = { 'inner-loop': 'E-step inner loops', sample: 'E-step sampling', 'm-step': 'M-step' } as const;
  return {
    onProgress: (what: keyof typeof phase, done: number, total: number, info?: Record<string, string | number>) => {
      // Sampling shows in the log line, not as a bar of its own that would interleave with the inner loops.
      if (what === 'sample') return;
      show(phase[what], done, total, info);
    },
    evalProgress: (condition: string, done: number, total: number) => show(`eval ${condition}`, done, total),
    log: (message: string) => (bar ? bar.log(message) : console.error(message)),
    finish: () => {
      bar?.done();
      onShaderCompiled(null);
    },
  };
}

export interface LabelledResult {
  label: string;
  /** The condition the label names (not written to the summary: its label is). */
  condition: Condition;
  perSeed: number[];
}

/**
 * Writes results.md (the table, then `appendix`), the plot and summary.json, marks the run done (last, so a
 * kill before leaves a run that resumes), and prints the table.
 */
export function writeResults(
  run: RunDir,
  results: LabelledResult[],
  metric: string,
  title: string,
  extra: Record<string, JsonValue> = {},
  appendix = '',
): void {
  const rows = results.map((r) => resultRow(r.label, r.perSeed));
  const markdown = renderResultsTable(rows, { metric, countLabel: 'seeds' });
  writeFileSync(run.path('results.md'), markdown + appendix);
  const rounds = results.filter((r) => r.condition.kind === 'round');
  const row = (label: string) => rows[results.findIndex((r) => r.label === label)];
  const xs = rounds.length ? rounds.map((r) => r.label.replace('-', ' ')) : ['—'];
  const series = [
    ...(rounds.length
      ? [
          {
            name: 'SEAL (the policy writes the self-edit)',
            points: rounds.map((r) => ({ x: r.label.replace('-', ' '), y: row(r.label).mean, error: row(r.label).std })),
          },
        ]
      : []),
    // The baselines: conditions no round's policy writes for (a round's equal-token control is not one).
    ...results
      .filter((r) => policyRound(r.condition) === null)
      .map((b) => ({ name: b.label, points: xs.map((x) => ({ x, y: row(b.label).mean, error: row(b.label).std })) })),
  ];
  writeFileSync(run.path('plot.svg'), svgPlot(series, { title, xLabel: 'policy', yLabel: metric, percent: true }));
  run.writeSummary({
    metric,
    results: results.map(({ condition, ...r }, i) => ({ ...r, mean: rows[i].mean, std: rows[i].std })),
    ...extra,
  } as unknown as JsonValue);
  run.markDone();
  process.stdout.write(`\n${markdown}\nresults: ${run.path('results.md')}  plot: ${run.path('plot.svg')}  log: ${run.path('log.jsonl')}\n`);
}

/** What every experiment's options hold about its run directory (the options object is saved whole as its config). */
export interface RunOptions {
  /** The run directory. */
  run: string;
  /** Accept a config that differs from the run directory's. */
  force: boolean;
  /** Where the E-step's inner loops run (a Redis URL); not part of the saved config. */
  queue?: string;
  /** With `queue`: how long to wait for an unreachable Redis (seconds); not part of the saved config. */
  redisTimeout?: number;
}

/**
 * Opens a SEAL run directory for `options` (saved as its config, minus force, queue and redisTimeout: where the inner
 * loops run changes no result, so a run can resume with or without a queue). A finished run prints its
 * results and gives null: re-running it does nothing.
 */
export function openRun(options: RunOptions, config: Record<string, JsonValue>): RunDir | null {
  const saved: Record<string, JsonValue> = { ...(JSON.parse(JSON.stringify(options)) as Record<string, JsonValue>), ...config };
  delete saved.force;
  delete saved.queue;
  delete saved.redisTimeout;
  const run = RunDir.open(options.run, saved, { force: options.force });
  if (!run.isDone()) return run;
  process.stdout.write(`${run.dir} is finished; its results:\n\n${readFileSync(run.path('results.md'), 'utf8')}`);
  run.close();
  return null;
}
