// A few-shot ARC experiment, as in the paper's Table 1: the in-context baseline, the oracle configuration,
// and self-edits written by the policy before RL (round-0) and after each ReST-EM round, each scored as the
// success rate over every (evaluation task, self-edit) pair; optionally `best`, a fixed configuration per
// task given by the caller (the per-task best configuration the ARC demo measures per family).
//
// Units (logged, resumable): `eval/<label>/s<s>/<task>` for in-context, oracle and best, and
// `eval/<label>/s<s>/<task>/e<j>` for the j-th self-edit the round's policy wrote for the task.
import { type ArcCondition, formatCondition, policyRound } from '../condition.ts';
import { isArcEvaluation } from '../records.ts';
import { type JsonValue, type RunDir, traceUnitStart } from '../run-dir.ts';
import { type InnerLoopRunner, type LoopEvents, type RestEmConfig, restEm, unitSeed } from '../loop.ts';
import type { Policy } from '../policy.ts';
import type { ArcTask } from './arc-data.ts';
import { type ArcDomain, describeOutcome } from './domain.ts';
import { answerTask } from './episode.ts';
import { ORACLE_SELF_EDIT, type SelfEditConfig, formatSelfEdit, parseSelfEdit } from './self-edit.ts';

export interface ArcRunConfig {
  trainTasks: ArcTask[];
  evalTasks: ArcTask[];
  /** in-context, oracle, best, round-<r> (r ≤ rounds). */
  conditions: ArcCondition[];
  /** The oracle's configuration, the same for every task (default: the paper's, ORACLE_SELF_EDIT). */
  oracle?: SelfEditConfig;
  /** The `best` condition's fixed configuration for each task; required when `best` is a condition. */
  bestSelfEdit?: (task: ArcTask) => SelfEditConfig;
  /** Self-edits sampled per evaluation task (paper: 5). */
  evalSelfEdits: number;
  evalSeeds: number;
  restEm: RestEmConfig;
  /** Where the E-step's inner loops run (default: in this process; a queue's workers: src/seal/queue). */
  innerLoops?: InnerLoopRunner<ArcTask>;
}

export interface ArcConditionResult {
  label: string;
  condition: ArcCondition;
  /** Success rate per seed: solved pairs / all pairs. */
  perSeed: number[];
  pairs: number;
}

export class ArcRun {
  constructor(
    readonly policy: Policy,
    readonly domain: ArcDomain,
    readonly config: ArcRunConfig,
    readonly run: RunDir,
    readonly ui: Partial<Pick<LoopEvents, 'onProgress' | 'log'>> & { evalProgress?(label: string, done: number, total: number): void } = {},
    readonly loadPolicy: (dir: string) => Promise<void> = async () => {
      throw new Error('this run cannot reload a saved policy');
    },
  ) {
    if (config.conditions.some((c) => c.kind === 'best') && !config.bestSelfEdit) {
      throw new Error('condition best needs a fixed self-edit per task (ArcRunConfig.bestSelfEdit); only the ARC demo supplies one');
    }
  }

  async all(): Promise<ArcConditionResult[]> {
    for (const c of this.config.conditions) if ((policyRound(c) ?? 0) === 0) await this.condition(c);
    if (this.config.restEm.rounds > 0) {
      // Every round trains on the same tasks (by default the 10 SEAL rewarded), with fresh self-edits.
      await restEm(this.policy, this.domain, () => this.config.trainTasks, this.config.restEm, this.run, {
        onProgress: this.ui.onProgress,
        log: this.ui.log,
        loadPolicy: this.loadPolicy,
        afterRound: async (round) => {
          for (const c of this.config.conditions) if (policyRound(c) === round) await this.condition(c);
        },
        innerLoops: this.config.innerLoops,
      });
    }
    return this.config.conditions.map((c) => this.result(c));
  }

  async condition(c: ArcCondition): Promise<ArcConditionResult> {
    const label = formatCondition(c);
    const perTask = c.kind === 'round' ? this.config.evalSelfEdits : 1;
    const total = this.config.evalSeeds * this.config.evalTasks.length * perTask;
    let done = 0;
    for (let s = 0; s < this.config.evalSeeds; s++) {
      for (const task of this.config.evalTasks) {
        const seed = unitSeed(this.config.restEm.seed, 'eval', label, s, task.id);
        if (c.kind === 'in-context') {
          await this.run.evaluationUnit(`eval/${label}/s${s}/${task.id}`, async () => {
            const a = await answerTask(task, (q) => this.domain.answer(this.policy, q), { countTokens: this.domain.countTokens, seed });
            return {
              condition: label,
              task: task.id,
              seed: s,
              attempts: a.attempts as unknown as JsonValue,
              droppedAnswers: a.droppedAnswers,
              reward: a.solved ? 1 : 0,
            };
          });
        } else if (c.kind === 'oracle') {
          await this.run.evaluationUnit(`eval/${label}/s${s}/${task.id}`, async () => {
            const o = await this.domain.run(this.policy, task, parseSelfEdit(formatSelfEdit(this.config.oracle ?? ORACLE_SELF_EDIT)), seed);
            return { condition: label, task: task.id, seed: s, ...describeOutcome(o), reward: o.reward };
          });
        } else if (c.kind === 'best') {
          await this.run.evaluationUnit(`eval/${label}/s${s}/${task.id}`, async () => {
            const selfEdit = formatSelfEdit(this.config.bestSelfEdit!(task));
            const o = await this.domain.run(this.policy, task, parseSelfEdit(selfEdit), seed);
            return { condition: label, task: task.id, seed: s, selfEdit, ...describeOutcome(o), reward: o.reward };
          });
        } else {
          const texts = await this.selfEdits(c.round, s, task);
          for (let j = 0; j < texts.length; j++) {
            await this.run.evaluationUnit(`eval/${label}/s${s}/${task.id}/e${j}`, async () => {
              const o = await this.domain.run(this.policy, task, parseSelfEdit(texts[j]), unitSeed(seed, j));
              return { condition: label, task: task.id, seed: s, selfEdit: texts[j], ...describeOutcome(o), reward: o.reward };
            });
            this.ui.evalProgress?.(label, ++done, total);
          }
          continue;
        }
        this.ui.evalProgress?.(label, ++done, total);
      }
    }
    return this.result(c);
  }

  result(c: ArcCondition): ArcConditionResult {
    const label = formatCondition(c);
    const perSeed: number[] = [];
    let pairs = 0;
    for (let s = 0; s < this.config.evalSeeds; s++) {
      const rewards = this.run
        .records('evaluation')
        .filter(isArcEvaluation)
        .filter((r) => r.condition === label && r.seed === s)
        .map((r) => r.reward);
      const expected = this.config.evalTasks.length * (c.kind === 'round' ? this.config.evalSelfEdits : 1);
      if (rewards.length !== expected) throw new Error(`condition ${label} is not finished (seed ${s}: ${rewards.length} of ${expected} evaluations)`);
      perSeed.push(rewards.reduce((a, b) => a + b, 0) / rewards.length);
      pairs += rewards.length;
    }
    return { label, condition: c, perSeed, pairs };
  }

  /** The self-edits the round's policy writes for an evaluation task (sampled once, logged). */
  private async selfEdits(round: number, seed: number, task: ArcTask): Promise<string[]> {
    const label = formatCondition({ kind: 'round', round });
    const key = `eval-self-edits/${label}/s${seed}/${task.id}`;
    if (!this.run.has(key)) {
      let current = 0;
      while (this.run.has(`r${current + 1}/m-step`)) current++;
      if (round !== current) throw new Error(`${label} needs the round-${round} policy, but the policy in memory is round ${current}'s`);
      traceUnitStart([key]);
      const { texts, details } = await this.domain.sampleSelfEdits(
        this.policy,
        task,
        this.config.evalSelfEdits,
        unitSeed(this.config.restEm.seed, label, seed, task.id),
      );
      this.run.log({ kind: 'eval-self-edits', key, condition: label, seed, task: task.id, texts, details });
    }
    return this.run.get(key, 'eval-self-edits')!.texts;
  }
}
