// `npm run demo -- arc`: SEAL's few-shot ARC experiment (the paper's Table 1) in miniature, on a tiny model
// and the generated grid world (arc-world.ts, notes/arc-world.md), through the real ARC path (ArcRun and
// ArcDomain, src/seal/arc/) — the conditions, each scored over seeds:
//
//   icl      the model answers from the demonstrations alone (no test-time training)
//   round-0  test-time training (TTT) on the self-edits the untrained policy writes, k per task
//   round-R  the same after R ReST-EM rounds on the training tasks (R = 1 or 2)
//   oracle   TTT with the paper's Oracle configuration (every tool, loss on the output tokens) at the demo's
//            learning rate and epochs, scaled to the tiny model (ARC_DEMO.oracle: demo settings, not the
//            paper's 1e-4 × 2)
//   best     TTT with a fixed configuration per task family: the per-task best configuration, from a table
//            (--best <file>; without one, pendingBestTable(), a placeholder until the design phase's measured
//            table lands in notes/arc-demo.md)
//
// The world: `trainTasks` tasks of the training families (ReST-EM's tasks) and `evalTasks` fresh tasks of the
// evaluation families (by default heldOutSplit(): compositions no training task has), written in SEAL's
// task files under <run>/world/ and read back from them, so the run consumes what `seal arc run` would. The
// evaluation tasks are never seen in training (another split of the world).
//
// The report (results.md, summary.json, plot.svg in <run>): SEAL's metric (the share of (task, self-edit)
// pairs whose adapted model solves the task), tasks solved, the ordering icl < round-0 < round-R ≤ best
// paired within seed (ordering.ts: a gap holds when its mean > 2 × the std of its per-seed values), and the
// self-edits' parse rate and choices per family round by round (arc-report.ts). Killed, it resumes.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECTIONS } from '../model/llama.ts';
import { loadArcTasks } from '../seal/arc/arc-data.ts';
import { ARC_DOMAIN_DEFAULTS, type ArcDomainOptions, ArcDomain } from '../seal/arc/domain.ts';
import { ArcRun } from '../seal/arc/run.ts';
import { ORACLE_SELF_EDIT, type SelfEditConfig, formatSelfEdit, parseSelfEdit } from '../seal/arc/self-edit.ts';
import { ALL_TOOLS } from '../seal/arc/tools.ts';
import { type ArcCondition, roundCondition } from '../seal/condition.ts';
import { progressUi, writeResults } from '../seal/experiment.ts';
import { type ImitationConfig, Policy } from '../seal/policy.ts';
import { type JsonValue, RunDir } from '../seal/run-dir.ts';
import { init, shutdown } from '../tensor/index.ts';
import { SEED_RANGE, defineCommand } from '../util/flags.ts';
import { demoLabel, selfEditRows, selfEditTable, taskAccuracy, tasksSolved, tasksSolvedTable } from './arc-report.ts';
import { ALL_FAMILIES, type ArcWorldOptions, generateArcWorld, heldOutSplit, parseFamily, writeArcWorld } from './arc-world.ts';
import { arcOrderingPairs, gapPower, gapTable, pairedGaps } from './ordering.ts';

/** The command that makes the tiny ARC model (src/demo/arc-pretrain.ts). */
export const ARC_MODEL_COMMAND = 'npm run pretrain-tiny -- arc';

export type ArcDemoSplit = 'model' | 'held-out' | 'iid';

export interface ArcDemoConfig {
  model: string;
  run: string;
  world: {
    seed: number;
    /**
     * model: the families, sides and density the model was pretrained on (its pretraining.json), new tasks;
     * held-out: training and evaluation families of heldOutSplit(); iid: every family in both splits.
     */
    split: ArcDemoSplit;
    /** ReST-EM's tasks (every round trains on all of them, as the paper's 11). */
    trainTasks: number;
    evalTasks: number;
  };
  rounds: number;
  /** Self-edits sampled per training task in a round. */
  samples: number;
  /** k: self-edits the policy writes per evaluation task (the paper: 5). */
  evalSelfEdits: number;
  evalSeeds: number;
  /** The oracle's configuration: the paper's tools and strategy, the demo's learning rate and epochs. */
  oracle: SelfEditConfig;
  /**
   * The per-family table of `best` (a JSON file, BestTableFile); null: the model folder's best-table.json
   * (measured on that model by scripts/arc-config-table.ts), else the placeholder (pendingBestTable).
   */
  bestTable: string | null;
  domain: ArcDomainOptions;
  mstep: ImitationConfig;
  seed: number;
}

// Every value below is a demo setting for the tiny model (weights/seal-tiny-arc), sized so that a cold run
// fits 15 minutes on two CPU cores (notes/arc-demo.md): only the tools, the strategy and the TTT plan (LoRA
// r 128, α 16, batch 2, cosine, ≤ 375 steps; ttt-plan.ts) are SEAL's.
export const ARC_DEMO: ArcDemoConfig = {
  model: join(import.meta.dirname, '..', '..', 'weights', 'seal-tiny-arc'),
  run: join(import.meta.dirname, '..', '..', 'runs', 'demo-arc'),
  // The model's pretraining world must use another seed (or other families): the evaluation tasks are then
  // fresh draws it never saw. Five tasks: one a family of the model's world.
  world: { seed: 24, split: 'model', trainTasks: 5, evalTasks: 5 },
  rounds: 1,
  samples: 4,
  // One self-edit per task and seed: an inner loop costs 2–30 s here, and the seeds carry the ordering.
  evalSelfEdits: 1,
  evalSeeds: 3,
  // The paper's Oracle TTT (every tool, loss on the output tokens) at lr 1e-2 for 2 epochs, its best row on
  // this model (notes/arc-demo.md): the paper's 1e-4 moves a tiny model's LoRA (α/r = 16/128) little.
  oracle: { ...ORACLE_SELF_EDIT, tools: ALL_TOOLS, learningRate: 1e-2, epochs: 2 },
  bestTable: null,
  domain: {
    ...ARC_DOMAIN_DEFAULTS,
    // The tiny model's grids are 3×3 inputs; an output, augmented by the size tools, at most 6×12 cells:
    // 72 cell tokens and 13 of punctuation (arc-tokenizer.ts: one token a cell).
    answerTokens: 96,
    // SEAL's temperature; formatSelfEdit's JSON is 20–25 tokens of the ARC tokenizer (its keys are pieces).
    sampling: { temperature: ARC_DOMAIN_DEFAULTS.sampling.temperature, topP: 1, maxNewTokens: 48 },
    // SEAL keeps up to 250 augmented tasks a self-edit; a tiny model on two CPU cores can afford 8: epochs × 4
    // optimiser steps of batch 2. At 16 (the prototype's cap) a self-edit with every tool and 4 epochs took
    // close to a minute, and the demo's untrained policy turns most tools on.
    maxTttExamples: 8,
  },
  mstep: {
    lora: { r: 16, alpha: 32, dropout: 0, targets: [...PROJECTIONS] },
    lr: 1e-3,
    epochs: 4,
    batchSize: 4,
    gradAccum: 1,
    schedule: 'cosine',
    warmupSteps: 0,
    maxGradNorm: 1,
    seed: 0,
  },
  seed: 0,
};

// ---------------------------------------------------------------- the per-family table of `best`

/**
 * A `best` table as a file: `{"source": "<what measured it>", "families": {"<family>" | "*": <self-edit in
 * SEAL's JSON layout, as formatSelfEdit writes it>}}`. A task takes its family's entry, else "*".
 */
export interface BestTableFile {
  source: string;
  pending?: boolean;
  families: Record<string, unknown>;
}

export interface BestTable {
  source: string;
  /** True for the placeholder: the report says `best` is not measured yet. */
  pending: boolean;
  families: Record<string, SelfEditConfig>;
}

/**
 * PLACEHOLDER, pending the measured table (notes/arc-demo.md): every family gets the run's oracle
 * configuration, so until the design phase measures a configuration per family, `best` is the oracle under
 * other seeds and says nothing about per-task choices.
 */
export function pendingBestTable(oracle: SelfEditConfig): BestTable {
  return {
    source: 'PLACEHOLDER: the oracle configuration for every family, pending the measured per-family table (notes/arc-demo.md)',
    pending: true,
    families: { '*': oracle },
  };
}

/** Reads and checks a `best` table: every key a family of the world or "*", every entry a valid self-edit. */
export function readBestTable(path: string): BestTable {
  let file: BestTableFile;
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as BestTableFile;
  } catch (e) {
    throw new Error(`--best ${path}: ${(e as Error).message}`);
  }
  if (typeof file !== 'object' || file === null || typeof file.families !== 'object' || file.families === null || Array.isArray(file.families)) {
    throw new Error(`--best ${path}: expected {"source": "...", "families": {"<family>": <self-edit>, "*": <self-edit>}}`);
  }
  const families: Record<string, SelfEditConfig> = {};
  for (const [family, entry] of Object.entries(file.families)) {
    if (family !== '*') {
      try {
        parseFamily(family);
      } catch (e) {
        throw new Error(`--best ${path}: ${(e as Error).message}`);
      }
    }
    const parsed = parseSelfEdit(JSON.stringify(entry));
    if (!parsed.parsed || parsed.fallbacks.length) throw new Error(`--best ${path}: the self-edit of ${family} is not valid: ${parsed.fallbacks.join('; ')}`);
    families[family] = parsed.config;
  }
  return { source: typeof file.source === 'string' ? file.source : path, pending: file.pending === true, families };
}

/** The run's `best` table: the one given, else the model's own (best-table.json beside its weights), else the placeholder. */
export function bestTableOf(c: Pick<ArcDemoConfig, 'bestTable' | 'model' | 'oracle'>): BestTable {
  const own = join(c.model, 'best-table.json');
  const path = c.bestTable ?? (existsSync(own) ? own : null);
  return path ? readBestTable(path) : pendingBestTable(c.oracle);
}

/** The table's configuration for a family: its own entry, else "*". */
export function bestFor(table: BestTable, family: string): SelfEditConfig {
  const config = table.families[family] ?? table.families['*'];
  if (!config) throw new Error(`the best table (${table.source}) has no entry for family ${family} and no "*" entry`);
  return config;
}

// ---------------------------------------------------------------- the run

/** Refuses a missing model folder, naming it and the command that makes it. */
export function checkModel(dir: string): void {
  if (!existsSync(join(dir, 'config.json'))) {
    throw new Error(
      `no model at ${dir}: the ARC demo runs on the tiny ARC model, which \`${ARC_MODEL_COMMAND}\` makes, ` + 'or give another with --model <folder>',
    );
  }
}

/** A hash of the model folder's files (config, weights, tokenizer): part of the run's identity, so a retrained folder is refused. */
export function modelFingerprint(dir: string): string {
  const hash = createHash('sha256');
  const files = readdirSync(dir)
    .filter((f) => f === 'config.json' || f.endsWith('.safetensors') || f.startsWith('tokenizer'))
    .sort();
  for (const f of files)
    hash
      .update(f)
      .update('\0')
      .update(readFileSync(join(dir, f)));
  return hash.digest('hex');
}

/** The world's families (and grid sizes) for the run's split: the model's own pretraining world's, or a catalogue split. */
export function worldShape(c: Pick<ArcDemoConfig, 'model' | 'world'>): Omit<ArcWorldOptions, 'seed' | 'trainTasks' | 'evalTasks'> {
  if (c.world.split === 'held-out') return { families: heldOutSplit() };
  if (c.world.split === 'iid') return { families: [...ALL_FAMILIES] };
  const record = join(c.model, 'pretraining.json');
  if (!existsSync(record)) {
    throw new Error(
      `--split model: ${record} is missing (the ARC model's pretraining record, written by \`${ARC_MODEL_COMMAND}\`); give --split held-out or iid`,
    );
  }
  const { families, minSide, maxSide, density } = (JSON.parse(readFileSync(record, 'utf8')) as { recipe: { world: ArcWorldOptions } }).recipe.world;
  return { families, minSide, maxSide, density };
}

/** The conditions in the report's order: icl, round-0 … round-R, oracle, best. */
export function arcDemoConditions(rounds: number): ArcCondition[] {
  return [{ kind: 'in-context' }, ...Array.from({ length: rounds + 1 }, (_, r) => roundCondition(r)), { kind: 'oracle' }, { kind: 'best' }];
}

export async function runArcDemo(c: ArcDemoConfig): Promise<void> {
  checkModel(c.model);
  const table = bestTableOf(c);
  const world = generateArcWorld({ seed: c.world.seed, trainTasks: c.world.trainTasks, evalTasks: c.world.evalTasks, ...worldShape(c) });
  const familyOf = (task: string) => world.meta.tasks[task].family;
  const best = Object.fromEntries(world.eval.map((t) => [t.id, bestFor(table, familyOf(t.id))]));
  const conditions = arcDemoConditions(c.rounds);
  const run = RunDir.open(c.run, {
    demo: 'arc',
    config: c as unknown as JsonValue,
    model: { fingerprint: modelFingerprint(c.model) },
    best: { source: table.source, pending: table.pending, perTask: best as unknown as JsonValue },
  });
  try {
    if (run.isDone()) {
      process.stdout.write(readFileSync(run.path('results.md'), 'utf8'));
      return;
    }
    // The run reads the tasks back from SEAL's files, as `seal arc run --challenges … --train-challenges …` would.
    const files = await writeArcWorld(world, run.path('world'));
    const trainTasks = loadArcTasks(files.trainChallenges, files.trainSolutions);
    const evalTasks = loadArcTasks(files.evalChallenges, files.evalSolutions);
    const policy = await Policy.load(c.model);
    const domain = new ArcDomain(policy.tokenizer, c.domain);
    const ui = progressUi();
    const experiment = new ArcRun(
      policy,
      domain,
      {
        trainTasks,
        evalTasks,
        conditions,
        oracle: c.oracle,
        bestSelfEdit: (task) => best[task.id],
        evalSelfEdits: c.evalSelfEdits,
        evalSeeds: c.evalSeeds,
        restEm: { rounds: c.rounds, samples: c.samples, seeds: 1, sampling: c.domain.sampling, imitation: c.mstep, seed: c.seed },
      },
      run,
      ui,
      (dir) => policy.reload(dir),
    );
    const results = (await experiment.all()).map((r) => ({ ...r, label: demoLabel(r.label) }));
    ui.finish();
    const perSeed = Object.fromEntries(results.map((r) => [r.label, r.perSeed]));
    const gaps = gapPower(pairedGaps(perSeed, arcOrderingPairs(c.rounds)), taskAccuracy(run));
    const solved = tasksSolved(
      run,
      evalTasks.map((t) => t.id),
      c.evalSeeds,
    );
    const selfEdits = selfEditRows(run, familyOf);
    const evalFamilies = [...new Set(evalTasks.map((t) => familyOf(t.id)))];
    const lines = [
      '',
      `success rate: SEAL's metric, the share of (task, self-edit) pairs whose adapted model solves its task; ${evalTasks.length} evaluation`,
      `tasks (${evalFamilies.length} families: ${evalFamilies.join(', ')}) × ${c.evalSelfEdits} self-edits a round's policy writes, one`,
      `pair a task for icl, oracle and best; ${c.evalSeeds} seeds. ReST-EM: ${c.rounds} round(s) on ${trainTasks.length} training tasks, ${c.samples} samples each.`,
      '',
      `oracle: every tool, loss on the output tokens, lr ${c.oracle.learningRate}, ${c.oracle.epochs} epoch(s): the paper's Oracle TTT with the demo's`,
      "learning rate and epochs for a tiny model (the paper's: 1e-4, 2).",
      `best: a fixed configuration per family, from ${table.source}.`,
      ...(table.pending
        ? ["**best is a placeholder**: its table is pending the design phase's measurement, so its row and the gap to it say nothing yet."]
        : []),
      '',
      "Tasks solved (by at least one of a condition's self-edits):",
      '',
      tasksSolvedTable(
        solved,
        results.map((r) => r.label),
      ),
      'The ordering, paired within seed:',
      '',
      gapTable(gaps, 'task'),
      'Self-edits, round by round (JSON: parses as a JSON object; valid: no SEAL fallback; the tool, strategy, lr and',
      'epoch columns are over the valid ones; solved: their adapted models):',
      '',
      selfEditTable(selfEdits),
    ];
    writeResults(
      run,
      results,
      'success rate',
      'Tiny SEAL, few-shot ARC: tasks solved after test-time training',
      {
        ordering: { gaps, holds: gaps.every((g) => g.holds) } as unknown as JsonValue,
        tasksSolved: solved,
        selfEdits: selfEdits as unknown as JsonValue,
        oracle: JSON.parse(formatSelfEdit(c.oracle)) as JsonValue,
        best: { source: table.source, pending: table.pending },
      },
      lines.join('\n'),
    );
    process.stdout.write(lines.join('\n'));
    policy.model.dispose();
  } finally {
    run.close();
  }
}

// ---------------------------------------------------------------- the command line

/** `npm run demo -- arc [flags]`: the ARC demo at its defaults (ARC_DEMO), or smaller for a quick look. */
export const arcDemoCommand = defineCommand({
  name: 'demo arc',
  invocation: 'npm run demo -- arc',
  summary: "SEAL's few-shot ARC experiment on a tiny model and the generated grid world (resumes when re-run).",
  usage: 'npm run demo -- arc [--model <dir> --run <dir> --eval-tasks <n> ...]',
  flags: [
    { name: 'model', type: 'string', help: 'model folder (default weights/seal-tiny-arc)' },
    { name: 'run', type: 'string', help: 'run directory (default runs/demo-arc)' },
    { name: 'world-seed', type: 'int', ...SEED_RANGE, default: ARC_DEMO.world.seed, help: "seed of the generated world (not the model's pretraining world's)" },
    {
      name: 'split',
      type: 'string',
      choices: ['model', 'held-out', 'iid'] as const,
      default: ARC_DEMO.world.split,
      help: "model: the model's pretraining families, new tasks; held-out: evaluation families are compositions training lacks; iid: every family in both",
    },
    { name: 'train-tasks', type: 'int', min: 1, default: ARC_DEMO.world.trainTasks, help: 'ReST-EM training tasks' },
    { name: 'eval-tasks', type: 'int', min: 1, default: ARC_DEMO.world.evalTasks, help: 'evaluation tasks' },
    { name: 'rounds', type: 'int', min: 1, max: 2, default: ARC_DEMO.rounds, help: 'ReST-EM rounds' },
    { name: 'samples', type: 'int', min: 1, default: ARC_DEMO.samples, help: 'self-edits sampled per training task in a round' },
    { name: 'self-edits', type: 'int', min: 1, default: ARC_DEMO.evalSelfEdits, help: 'k: self-edits the policy writes per evaluation task' },
    { name: 'seeds', type: 'int', min: 2, default: ARC_DEMO.evalSeeds, help: 'seeds of each evaluation (the ordering is paired within seed)' },
    { name: 'oracle-lr', type: 'number', above: 0, default: ARC_DEMO.oracle.learningRate, help: "the oracle's learning rate (demo setting)" },
    { name: 'oracle-epochs', type: 'number', above: 0, default: ARC_DEMO.oracle.epochs, help: "the oracle's epochs (demo setting; may be fractional)" },
    { name: 'best', type: 'string', help: "JSON table of the per-family best self-edit (default: the model folder's best-table.json)" },
    { name: 'temperature', type: 'number', min: 0, default: ARC_DEMO.domain.sampling.temperature, help: 'self-edit sampling temperature' },
    { name: 'max-new-tokens', type: 'int', min: 1, default: ARC_DEMO.domain.sampling.maxNewTokens, help: 'self-edit length limit' },
    { name: 'max-sample-attempts', type: 'int', min: 1, default: ARC_DEMO.domain.maxSampleAttempts, help: 'resampling bound for non-JSON self-edits' },
    { name: 'answer-tokens', type: 'int', min: 1, default: ARC_DEMO.domain.answerTokens, help: 'new tokens per answer (greedy)' },
    { name: 'answer-batch', type: 'int', min: 1, default: ARC_DEMO.domain.answerBatch, help: 'inference queries decoded together' },
    { name: 'ttt-examples', type: 'int', min: 1, default: ARC_DEMO.domain.maxTttExamples ?? 250, help: "cap of each test-time training set (SEAL's: 250)" },
    { name: 'mstep-lr', type: 'number', above: 0, default: ARC_DEMO.mstep.lr, help: 'M-step learning rate' },
    { name: 'mstep-epochs', type: 'number', above: 0, default: ARC_DEMO.mstep.epochs, help: 'M-step epochs' },
    { name: 'seed', type: 'int', ...SEED_RANGE, default: ARC_DEMO.seed, help: 'run seed' },
  ] as const,
  async run(f) {
    const config: ArcDemoConfig = {
      ...ARC_DEMO,
      model: f.model ?? ARC_DEMO.model,
      run: f.run ?? ARC_DEMO.run,
      world: { seed: f.worldSeed, split: f.split, trainTasks: f.trainTasks, evalTasks: f.evalTasks },
      rounds: f.rounds,
      samples: f.samples,
      evalSelfEdits: f.selfEdits,
      evalSeeds: f.seeds,
      oracle: { ...ARC_DEMO.oracle, learningRate: f.oracleLr, epochs: f.oracleEpochs },
      bestTable: f.best ?? null,
      domain: {
        ...ARC_DEMO.domain,
        answerTokens: f.answerTokens,
        answerBatch: f.answerBatch,
        maxSampleAttempts: f.maxSampleAttempts,
        maxTttExamples: f.tttExamples,
        sampling: { ...ARC_DEMO.domain.sampling, temperature: f.temperature, maxNewTokens: f.maxNewTokens },
      },
      mstep: { ...ARC_DEMO.mstep, lr: f.mstepLr, epochs: f.mstepEpochs },
      seed: f.seed,
    };
    checkModel(config.model);
    await init();
    try {
      await runArcDemo(config);
    } finally {
      await shutdown();
    }
  },
});
