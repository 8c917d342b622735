// `seal knowledge run` and `seal knowledge eval` below the command line: the experiment's options, typed
// and checked once where they come in (cli/knowledge.ts declares them as flags), and the run they drive —
// the conditions before RL, the ReST-EM rounds, the results. Every option is one number or name of the
// experiment, and the options object is saved whole as the run's config.json (run-dir.ts).
import { resolve } from 'node:path';
import { checkTargets } from '../../train/lora.ts';
import { type KnowledgeCondition, formatCondition, roundCondition } from '../condition.ts';
import { type RunOptions, openRun, progressUi, writeResults } from '../experiment.ts';
import { Policy } from '../policy.ts';
import { checkRedis } from '../queue/connection.ts';
import { InnerLoopQueue } from '../queue/coordinator.ts';
import { knowledgeJobs } from '../queue/domains.ts';
import type { CptMode } from './cpt.ts';
import { type InnerLoopConfig, SEAL_INNER_LOOP, containmentGrader, sealFormat } from './domain.ts';
import { localJudge } from './local-judge.ts';
import { type ConditionResult, KnowledgeRun, type KnowledgeRunConfig } from './run.ts';
import type { SelfEditPromptKind } from './self-edit-prompts.ts';
import { type TrainDataOrder, loadSelfEditPassages, loadSquadPassages, loadTrainPassages } from './squad-data.ts';

export interface KnowledgeOptions extends RunOptions {
  /** The policy's model folder. */
  model: string;
  /** Training passages of the RL rounds (needed when there are rounds). */
  data?: string;
  /** Their order before the rounds slice them (squad-data.ts TrainDataOrder; SEAL's shuffle by default). */
  dataOrder: TrainDataOrder;
  evalData: string;
  evalCount: number;
  evalOffset: number;
  evalSeeds: number;
  /** In table order; default base, passage, every self-edits file, round-0 … round-R. */
  conditions?: readonly KnowledgeCondition[];
  /** Self-edit files to replay, as name=path (selfEditSpec). */
  selfEdits: readonly string[];
  cpt: CptMode;
  rounds: number;
  passagesPerRound: number;
  samples: number;
  seeds: number;
  prompt: SelfEditPromptKind;
  temperature: number;
  topP: number;
  maxNewTokens: number;
  innerRank: number;
  innerAlpha: number;
  innerTargets: readonly string[];
  innerLr: number;
  innerEpochs: number;
  innerBatchSize: number;
  /** Per round, the E-step's split_newlines (the last value repeats; SEAL: true, false). */
  eStepSplitNewlines: readonly boolean[];
  answerTokens: number;
  mstepRank: number;
  mstepAlpha: number;
  mstepTargets: readonly string[];
  mstepLr: number;
  mstepEpochs: number;
  mstepBatchSize: number;
  mstepGradAccum: number;
  /** Grade with SEAL's judge prompt on this local model instead of the containment grader. */
  judgeModel?: string;
  parallel: number;
  seed: number;
}

/** A --self-edits entry "name=path" (the path may hold "="); null when either side is empty. */
export function selfEditSpec(spec: string): [name: string, path: string] | null {
  const i = spec.indexOf('=');
  return i > 0 && i < spec.length - 1 ? [spec.slice(0, i), spec.slice(i + 1)] : null;
}

/**
 * Below the table, each cpt:<c> condition's baseline: the unadapted policy on the same questions, micro
 * over them as SEAL's CPT scripts report it (not comparable with the `base` row, a macro over passages).
 */
export function cptBaselineNote(results: readonly ConditionResult[]): string {
  const lines = results.flatMap((r) =>
    r.baseline
      ? [`- ${r.label}: baseline (unadapted, same questions, micro) ${(100 * (r.baseline.reduce((a, b) => a + b, 0) / r.baseline.length)).toFixed(1)} %`]
      : [],
  );
  return lines.length ? `\nContinued pretraining:\n${lines.join('\n')}\n` : '';
}

/** Runs (or resumes) the experiment with `rounds` ReST-EM rounds (0: score the conditions only). */
export async function runKnowledgeExperiment(o: KnowledgeOptions, rounds: number): Promise<void> {
  const selfEditFiles = Object.fromEntries(
    o.selfEdits.map((spec) => {
      const entry = selfEditSpec(spec);
      if (!entry) throw new Error(`--self-edits takes name=path entries, got "${spec}"`);
      return [entry[0], loadSelfEditPassages(entry[1])];
    }),
  );
  const conditions: KnowledgeCondition[] = o.conditions
    ? [...o.conditions]
    : [
        { kind: 'base' },
        { kind: 'passage' },
        ...Object.keys(selfEditFiles).map((name): KnowledgeCondition => ({ kind: 'self-edits', name })),
        ...Array.from({ length: rounds + 1 }, (_, r) => roundCondition(r)),
      ];
  if (o.queue) await checkRedis(o.queue); // a bad --queue fails before the run directory is touched
  const run = openRun(o, { command: 'knowledge', rounds, conditions: conditions.map(formatCondition) });
  if (!run) return;
  try {
    const policy = await Policy.load(o.model);
    const grader = o.judgeModel ? await localJudge(o.judgeModel) : containmentGrader;
    const inner: InnerLoopConfig = {
      ...SEAL_INNER_LOOP,
      lora: { r: o.innerRank, alpha: o.innerAlpha, dropout: 0, targets: checkTargets(o.innerTargets) },
      lr: o.innerLr,
      epochs: o.innerEpochs,
      batchSize: o.innerBatchSize,
      answerTokens: o.answerTokens,
    };
    const evalPassages = loadSquadPassages(o.evalData).slice(o.evalOffset, o.evalOffset + o.evalCount);
    const train = o.data ? loadTrainPassages(o.data, o.dataOrder) : { passages: [], shuffled: false };
    if (o.data && rounds > 0 && o.dataOrder === 'seal' && !train.shuffled) {
      process.stderr.write(`${o.data} is already SEAL's output (its records have completions): its passages are taken in file order, not reshuffled\n`);
    }
    const cfg: KnowledgeRunConfig = {
      trainPassages: train.passages,
      evalPassages,
      passagesPerRound: o.passagesPerRound,
      eStepSplitNewlines: o.eStepSplitNewlines,
      conditions,
      evalSeeds: o.evalSeeds,
      selfEditFiles,
      cpt: o.cpt,
      restEm: {
        rounds,
        samples: o.samples,
        seeds: o.seeds,
        sampling: { temperature: o.temperature, topP: o.topP, maxNewTokens: o.maxNewTokens },
        imitation: {
          lora: { r: o.mstepRank, alpha: o.mstepAlpha, dropout: 0, targets: checkTargets(o.mstepTargets) },
          lr: o.mstepLr,
          epochs: o.mstepEpochs,
          batchSize: o.mstepBatchSize,
          gradAccum: o.mstepGradAccum,
          schedule: 'linear',
          warmupSteps: 0,
          maxGradNorm: 1,
          seed: o.seed,
        },
        seed: o.seed,
        parallel: o.parallel,
      },
    };
    const ui = progressUi();
    const queue = o.queue ? await InnerLoopQueue.open(o.queue, { origin: resolve(run.dir), log: ui.log, redisTimeoutS: o.redisTimeout }) : null;
    try {
      cfg.innerLoops = queue?.runner(knowledgeJobs(o.judgeModel ? `judge:${resolve(o.judgeModel)}` : 'containment'));
      const experiment = new KnowledgeRun(policy, sealFormat(o.prompt), inner, grader, cfg, run, ui, (dir) => policy.reload(dir));
      const results = await experiment.all();
      ui.finish();
      writeResults(run, results, 'accuracy', 'No-context QA accuracy after adaptation', {}, cptBaselineNote(results));
    } finally {
      await queue?.close();
    }
    policy.model.dispose();
  } finally {
    run.close();
  }
}
