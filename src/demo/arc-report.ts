// What the ARC demo reports beyond the success rate (arc-demo.ts), all read back from the run's log:
//   - tasks solved: per condition and seed, the share of evaluation tasks that at least one of its
//     (task, self-edit) pairs solves (for icl, oracle and best, one pair a task: the same as the success rate);
//   - the self-edits' parse rate: of the texts the policy wrote, how many are JSON objects, how many are
//     valid (no SEAL fallback), and how many non-JSON samples were drawn and resampled before them;
//   - their choices: the share of each tool group, of loss on the output tokens, the median learning rate
//     and the mean epochs, per family of the evaluation tasks round by round, and over the RL samples and
//     the ones ReST-EM kept.
// Labels are the demo's (in-context is "icl"): the log keys keep arc/run.ts's.
import { meanStd } from '../seal/knowledge/scoring.ts';
import { parseSelfEdit } from '../seal/arc/self-edit.ts';
import { isArcEvaluation } from '../seal/records.ts';
import type { RunDir } from '../seal/run-dir.ts';

/** The demo's label of a condition's arc/run.ts label (the paper's "ICL" row). */
export const demoLabel = (label: string): string => (label === 'in-context' ? 'icl' : label);

/** Mean reward per (seed, task), by demo label: the per-task accuracy gapPower measures a gap's spread on. */
export function taskAccuracy(run: RunDir): Record<string, Map<string, number>> {
  const rewards: Record<string, Map<string, number[]>> = {};
  for (const r of run.records('evaluation').filter(isArcEvaluation)) {
    const byKey = (rewards[demoLabel(r.condition)] ??= new Map());
    const key = `${r.seed}/${r.task}`;
    byKey.set(key, [...(byKey.get(key) ?? []), r.reward]);
  }
  return Object.fromEntries(Object.entries(rewards).map(([c, m]) => [c, new Map([...m].map(([k, v]) => [k, meanStd(v).mean]))]));
}

/** Per demo label, per seed: the share of the `tasks` that at least one pair solved. */
export function tasksSolved(run: RunDir, tasks: readonly string[], seeds: number): Record<string, number[]> {
  const solved: Record<string, Set<string>[]> = {};
  for (const r of run.records('evaluation').filter(isArcEvaluation)) {
    const perSeed = (solved[demoLabel(r.condition)] ??= Array.from({ length: seeds }, () => new Set<string>()));
    if (r.reward >= 1) perSeed[r.seed]?.add(r.task);
  }
  return Object.fromEntries(Object.entries(solved).map(([c, perSeed]) => [c, perSeed.map((s) => s.size / tasks.length)]));
}

export interface SelfEditStats {
  /** Texts the policy wrote (after resampling). */
  selfEdits: number;
  /** Of them, JSON objects (SEAL's parse). */
  parsed: number;
  /** Of them, valid: no fallback (every tool a boolean, a known strategy, a learning rate and epochs). */
  valid: number;
  /** Non-JSON samples drawn, and resampled, on the way. */
  resampled: number;
  /** Of the valid ones: the share with each tool group on, and with the loss on the output tokens only. */
  tools: { basic: number; size: number; chain: number; repeat: number };
  outputTokens: number;
  /** Median learning rate and mean epochs of the valid ones (null when none is). */
  medianLr: number | null;
  meanEpochs: number | null;
  /** Share of the self-edits whose adapted model solved its task (null where they were not scored alone). */
  solved: number | null;
}

interface Drawn {
  text: string;
  solved?: number;
}

function stats(drawn: readonly Drawn[], resampled: number): SelfEditStats {
  const parsed = drawn.map((d) => parseSelfEdit(d.text));
  const valid = parsed.filter((p) => p.parsed && p.fallbacks.length === 0).map((p) => p.config);
  const share = (f: (i: number) => boolean) => (valid.length ? valid.filter((_, i) => f(i)).length / valid.length : 0);
  const lrs = valid.map((v) => v.learningRate).sort((a, b) => a - b);
  const scored = drawn.filter((d) => d.solved !== undefined);
  return {
    selfEdits: drawn.length,
    parsed: parsed.filter((p) => p.parsed).length,
    valid: valid.length,
    resampled,
    tools: {
      basic: share((i) => valid[i].tools.basic),
      size: share((i) => valid[i].tools.size),
      chain: share((i) => valid[i].tools.chain),
      repeat: share((i) => valid[i].tools.repeat),
    },
    outputTokens: share((i) => valid[i].strategy === 'train_using_output_tokens'),
    medianLr: lrs.length ? (lrs.length % 2 ? lrs[(lrs.length - 1) / 2] : (lrs[lrs.length / 2 - 1] + lrs[lrs.length / 2]) / 2) : null,
    meanEpochs: valid.length ? valid.reduce((a, v) => a + v.epochs, 0) / valid.length : null,
    solved: scored.length === drawn.length && drawn.length ? scored.reduce((a, d) => a + d.solved!, 0) / drawn.length : null,
  };
}

const unparsed = (details: unknown): number => {
  const n = (details as { unparsedSamples?: unknown } | null)?.unparsedSamples;
  return typeof n === 'number' ? n : 0;
};

export interface SelfEditRow {
  /** Which self-edits: "round-1 policy, evaluation tasks", "RL round 1: samples", "RL round 1: kept". */
  source: string;
  /** A family of the evaluation tasks, or "all". */
  family: string;
  stats: SelfEditStats;
}

/**
 * The self-edits of the run, round by round: the evaluation tasks' (per family and all together, each
 * scored by its own inner loop) and each RL round's samples and kept ones (all training tasks together).
 */
export function selfEditRows(run: RunDir, familyOf: (task: string) => string): SelfEditRow[] {
  const rows: SelfEditRow[] = [];
  const evalBySource = new Map<string, { family: string; drawn: Drawn[]; resampled: number }[]>();
  for (const r of run.records('eval-self-edits')) {
    const drawn = r.texts.map((text, j) => {
      const e = run.get(`eval/${r.condition}/s${r.seed}/${r.task}/e${j}`, 'evaluation');
      return { text, solved: e && isArcEvaluation(e) ? e.reward : undefined };
    });
    const list = evalBySource.get(r.condition) ?? [];
    list.push({ family: familyOf(r.task), drawn, resampled: unparsed(r.details) });
    evalBySource.set(r.condition, list);
  }
  const byRound = [...evalBySource].sort(([a], [b]) => Number(a.slice(6)) - Number(b.slice(6)));
  for (const [condition, list] of byRound) {
    const source = `${condition} policy, evaluation tasks`;
    const families = [...new Set(list.map((l) => l.family))].sort();
    for (const family of families) {
      const of = list.filter((l) => l.family === family);
      rows.push({
        source,
        family,
        stats: stats(
          of.flatMap((l) => l.drawn),
          of.reduce((a, l) => a + l.resampled, 0),
        ),
      });
    }
    rows.push({
      source,
      family: 'all',
      stats: stats(
        list.flatMap((l) => l.drawn),
        list.reduce((a, l) => a + l.resampled, 0),
      ),
    });
  }
  const rl = new Map<number, { samples: Drawn[]; kept: Drawn[]; resampled: number }>();
  for (const r of run.records('self-edits')) {
    const round = rl.get(r.round) ?? { samples: [], kept: [], resampled: 0 };
    const kept = run.get(`r${r.round}/${r.context}/selection`, 'selection')?.kept ?? [];
    r.texts.forEach((text, j) => {
      const e = run.get(`r${r.round}/${r.context}/e${j}/s0`, 'inner-loop');
      const drawn = { text, solved: e?.score };
      round.samples.push(drawn);
      if (kept.includes(j)) round.kept.push(drawn);
    });
    round.resampled += unparsed(r.details);
    rl.set(r.round, round);
  }
  for (const [round, r] of [...rl].sort(([a], [b]) => a - b)) {
    rows.push({ source: `RL round ${round}: samples of the round-${round - 1} policy`, family: 'all', stats: stats(r.samples, r.resampled) });
    rows.push({ source: `RL round ${round}: kept for the M-step`, family: 'all', stats: stats(r.kept, 0) });
  }
  return rows;
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

/** The per-seed tasks-solved shares as markdown. */
export function tasksSolvedTable(solved: Record<string, number[]>, labels: readonly string[]): string {
  const lines = labels
    .filter((l) => solved[l])
    .map((l) => {
      const { mean, std } = meanStd(solved[l]);
      return `| ${l} | ${solved[l].map(pct).join(', ')} | ${pct(mean)} ± ${pct(std)} |`;
    });
  return ['| condition | tasks solved, per seed | mean ± std |', '| --- | --- | ---: |', ...lines, ''].join('\n');
}

/** Parse rate and choices as markdown, one row per (source, family). */
export function selfEditTable(rows: readonly SelfEditRow[]): string {
  const ratio = (a: number, n: number) => (n ? pct(a / n) : '—');
  const lines = rows.map(({ source, family, stats: s }) => {
    const cells = [
      source,
      family,
      String(s.selfEdits),
      ratio(s.parsed, s.selfEdits),
      ratio(s.valid, s.selfEdits),
      String(s.resampled),
      ...(s.valid ? [pct(s.tools.basic), pct(s.tools.size), pct(s.tools.chain), pct(s.tools.repeat), pct(s.outputTokens)] : ['—', '—', '—', '—', '—']),
      s.medianLr === null ? '—' : s.medianLr.toExponential(1),
      s.meanEpochs === null ? '—' : s.meanEpochs.toFixed(1),
      s.solved === null ? '—' : pct(s.solved),
    ];
    return `| ${cells.join(' | ')} |`;
  });
  return [
    '| self-edits | family | n | JSON | valid | non-JSON resampled | basic | size | chain | repeat | output tokens | lr (median) | epochs (mean) | solved |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...lines,
    '',
  ].join('\n');
}
