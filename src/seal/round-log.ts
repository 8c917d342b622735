// The bookkeeping of ReST-EM's rounds, kept out of the algorithm (loop.ts): every unit of work is logged
// in the run directory under a stable key before the next begins, so a killed run resumes where it
// stopped — sampled self-edits are reused, finished inner loops are skipped, a finished M-step is reloaded
// from its saved model — and progress is reported as units finish.
//
// Keys: r<round>/<context>/samples, r<round>/<context>/e<j>/s<s> (inner loop of self-edit j under seed s),
// r<round>/<context>/selection, r<round>/m-step.
import type { Demonstration } from './policy.ts';
import { type JsonValue, type RunDir, traceUnitStart } from './run-dir.ts';

/** Where progress goes: phase, units done (fractions while a batch is under way), units in all. */
export type ProgressReport = (what: 'sample' | 'inner-loop' | 'm-step', done: number, total: number, info?: Record<string, string | number>) => void;

/** One inner loop of the E-step: self-edit j of a context, adapted under seed s. */
export interface InnerLoopUnit<C> {
  key: string;
  context: C;
  contextId: string;
  /** j: which of the context's self-edits. */
  selfEditIndex: number;
  /** s: which of the reward's seeds. */
  seedIndex: number;
  selfEdit: string;
  /** The inner loop's own seed (derived from the run seed and the unit's coordinates). */
  seed: number;
}

export interface UnitResult {
  score: number;
  details?: JsonValue;
}

/** Seeds derived from the run seed and a unit's coordinates, so each unit is reproducible on its own. */
export function unitSeed(...parts: (number | string)[]): number {
  let h = 2166136261;
  for (const ch of parts.join('/')) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return h;
}

export class RoundLog<C> {
  constructor(
    private readonly run: RunDir,
    private readonly id: (context: C) => string,
    private readonly config: { samples: number; seeds: number; seed: number },
    private readonly progress: ProgressReport = () => {},
  ) {}

  /** Rounds whose M-step an earlier process finished, and the policy folder the last one wrote. */
  finishedRounds(maxRounds: number): { rounds: number; policyDir: string | null } {
    let rounds = 0;
    while (rounds < maxRounds && this.run.has(`r${rounds + 1}/m-step`)) rounds++;
    return { rounds, policyDir: rounds > 0 ? this.run.get(`r${rounds}/m-step`, 'm-step')!.model : null };
  }

  /**
   * Each context's self-edits: logged ones reused, the others drawn by `draw`, `perDraw` contexts at a time
   * (all at once by default: one batch), each draw logged before the next begins.
   */
  async selfEdits(
    round: number,
    contexts: C[],
    prompt: (c: C) => string | null,
    draw: (todo: { context: C; seed: number }[]) => Promise<{ texts: string[]; details?: JsonValue }[]>,
    perDraw = contexts.length,
  ): Promise<Map<C, string[]>> {
    const key = (c: C) => `r${round}/${this.id(c)}/samples`;
    const todo = contexts.filter((c) => !this.run.has(key(c)));
    let done = contexts.length - todo.length;
    if (todo.length) this.progress('sample', done, contexts.length);
    const step = Math.max(1, perDraw);
    for (let b = 0; b < todo.length; b += step) {
      const batch = todo.slice(b, b + step);
      traceUnitStart(batch.map(key));
      const started = performance.now();
      const drawn = await draw(batch.map((context) => ({ context, seed: unitSeed(this.config.seed, round, this.id(context), 'samples') })));
      const seconds = (performance.now() - started) / 1000 / batch.length;
      batch.forEach((c, i) => {
        this.run.log({
          kind: 'self-edits',
          key: key(c),
          round,
          context: this.id(c),
          prompt: prompt(c),
          texts: drawn[i].texts,
          details: drawn[i].details ?? null,
          seconds,
        });
        this.progress('sample', ++done, contexts.length);
      });
    }
    return new Map(contexts.map((c) => [c, this.run.get(key(c), 'self-edits')!.texts]));
  }

  /**
   * The reward of every self-edit: the mean score of its inner loops over the seeds. Inner loops not logged
   * yet run through `evaluate` (which reports progress as fractions of its units) and are logged as they
   * come back.
   */
  async rewards(
    round: number,
    selfEdits: Map<C, string[]>,
    evaluate: (
      units: InnerLoopUnit<C>[],
      onResults: (done: InnerLoopUnit<C>[], results: UnitResult[], seconds: number) => void,
      onProgress: (units: number) => void,
    ) => Promise<void>,
  ): Promise<Map<C, number[]>> {
    const { seeds } = this.config;
    const units: InnerLoopUnit<C>[] = [];
    for (const [context, texts] of selfEdits) {
      const contextId = this.id(context);
      texts.forEach((selfEdit, j) => {
        for (let s = 0; s < seeds; s++) {
          units.push({
            key: `r${round}/${contextId}/e${j}/s${s}`,
            context,
            contextId,
            selfEditIndex: j,
            seedIndex: s,
            selfEdit,
            seed: unitSeed(this.config.seed, round, contextId, j, s),
          });
        }
      });
    }
    const pending = units.filter((u) => !this.run.has(u.key));
    let finished = units.length - pending.length;
    if (pending.length) {
      this.progress('inner-loop', finished, units.length);
      await evaluate(
        pending,
        (done, results, seconds) => {
          // A chunk's units are logged together: a resumed run forms the same chunks again.
          this.run.logMany(
            done.map((u, i) => ({
              kind: 'inner-loop',
              key: u.key,
              round,
              context: u.contextId,
              selfEdit: u.selfEditIndex,
              seed: u.seedIndex,
              score: results[i].score,
              details: results[i].details ?? null,
              seconds,
            })),
          );
          finished += done.length;
          this.progress('inner-loop', finished, units.length, { context: done[done.length - 1].contextId });
        },
        (partial) => this.progress('inner-loop', finished + partial, units.length),
      );
    }
    const score = (u: InnerLoopUnit<C>) => this.run.get(u.key, 'inner-loop')!.score;
    return new Map(
      [...selfEdits].map(([context, texts]) => {
        const own = units.filter((u) => u.context === context);
        return [context, texts.map((_, j) => mean(own.filter((u) => u.selfEditIndex === j).map(score)))];
      }),
    );
  }

  /** Logs which self-edits of a context the M-step imitates (once). */
  selection(round: number, context: C, rewards: number[], kept: number[]): void {
    const key = `r${round}/${this.id(context)}/selection`;
    if (!this.run.has(key)) this.run.log({ kind: 'selection', key, round, context: this.id(context), rewards, kept });
  }

  /** The round's M-step: `imitate` writes the next policy to the folder it is given; logged with its losses. */
  async mStep(round: number, demos: Demonstration[], currentPolicyDir: string, imitate: (dir: string) => Promise<number[]>): Promise<void> {
    const dir = this.run.path('models', `round-${round}`);
    traceUnitStart([`r${round}/m-step`]);
    const started = performance.now();
    const losses = demos.length > 0 ? await imitate(dir) : [];
    this.run.log({
      kind: 'm-step',
      key: `r${round}/m-step`,
      round,
      model: demos.length > 0 ? dir : currentPolicyDir,
      examples: demos.length,
      losses,
      seconds: (performance.now() - started) / 1000,
    });
  }
}

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
