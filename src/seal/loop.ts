// SEAL's outer loop: ReST-EM (Zweiger et al. 2025, Algorithm 1; Singh et al. 2023).
//
//   for round r = 1 … R:
//     E-step:  for each context c of the round:
//                sample M self-edits SE_1 … SE_M ~ policy(· | c)
//                reward(SE_j) = mean over seeds s of  evaluate(adapt(policy, SE_j, s), c)
//              keep the self-edits the domain selects (knowledge: the best one; ARC: every one that solved)
//     M-step:  policy ← merge(policy, LoRA-SFT(policy, {(c, SE) kept}))
//
// The round's contexts are sampled together and their inner loops run side by side, `parallel` at a time
// (a domain's evaluateMany), in this process or as jobs on a queue's workers (src/seal/queue). What is
// done, and resuming a killed run, is the round log's business (round-log.ts); this file is the algorithm.
import { type InnerLoopUnit, type ProgressReport, RoundLog, type UnitResult, mean, unitSeed } from './round-log.ts';
import { type JsonValue, type RunDir, traceUnitStart } from './run-dir.ts';
import type { Demonstration, ImitationConfig, Policy, SamplingConfig } from './policy.ts';

export { type InnerLoopUnit, type UnitResult, unitSeed } from './round-log.ts';

/** What the loop needs to know about a domain (knowledge incorporation, few-shot ARC). */
export interface Domain<C> {
  /** A stable, unique id of a context (used in log keys). */
  id(context: C): string;
  /** The policy's prompt for a context, as token ids. */
  prompt(context: C): number[];
  /** The same prompt as text, for the log. */
  promptText?(context: C): string;
  /** M self-edits for a context (the default samples them; ARC resamples until they parse). */
  sampleSelfEdits?(policy: Policy, context: C, m: number, seed: number): Promise<{ texts: string[]; details?: JsonValue }>;
  /** The inner loop: a fresh adapter fitted to the self-edit with `seed`, then evaluated on the context. */
  evaluate(policy: Policy, context: C, selfEdit: string, seed: number): Promise<UnitResult>;
  /**
   * Several inner loops side by side (each as it would run alone); `onProgress` gets the fraction of them
   * done while they train.
   */
  evaluateMany?(policy: Policy, units: { context: C; selfEdit: string; seed: number }[], onProgress?: (fraction: number) => void): Promise<UnitResult[]>;
  /** Indices of the self-edits the M-step imitates, given their rewards. */
  select(rewards: number[]): number[];
}

export interface RestEmConfig {
  rounds: number;
  /** M: self-edits sampled per context. */
  samples: number;
  /** S: inner-loop seeds per self-edit (the reward is the mean score over them). */
  seeds: number;
  sampling: SamplingConfig;
  imitation: ImitationConfig;
  seed: number;
  /** Inner loops run side by side (domains that support it); 1 runs them one by one. */
  parallel?: number;
}

/**
 * Runs a round's pending inner loops in chunks of `parallel` (each chunk as `evaluateChunk` runs it) and
 * hands every chunk's results to `onResults` as it comes back, in any order; `onProgress` gets the units
 * done so far in chunks still under way.
 */
export type InnerLoopRunner<C> = (
  policy: Policy,
  domain: Domain<C>,
  units: InnerLoopUnit<C>[],
  parallel: number,
  onResults: (done: InnerLoopUnit<C>[], results: UnitResult[], seconds: number) => void,
  onProgress: (units: number) => void,
) => Promise<void>;

export interface LoopEvents<C = unknown> {
  /** As units of work finish (fractions of a batch while it trains): for progress bars. */
  onProgress?: ProgressReport;
  log?(message: string): void;
  /** Loads a saved policy model (resuming after an M-step finished in an earlier process). */
  loadPolicy(dir: string): Promise<void>;
  /** After each round's M-step (evaluation of the new policy, for instance). */
  afterRound?(round: number): Promise<void>;
  /** Where the E-step's inner loops run (default: here, one chunk after another). */
  innerLoops?: InnerLoopRunner<C>;
}

/** SEAL's selection for knowledge incorporation: the best self-edit (first on ties, numpy's argmax), no threshold. */
export const keepBest = (rewards: number[]): number[] => [rewards.reduce((best, r, i) => (r > rewards[best] ? i : best), 0)];

/** The best self-edit only when it beats the mean of the context's samples (a tie teaches nothing). */
export const keepBestAboveMean = (rewards: number[]): number[] => {
  const [best] = keepBest(rewards);
  return rewards[best] > mean(rewards) ? [best] : [];
};

/** SEAL's selection for ARC: every self-edit whose adapted model solved the task. */
export const keepSolved = (rewards: number[]): number[] => rewards.flatMap((r, i) => (r >= 1 ? [i] : []));

export async function restEm<C>(
  policy: Policy,
  domain: Domain<C>,
  contextsOfRound: (round: number) => C[],
  config: RestEmConfig,
  run: RunDir,
  events: LoopEvents<C>,
): Promise<void> {
  const log = new RoundLog(run, (c: C) => domain.id(c), config, events.onProgress);
  // Rounds an earlier process finished: continue from the last one's policy (its evaluation may still be
  // incomplete, so its afterRound runs again and skips what is logged).
  const { rounds: finished, policyDir } = log.finishedRounds(config.rounds);
  if (policyDir) {
    await events.loadPolicy(policyDir);
    await events.afterRound?.(finished);
  }
  for (let round = finished + 1; round <= config.rounds; round++) {
    const contexts = contextsOfRound(round);
    // E-step: sample, reward, select.
    // A domain's own sampler draws one context at a time (each logged as it is drawn); the policy's, all at once.
    const selfEdits = await log.selfEdits(
      round,
      contexts,
      (c) => domain.promptText?.(c) ?? null,
      (todo) => sampleSelfEdits(policy, domain, todo, config),
      domain.sampleSelfEdits ? 1 : contexts.length,
    );
    const runInnerLoops = events.innerLoops ?? innerLoops;
    const rewards = await log.rewards(round, selfEdits, (units, onResults, onProgress) =>
      runInnerLoops(policy, domain, units, config.parallel ?? 1, onResults, onProgress),
    );
    const demos: Demonstration[] = [];
    for (const context of contexts) {
      const kept = domain.select(rewards.get(context)!);
      log.selection(round, context, rewards.get(context)!, kept);
      for (const j of kept) demos.push({ prompt: domain.prompt(context), selfEdit: selfEdits.get(context)![j] });
    }
    events.log?.(`round ${round}: ${demos.length} self-edits kept from ${contexts.length} contexts`);
    if (demos.length === 0) events.log?.(`round ${round}: nothing to imitate; the policy is unchanged`);
    // M-step: imitate the kept self-edits; the merged model is the next round's policy.
    await log.mStep(round, demos, policy.dir, (dir) =>
      policy.imitate(demos, { ...config.imitation, seed: unitSeed(config.seed, round, 'm-step') }, dir, (r) =>
        events.onProgress?.('m-step', r.step, r.totalSteps, { loss: r.loss.toFixed(4) }),
      ),
    );
    await events.afterRound?.(round);
  }
}

/** M self-edits per context: the domain's own sampler, or the policy's, every context's requests at once. */
async function sampleSelfEdits<C>(policy: Policy, domain: Domain<C>, todo: { context: C; seed: number }[], config: RestEmConfig) {
  if (domain.sampleSelfEdits) {
    const out: { texts: string[]; details?: JsonValue }[] = [];
    for (const { context, seed } of todo) out.push(await domain.sampleSelfEdits(policy, context, config.samples, seed));
    return out;
  }
  const M = config.samples;
  const requests = todo.flatMap(({ context, seed }) => Array.from({ length: M }, (_, j) => ({ prompt: domain.prompt(context), seed: unitSeed(seed, j) })));
  const texts = await policy.sample(requests, config.sampling);
  return todo.map((_, i) => ({ texts: texts.slice(i * M, (i + 1) * M) }));
}

/** The inner loops, `parallel` at a time side by side when the domain can (each reported as it returns). */
async function innerLoops<C>(
  policy: Policy,
  domain: Domain<C>,
  units: InnerLoopUnit<C>[],
  parallel: number,
  onResults: (done: InnerLoopUnit<C>[], results: UnitResult[], seconds: number) => void,
  onProgress: (units: number) => void,
): Promise<void> {
  const width = chunkWidth(domain, parallel);
  for (let c = 0; c < units.length; c += width) {
    const chunk = units.slice(c, c + width);
    traceUnitStart(chunk.map((u) => u.key));
    const started = performance.now();
    const results = await evaluateChunk(policy, domain, chunk, width > 1, (f) => onProgress(f * chunk.length));
    onResults(chunk, results, (performance.now() - started) / 1000 / chunk.length);
  }
}

/** Inner loops per chunk: `parallel` for domains that run them side by side, else 1. */
export const chunkWidth = <C>(domain: Domain<C>, parallel: number): number => (domain.evaluateMany ? Math.max(1, parallel) : 1);

/** One chunk of inner loops: side by side (`wide`, the domain's evaluateMany) or the one unit alone. */
export async function evaluateChunk<C>(
  policy: Policy,
  domain: Domain<C>,
  chunk: { context: C; selfEdit: string; seed: number }[],
  wide: boolean,
  onProgress?: (fraction: number) => void,
): Promise<UnitResult[]> {
  return wide ? domain.evaluateMany!(policy, chunk, onProgress) : [await domain.evaluate(policy, chunk[0].context, chunk[0].selfEdit, chunk[0].seed)];
}
