// Continual self-edits (paper §5, "catastrophic forgetting"; SEAL's knowledge-incorporation/src/continual/
// continual_self_edits.py): n passages applied one after another to one model. For each of several
// sequences, drawn from the pool with Python's random.sample from random.seed(seed) as SEAL draws them:
//
//   row 0         the model as it is, asked every passage's questions
//   for k = 0 … n − 1:
//     the current model writes a self-edit for passage k (stripped; empty → the passage itself);
//     a fresh LoRA is fitted to its training sequences (the inner loop);
//     the adapted model answers the questions of passages 0 … k        → row k + 1, columns 0 … k;
//     the adapter is merged into the weights, which the next step starts from.
//
// The forgetting matrix is the mean (and sample std) over sequences of each cell's accuracy. SEAL ran 8
// such jobs (knowledge-incorporation/scripts/continual_self_edits.sh: job j draws with seed 42 + j) and
// averaged them with src/continual/average_results.py: per cell, the mean of the job means and the mean of
// the job sample stds (its compute_pooled_std is never called). With `jobs` J, job j draws its sequences
// with seed + j, exactly as one SEAL job, and the matrix is aggregated as SEAL did (averageJobs). Every unit
// (a sequence's base row, a self-edit, a step) is logged in the run directory; each step's merged model is
// saved, so a killed run resumes from the last finished step (only the latest merged model of a sequence
// is kept, as SEAL deletes the previous one).
import { existsSync, renameSync, rmSync } from 'node:fs';
import { mergeAdapter, saveModel } from '../../train/merge.ts';
import { PyRandom } from '../../util/mt19937.ts';
import { unitSeed } from '../loop.ts';
import type { Policy, SamplingConfig } from '../policy.ts';
import type { RunDir } from '../run-dir.ts';
import type { IndexedPassage, KnowledgeDomain } from './domain.ts';
import { pyStrip } from './python-text.ts';
import { meanStd } from './scoring.ts';
import type { SquadPassage } from './squad-data.ts';

export interface ContinualConfig {
  /** The pool sequences are drawn from (SEAL: squad_val.json). */
  passages: SquadPassage[];
  /** Sequences per job (SEAL: 8). */
  sequences: number;
  /** Jobs, job j drawing its sequences with random.seed(seed + j) (SEAL: 8, seeds 42–49); default 1. */
  jobs?: number;
  /** Passages per sequence, n (SEAL: 8). */
  length: number;
  /** random.seed of job 0's draw (SEAL: 42; job j: seed + j); also the root of the job's sampling and inner-loop seeds. */
  seed: number;
  /** Self-edit sampling (SEAL: T 1.0, top-p 0.95, up to 8,192 tokens). */
  sampling: SamplingConfig;
}

export interface ContinualEvents {
  progress?(done: number, total: number, info: Record<string, string | number>): void;
}

/** (n + 1) × n cells: row 0 the model before any update, row r after update r (columns ≥ r empty, null). */
export type Cells = (number | null)[][];

export interface MatrixStats {
  mean: Cells;
  std: Cells;
}

export interface ForgettingMatrix extends MatrixStats {
  /**
   * How `mean` and `std` aggregate the sequences: one job's mean and sample std over its sequences (as
   * each SEAL job's summary), or, over several jobs, SEAL's average_results.py (mean of the job means, mean
   * of the job sample stds).
   */
  aggregation: 'one-job' | 'seal-average-of-jobs';
  /** Per job: its seed and its mean and sample std over its own sequences. */
  jobs: (MatrixStats & { seed: number })[];
  /** Ours: mean and sample std over all jobs' sequences pooled. */
  pooled: MatrixStats;
  /** Per sequence (job by job), the pool indices of its passages in order. */
  order: number[][];
}

/**
 * SEAL's average_results.py main() (l. 120–126) per cell: the mean over jobs of the job means, and the mean
 * over jobs of the job sample stds; null where the jobs' cells are.
 */
export function averageJobs(jobs: readonly MatrixStats[]): MatrixStats {
  const average = (pick: 'mean' | 'std') =>
    jobs[0][pick].map((row, r) => row.map((cell, j) => (cell === null ? null : jobs.reduce((a, job) => a + (job[pick][r][j] as number), 0) / jobs.length)));
  return { mean: average('mean'), std: average('std') };
}

/** Per cell, the mean and sample std of the values (null for an empty cell). */
function cellStats(cells: number[][][]): MatrixStats {
  const stat = (pick: 'mean' | 'std') => cells.map((row) => row.map((values) => (values.length ? meanStd(values)[pick] : null)));
  return { mean: stat('mean'), std: stat('std') };
}

/** Pool indices of each sequence: random.seed(seed), then random.sample(pool, n) once per sequence. */
export function drawSequences(poolSize: number, sequences: number, length: number, seed: number): number[][] {
  if (length > poolSize) throw new Error(`a sequence of ${length} passages needs a pool of at least that many; the data has ${poolSize}`);
  const rng = PyRandom.seed(seed);
  const indices = [...Array(poolSize).keys()];
  return Array.from({ length: sequences }, () => rng.sample(indices, length));
}

export class ContinualRun {
  readonly order: number[][];

  constructor(
    readonly policy: Policy,
    readonly domain: KnowledgeDomain,
    readonly config: ContinualConfig,
    readonly run: RunDir,
    /** Replaces the policy's weights with a saved folder's (the base before each sequence; resuming). */
    readonly loadPolicy: (dir: string) => Promise<void>,
    readonly events: ContinualEvents = {},
  ) {
    this.order = Array.from({ length: this.jobs }, (_, j) => drawSequences(config.passages.length, config.sequences, config.length, config.seed + j)).flat();
  }

  get jobs(): number {
    return Math.max(1, this.config.jobs ?? 1);
  }

  /** Sequence g's job's seed and its index within the job (job 0: the run's seed and g, as before jobs). */
  private jobOf(g: number): { seed: number; local: number } {
    const job = Math.floor(g / this.config.sequences);
    return { seed: this.config.seed + job, local: g % this.config.sequences };
  }

  /** Runs (or resumes) every sequence and returns the forgetting matrix. */
  async all(): Promise<ForgettingMatrix> {
    const base = this.policy.dir;
    const n = this.config.length;
    const total = this.order.length * (n + 1);
    let done = 0;
    for (let s = 0; s < this.order.length; s++) {
      const finished = this.finishedSteps(s);
      done += finished + (this.run.has(this.key(s, 'base')) ? 1 : 0);
      if (finished === n) continue;
      // Start from the base, or from the merged model of the last finished step.
      const start = finished === 0 ? base : this.run.get(this.key(s, finished - 1), 'continual-step')!.model;
      if (this.policy.dir !== start) await this.loadPolicy(start);
      await this.baseRow(s);
      if (finished === 0) this.events.progress?.(++done, total, { sequence: s, step: 'base' });
      for (let k = finished; k < n; k++) {
        await this.step(s, k);
        this.events.progress?.(++done, total, { sequence: s, step: k + 1 });
      }
      // The sequence's last merged model is not needed any more.
      rmSync(this.run.get(this.key(s, n - 1), 'continual-step')!.model, { recursive: true, force: true });
    }
    if (this.policy.dir !== base) await this.loadPolicy(base);
    return this.matrix();
  }

  /** Row 0 of sequence s: the model before any update, on all n passages. */
  private async baseRow(s: number): Promise<void> {
    const key = this.key(s, 'base');
    if (this.run.has(key)) return;
    const passages = this.order[s].map((i) => this.config.passages[i]);
    const answered = await this.domain.answer(
      this.policy,
      passages.map((p) => [p]),
    );
    this.run.log({
      kind: 'continual-base',
      key,
      sequence: s,
      passages: this.order[s],
      accuracies: answered.map((a) => a.accuracy),
      answers: answered.map((a) => a.answers),
      verdicts: answered.map((a) => a.verdicts),
    });
  }

  /** Step k of sequence s: self-edit passage k, fit, answer passages 0 … k with the adapter, merge, save. */
  private async step(s: number, k: number): Promise<void> {
    const context: IndexedPassage = { index: this.order[s][k], passage: this.config.passages[this.order[s][k]] };
    const selfEditKey = `${this.key(s, k)}/self-edit`;
    if (!this.run.has(selfEditKey)) {
      const started = performance.now();
      const [text] = await this.policy.sample(
        [{ prompt: this.domain.prompt(context), seed: unitSeed(this.jobOf(s).seed, 'continual', this.jobOf(s).local, k, 'self-edit') }],
        this.config.sampling,
      );
      this.run.log({
        kind: 'continual-self-edit',
        key: selfEditKey,
        sequence: s,
        step: k,
        passage: context.index,
        text: pyStrip(text),
        seconds: (performance.now() - started) / 1000,
      });
    }
    const selfEdit = this.run.get(selfEditKey, 'continual-self-edit')!.text;
    const started = performance.now();
    const texts = this.domain.sequences(context, selfEdit);
    const adapter = await this.domain.fitAdapter(this.policy, texts, unitSeed(this.jobOf(s).seed, 'continual', this.jobOf(s).local, k));
    let dir: string;
    try {
      const seen = this.order[s].slice(0, k + 1).map((i) => [this.config.passages[i]]);
      const answered = await this.domain.answer(this.policy, seen);
      mergeAdapter(this.policy.model, adapter);
      // Saved under a temporary name, then renamed: a folder named in the log is always complete.
      dir = this.run.path('models', `s${s}-step${k}`);
      const partial = `${dir}.partial`;
      rmSync(partial, { recursive: true, force: true });
      await saveModel(this.policy.model, partial, this.policy.dir);
      rmSync(dir, { recursive: true, force: true });
      renameSync(partial, dir);
      this.run.log({
        kind: 'continual-step',
        key: this.key(s, k),
        sequence: s,
        step: k,
        passage: context.index,
        trainSequences: texts.length,
        accuracies: answered.map((a) => a.accuracy),
        answers: answered.map((a) => a.answers),
        verdicts: answered.map((a) => a.verdicts),
        model: dir,
        seconds: (performance.now() - started) / 1000,
      });
    } finally {
      adapter.dispose();
    }
    const previous = this.policy.dir;
    this.policy.dir = dir;
    // The previous step's merged model is superseded (never the base, which is not in the run directory).
    if (k > 0 && previous.startsWith(this.run.path('models')) && existsSync(previous)) rmSync(previous, { recursive: true, force: true });
  }

  private finishedSteps(s: number): number {
    let k = 0;
    while (k < this.config.length && this.run.has(this.key(s, k))) k++;
    return k;
  }

  private key(s: number, step: number | 'base'): string {
    return step === 'base' ? `continual/s${s}/base` : `continual/s${s}/step${step}`;
  }

  /**
   * Every cell's statistics (all sequences must be finished): per job, pooled, and as reported: one job's
   * own, or SEAL's average of the jobs.
   */
  matrix(): ForgettingMatrix {
    const n = this.config.length;
    const S = this.config.sequences;
    const empty = () => Array.from({ length: n + 1 }, () => Array.from({ length: n }, (): number[] => []));
    const perJob = Array.from({ length: this.jobs }, empty);
    const all = empty();
    for (let s = 0; s < this.order.length; s++) {
      const cells = perJob[Math.floor(s / S)];
      const push = (r: number, j: number, a: number) => {
        cells[r][j].push(a);
        all[r][j].push(a);
      };
      const base = this.run.get(this.key(s, 'base'), 'continual-base');
      if (!base) throw new Error(`continual sequence ${s} is not finished (no base row)`);
      base.accuracies.forEach((a, j) => push(0, j, a));
      for (let k = 0; k < n; k++) {
        const r = this.run.get(this.key(s, k), 'continual-step');
        if (!r) throw new Error(`continual sequence ${s} is not finished (step ${k})`);
        r.accuracies.forEach((a, j) => push(k + 1, j, a));
      }
    }
    const jobs = perJob.map((cells, j) => ({ seed: this.config.seed + j, ...cellStats(cells) }));
    const reported = jobs.length === 1 ? { mean: jobs[0].mean, std: jobs[0].std } : averageJobs(jobs);
    return { ...reported, aggregation: jobs.length === 1 ? 'one-job' : 'seal-average-of-jobs', jobs, pooled: cellStats(all), order: this.order };
  }
}

/** The matrix as a markdown table: rows "base", "after 1" …, columns "passage 1" …, cells mean ± std %. */
export function renderForgettingTable(m: ForgettingMatrix): string {
  const n = m.mean[0].length;
  const header = `| | ${Array.from({ length: n }, (_, j) => `passage ${j + 1}`).join(' | ')} |`;
  const rule = `| --- | ${Array(n).fill('---:').join(' | ')} |`;
  const rows = m.mean.map((row, r) => {
    const cells = row.map((v, j) => (v === null ? '' : `${(100 * v).toFixed(1)} ± ${(100 * m.std[r][j]!).toFixed(1)}`));
    return `| ${r === 0 ? 'base' : `after ${r}`} | ${cells.join(' | ')} |`;
  });
  return [header, rule, ...rows].join('\n') + '\n';
}

/**
 * Retention summaries: the diagonal (each passage right after its own update), the last row (every
 * passage after all n updates), and their difference averaged over passages 1 … n − 1 (the forgetting).
 */
export function forgettingSummary(m: ForgettingMatrix): { justLearned: number; afterAll: number; forgetting: number; base: number } {
  const n = m.mean[0].length;
  const diagonal = Array.from({ length: n }, (_, j) => m.mean[j + 1][j]!);
  const last = m.mean[n].map((v) => v!);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return {
    base: mean(m.mean[0].map((v) => v!)),
    justLearned: mean(diagonal),
    afterAll: mean(last),
    forgetting: mean(diagonal.slice(0, n - 1).map((d, j) => d - last[j])),
  };
}
