// SEAL's outer loop: ReST-EM (Zweiger et al. 2025, Algorithm 1; Singh et al. 2023).
//
//   for round r = 1 … R:
//     E-step:  for each context c of the round:
//                sample M self-edits SE_1 … SE_M ~ policy(· | c)
//                reward(SE_j) = mean over seeds s of  evaluate(adapt(policy, SE_j, s), c)
//              keep the self-edits the domain selects (knowledge: the best one; ARC: every one that solved)
//     M-step:  policy ← merge(policy, LoRA-SFT(policy, {(c, SE) kept}))
//
// Every unit of work is logged in the run directory under a stable key before the next begins, so a killed
// run resumes where it stopped: sampled self-edits are reused, finished inner loops are skipped, and a
// finished M-step is reloaded from its saved model.
import type { JsonValue, RunDir } from './run-dir.ts';
import type { Demonstration, ImitationConfig, Policy, SamplingConfig } from './policy.ts';

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
  evaluate(policy: Policy, context: C, selfEdit: string, seed: number): Promise<{ score: number; details?: JsonValue }>;
  /** Several inner loops, `parallel` at a time side by side (each as it would run alone). */
  evaluateMany?(policy: Policy, units: { context: C; selfEdit: string; seed: number }[], parallel: number): Promise<{ score: number; details?: JsonValue }[]>;
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

export interface LoopEvents {
  /** After each unit of work: for progress bars. */
  onProgress?(what: 'sample' | 'inner-loop' | 'm-step', done: number, total: number, info?: Record<string, string | number>): void;
  log?(message: string): void;
  /** Loads a saved policy model (resuming after an M-step finished in an earlier process). */
  loadPolicy(dir: string): Promise<void>;
  /** After each round's M-step (evaluation of the new policy, for instance). */
  afterRound?(round: number): Promise<void>;
}

/** SEAL's selection for knowledge incorporation: the best self-edit (first on ties, numpy's argmax), no threshold. */
export const keepBest = (rewards: number[]): number[] => [rewards.reduce((best, r, i) => (r > rewards[best] ? i : best), 0)];

/** The best self-edit only when it beats the mean of the context's samples (a tie teaches nothing). */
export const keepBestAboveMean = (rewards: number[]): number[] => {
  const mean = rewards.reduce((a, b) => a + b, 0) / Math.max(1, rewards.length);
  const [best] = keepBest(rewards);
  return rewards[best] > mean ? [best] : [];
};

/** SEAL's selection for ARC: every self-edit whose adapted model solved the task. */
export const keepSolved = (rewards: number[]): number[] => rewards.flatMap((r, i) => (r >= 1 ? [i] : []));

/** Seeds derived from the run seed and a unit's coordinates, so each unit is reproducible on its own. */
export function unitSeed(...parts: (number | string)[]): number {
  let h = 2166136261;
  for (const ch of parts.join('/')) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return h;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

export async function restEm<C>(
  policy: Policy,
  domain: Domain<C>,
  contextsOfRound: (round: number) => C[],
  config: RestEmConfig,
  run: RunDir,
  events: LoopEvents,
): Promise<void> {
  // Rounds an earlier process finished: continue from the last one's policy (its evaluation may still be
  // incomplete, so its afterRound runs again and skips what is logged).
  let finishedRounds = 0;
  while (finishedRounds < config.rounds && run.has(`r${finishedRounds + 1}/m-step`)) finishedRounds++;
  if (finishedRounds > 0) {
    await events.loadPolicy(String(run.get(`r${finishedRounds}/m-step`)!.model));
    await events.afterRound?.(finishedRounds);
  }
  for (let round = finishedRounds + 1; round <= config.rounds; round++) {
    const mKey = `r${round}/m-step`;
    const contexts = contextsOfRound(round);
    const demos: Demonstration[] = [];
    const units = contexts.length * config.samples * config.seeds;
    let finished = 0;
    for (const context of contexts) {
      const id = domain.id(context);
      const key = `r${round}/${id}`;
      const selfEdits = await eStepSamples(policy, domain, context, key, round, config, run);
      events.onProgress?.('sample', contexts.indexOf(context) + 1, contexts.length);
      // The inner loops of this context not logged yet: each self-edit under each seed.
      const pending = selfEdits.flatMap((selfEdit, j) =>
        Array.from({ length: config.seeds }, (_, s) => ({ key: `${key}/e${j}/s${s}`, j, s, selfEdit, seed: unitSeed(config.seed, round, id, j, s) })).filter((u) => !run.has(u.key)),
      );
      const parallel = domain.evaluateMany ? Math.max(1, config.parallel ?? 1) : 1;
      finished += selfEdits.length * config.seeds - pending.length;
      for (let c = 0; c < pending.length; c += parallel) {
        const chunk = pending.slice(c, c + parallel);
        const started = performance.now();
        const results =
          parallel > 1
            ? await domain.evaluateMany!(policy, chunk.map((u) => ({ context, selfEdit: u.selfEdit, seed: u.seed })), parallel)
            : [await domain.evaluate(policy, context, chunk[0].selfEdit, chunk[0].seed)];
        const seconds = (performance.now() - started) / 1000 / chunk.length;
        chunk.forEach((u, i) => {
          run.append({ kind: 'inner-loop', key: u.key, round, context: id, selfEdit: u.j, seed: u.s, score: results[i].score, details: results[i].details ?? null, seconds });
        });
        finished += chunk.length;
        events.onProgress?.('inner-loop', finished, units, { context: id });
      }
      const scores = selfEdits.map((_, j) => Array.from({ length: config.seeds }, (_, s) => Number(run.get(`${key}/e${j}/s${s}`)!.score)));
      const rewards = scores.map(mean);
      const kept = domain.select(rewards);
      if (!run.has(`${key}/selection`)) run.append({ kind: 'selection', key: `${key}/selection`, round, context: id, scores, rewards, kept });
      for (const j of kept) demos.push({ prompt: domain.prompt(context), selfEdit: selfEdits[j] });
    }
    events.log?.(`round ${round}: ${demos.length} self-edits kept from ${contexts.length} contexts`);
    const dir = run.path('models', `round-${round}`);
    const started = performance.now();
    let losses: number[] = [];
    if (demos.length > 0) {
      losses = await policy.imitate(demos, { ...config.imitation, seed: unitSeed(config.seed, round, 'm-step') }, dir, (r) =>
        events.onProgress?.('m-step', r.step, r.totalSteps, { loss: r.loss.toFixed(4) }),
      );
    } else {
      events.log?.(`round ${round}: nothing to imitate; the policy is unchanged`);
    }
    run.append({ kind: 'm-step', key: mKey, round, model: demos.length > 0 ? dir : policy.dir, examples: demos.length, losses, seconds: (performance.now() - started) / 1000 });
    await events.afterRound?.(round);
  }
}

async function eStepSamples<C>(policy: Policy, domain: Domain<C>, context: C, key: string, round: number, config: RestEmConfig, run: RunDir): Promise<string[]> {
  const sampleKey = `${key}/samples`;
  if (!run.has(sampleKey)) {
    const seed = unitSeed(config.seed, round, domain.id(context), 'samples');
    const started = performance.now();
    const { texts, details } = domain.sampleSelfEdits
      ? await domain.sampleSelfEdits(policy, context, config.samples, seed)
      : {
          texts: await policy.sample(Array.from({ length: config.samples }, (_, j) => ({ prompt: domain.prompt(context), seed: unitSeed(seed, j) })), config.sampling),
          details: undefined,
        };
    run.append({
      kind: 'self-edits',
      key: sampleKey,
      round,
      context: domain.id(context),
      prompt: domain.promptText?.(context) ?? null,
      texts,
      details: details ?? null,
      seconds: (performance.now() - started) / 1000,
    });
  }
  return run.get(sampleKey)!.texts as string[];
}
