// `npm run demo`: SEAL's knowledge-incorporation loop, whole, on the bundled tiny model (weights/seal-tiny)
// and its fictional world — the paper's Table 2 in miniature, on a laptop's CPU:
//
//   base              the model, no passage
//   passage           fine-tuned on the passage alone
//   round-0           fine-tuned on the passage + implications the model writes itself (before RL)
//   round-R           the same after R ReST-EM rounds on the RL people (the policy writes the implications)
//   repeated:round-R  the passage alone, repeated to as many tokens as round-R's data (equal-token control)
//
// each scored by closed-book QA on held-out people over seeds, the ordering checked pair by pair within
// seed (ordering.ts), plus a report of the self-edits of every round graded against the world (how many
// facts are right, how many name their person: what the reward selects for). The run directory
// (runs/demo) resumes when re-run. `npm run demo -- arc` is the few-shot ARC demo instead (arc-demo.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type InnerLoopConfig, type KnowledgeFormat, contextIndex } from '../seal/knowledge/domain.ts';
import type { Grader } from '../seal/knowledge/llm-judge.ts';
import { KnowledgeRun } from '../seal/knowledge/run.ts';
import { meanStd } from '../seal/knowledge/scoring.ts';
import type { SquadPassage } from '../seal/knowledge/squad-data.ts';
import { type RestEmConfig, keepBest, keepBestAboveMean } from '../seal/loop.ts';
import { type KnowledgeCondition, formatCondition, roundCondition } from '../seal/condition.ts';
import { progressUi, writeResults } from '../seal/experiment.ts';
import { Policy } from '../seal/policy.ts';
import { isPassageEvaluation } from '../seal/records.ts';
import { type JsonValue, RunDir } from '../seal/run-dir.ts';
import { init, shutdown } from '../tensor/index.ts';
import { type Command, defineCommand, runCommandLine } from '../util/flags.ts';
import { PROJECTIONS } from '../model/llama.ts';
import { arcDemoCommand } from './arc-demo.ts';
import { type SelfEditGrade, type SelfEditSummary, gradeSelfEdit, summariseGrades, valueIndex } from './grade-self-edit.ts';
import { gapPower, gapTable, orderingPairs, pairedGaps } from './ordering.ts';
import { implicationsPrompt, parseImplications, questionPrompt } from './prompts.ts';
import { readTinyRecord } from './pretrain.ts';
import { TINY_INNER_LOOP, TINY_REST_EM, TINY_SELF_EDIT_SAMPLING } from './recipe.ts';
import { type PassagePerson, type World, generateWorld, questionsFor } from './world.ts';

export interface DemoConfig {
  model: string;
  run: string;
  /** People sharing one inner-loop adapter (notes/tiny-world.md: the content effect needs several). */
  groupSize: number;
  evalPeople: number;
  rlPeoplePerRound: number;
  rounds: number;
  samples: number;
  seeds: number;
  evalSeeds: number;
  parallel: number;
  inner: InnerLoopConfig;
  restEm: Omit<RestEmConfig, 'rounds' | 'samples' | 'seeds' | 'parallel'>;
}

const ALL = [...PROJECTIONS];

export const DEMO: DemoConfig = {
  model: join(import.meta.dirname, '..', '..', 'weights', 'seal-tiny'),
  run: join(import.meta.dirname, '..', '..', 'runs', 'demo'),
  groupSize: TINY_INNER_LOOP.peoplePerAdapter,
  // Sized to run in 15 minutes cold on 2 CPU cores with lavapipe: every one of the world's 64 held-out
  // people (16 adapters a seed), where the fourth gap of the ordering holds too (at 56 it did not: its
  // 14 adapters a seed were just what it needed); 64 took 13 min 21 s cold and 11 min 31 s warm, 56 took
  // 10 min 42 s cold and 9 min 46 s warm, 28 took 7 min 44 s cold.
  evalPeople: 64,
  rlPeoplePerRound: 12,
  rounds: TINY_REST_EM.rounds,
  samples: TINY_REST_EM.samplesPerPerson,
  seeds: 1,
  evalSeeds: 3,
  // Every inner loop of a condition (16 groups × 3 seeds) or of an E-step (12 people × 4 samples) side by side.
  parallel: 64,
  inner: {
    lora: { r: TINY_INNER_LOOP.loraRank, alpha: TINY_INNER_LOOP.loraAlpha, dropout: 0, targets: [...TINY_INNER_LOOP.loraTargets] },
    lr: TINY_INNER_LOOP.lr,
    epochs: TINY_INNER_LOOP.epochs,
    batchSize: 1,
    tokensPerBatch: TINY_INNER_LOOP.minibatchTokens,
    gradAccum: 1,
    schedule: 'constant',
    warmupSteps: 0,
    maxGradNorm: 0,
    answerTokens: 2,
  },
  restEm: {
    sampling: { temperature: TINY_SELF_EDIT_SAMPLING.temperature, topP: 1, maxNewTokens: TINY_SELF_EDIT_SAMPLING.maxNewTokens },
    imitation: {
      lora: { r: TINY_REST_EM.imitation.loraRank, alpha: TINY_REST_EM.imitation.loraAlpha, dropout: 0, targets: ALL },
      lr: TINY_REST_EM.imitation.lr,
      epochs: TINY_REST_EM.imitation.epochs,
      batchSize: TINY_REST_EM.imitation.batch,
      gradAccum: 1,
      schedule: 'linear',
      warmupSteps: 0,
      maxGradNorm: TINY_REST_EM.imitation.maxGradNorm,
      seed: 0,
    },
    seed: 0,
  },
};

/** The tiny world's prompts: "Passage : … Implications :", one implication per line, the bare question. */
export const WORLD_FORMAT: KnowledgeFormat = {
  selfEditPrompt: (p) => implicationsPrompt(p.context),
  trainSequences: (selfEdit, p) => [...parseImplications(selfEdit).slice(0, TINY_SELF_EDIT_SAMPLING.maxLines), p.context],
  passageSequence: (p) => p.context,
  answerPrompt: (_p, q) => questionPrompt(q.question),
  gradedQuestion: (_p, q) => q.question,
};

/** Exact match: the answer is the value token and nothing else (the value followed by EOS). */
export const exactValue: Grader = async (_question, gold, prediction) => prediction.trim() === gold;

export function personPassage(p: PassagePerson): SquadPassage {
  return { title: p.name, context: p.passage, questions: questionsFor(p).map((q) => ({ question: q.question, answer: q.answer })) };
}

/** Accuracy of each condition's adapters (people sharing one), keyed by seed and the adapter's first person. */
export function adapterAccuracy(run: RunDir): Record<string, Map<string, number>> {
  const people: Record<string, Map<string, number[]>> = {};
  for (const r of run.records('evaluation').filter(isPassageEvaluation)) {
    const key = `${r.seed}/${r.group ? r.group[0] : r.passage}`;
    const byKey = (people[r.condition] ??= new Map());
    const accuracies = byKey.get(key) ?? [];
    accuracies.push(r.accuracy);
    byKey.set(key, accuracies);
  }
  // Every person has the same number of questions, so the mean of their accuracies is the adapter's.
  return Object.fromEntries(Object.entries(people).map(([c, m]) => [c, new Map([...m].map(([k, a]) => [k, meanStd(a).mean]))]));
}

/**
 * The self-edits behind each condition, graded against the world (the second control): how correct they
 * are, and how many are written in the named style — what the reward selects for, round over round — for
 * the evaluation people's self-edits and for the RL people's samples and the ones ReST-EM kept.
 */
export function selfEditReport(run: RunDir, world: World, evalPeople: PassagePerson[], rlPeople: PassagePerson[]): Record<string, SelfEditSummary> {
  const index = valueIndex(world);
  const groups = new Map<string, SelfEditGrade[]>();
  const add = (label: string, g: SelfEditGrade) => groups.set(label, [...(groups.get(label) ?? []), g]);
  for (const r of run.records('eval-self-edit')) add(`${r.condition} (evaluation people)`, gradeSelfEdit(world, evalPeople[r.passage], r.text, index));
  for (const r of run.records('self-edits')) {
    const person = rlPeople[contextIndex(r.context)];
    const kept = run.get(`r${r.round}/${r.context}/selection`, 'selection')?.kept ?? [];
    r.texts.forEach((text, j) => {
      const g = gradeSelfEdit(world, person, text, index);
      add(`RL round ${r.round}: samples of the round-${r.round - 1} policy`, g);
      if (kept.includes(j)) add(`RL round ${r.round}: kept for the M-step`, g);
    });
  }
  return Object.fromEntries([...groups].map(([label, grades]) => [label, summariseGrades(grades)]));
}

function selfEditTable(report: Record<string, SelfEditSummary>): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  return [
    '| self-edits | n | named style | fact lines naming the person | correct facts / fact lines | attributes covered | lines |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...Object.entries(report).map(
      ([k, s]) =>
        `| ${k} | ${s.selfEdits} | ${pct(s.namedSelfEdits)} | ${pct(s.nameCopyRate)} | ${pct(s.precision)} | ${pct(s.coverage)} | ${s.meanLines.toFixed(1)} |`,
    ),
    '',
  ].join('\n');
}

export async function runDemo(c: DemoConfig): Promise<void> {
  const meta = readTinyRecord(c.model);
  const world = generateWorld(meta.world);
  if (world.eval.length < c.evalPeople || world.rl.length < c.rounds * c.rlPeoplePerRound) {
    throw new Error(
      `the world of ${c.model} has ${world.eval.length} evaluation and ${world.rl.length} RL people; the demo needs ${c.evalPeople} and ${c.rounds * c.rlPeoplePerRound}`,
    );
  }
  const evalPeople = world.eval.slice(0, c.evalPeople);
  const rlPeople = world.rl.slice(0, c.rounds * c.rlPeoplePerRound);
  // The equal-token control matches the final round's training tokens: the passage repeated that long.
  const control: KnowledgeCondition = { kind: 'repeated', of: roundCondition(c.rounds) };
  // The rounds between the first and the last are not scored (their inner loops would cost a condition's
  // time each); their self-edits are still sampled, so the report follows the policy round by round.
  const conditions: KnowledgeCondition[] = [
    { kind: 'base' },
    { kind: 'passage' },
    roundCondition(0),
    ...(c.rounds > 0 ? [roundCondition(c.rounds)] : []),
    control,
  ];
  // The model's training record is part of the run's identity: a retrained folder at the same path is
  // refused by the run directory (with the way to start afresh) instead of resumed with stale results.
  const training = { pretraining: meta.pretraining, trainedOn: meta.trainedOn ?? [] } as unknown as JsonValue;
  const run = RunDir.open(c.run, { demo: c as unknown as JsonValue, world: meta.world as unknown as JsonValue, model: training });
  try {
    if (run.isDone()) {
      process.stdout.write(readFileSync(run.path('results.md'), 'utf8'));
      return;
    }
    const policy = await Policy.load(c.model);
    const ui = progressUi();
    const experiment = new KnowledgeRun(
      policy,
      WORLD_FORMAT,
      c.inner,
      exactValue,
      {
        trainPassages: rlPeople.map(personPassage),
        evalPassages: evalPeople.map(personPassage),
        passagesPerRound: c.rlPeoplePerRound,
        groupSize: c.groupSize,
        selection: TINY_REST_EM.keepOnlyImproving ? keepBestAboveMean : keepBest,
        conditions,
        evalSeeds: c.evalSeeds,
        selfEditFiles: {},
        restEm: { ...c.restEm, rounds: c.rounds, samples: c.samples, seeds: c.seeds, parallel: c.parallel },
        selfEditsEveryRound: true,
      },
      run,
      ui,
      (dir) => policy.reload(dir),
    );
    const results = await experiment.all();
    ui.finish();
    const selfEdits = selfEditReport(run, world, evalPeople, rlPeople);
    const gaps = gapPower(
      pairedGaps(Object.fromEntries(results.map((r) => [r.label, r.perSeed])), orderingPairs(c.rounds, formatCondition(control))),
      adapterAccuracy(run),
    );
    const tokens = Object.fromEntries(results.map((r) => [r.label, Math.round(r.trainTokens)]));
    const lines = [
      '',
      `base: no training. passage: the inner loop trains on the passages. round-r: on the passages and the`,
      `implications the round-r policy writes (round-0: the pretrained model's own). ${formatCondition(control)}: on the`,
      `passages repeated to round-${c.rounds}'s token count (the equal-token control).`,
      '',
      'Training tokens per person: ' +
        Object.entries(tokens)
          .map(([k, v]) => `${k} ${v}`)
          .join(', '),
      '',
      'The ordering, paired within seed:',
      '',
      gapTable(gaps),
      'Self-edits, graded against the world (named style: most fact lines name the person, which is what lets',
      'an adapter shared by several people tie a fact to its person):',
      '',
      selfEditTable(selfEdits),
    ];
    writeResults(
      run,
      results,
      'accuracy',
      'Tiny SEAL: closed-book QA accuracy on held-out people',
      {
        ordering: { gaps, holds: gaps.every((g) => g.holds) } as unknown as JsonValue,
        selfEdits: selfEdits as unknown as JsonValue,
        trainTokensPerPerson: tokens,
      },
      lines.join('\n'),
    );
    process.stdout.write(lines.join('\n'));
    policy.model.dispose();
  } finally {
    run.close();
  }
}

/** `npm run demo [-- flags]`: the demo at its defaults (DEMO), or smaller for a quick look. */
export const demoCommand = defineCommand({
  name: 'demo',
  invocation: 'npm run demo --',
  summary: "SEAL's knowledge-incorporation loop on the bundled tiny model and its world (resumes when re-run).",
  usage: 'npm run demo [-- --run <dir> --eval-people <n> ...]   (npm run demo -- arc [--help]: the few-shot ARC demo)',
  flags: [
    { name: 'model', type: 'string', help: 'model folder (default weights/seal-tiny)' },
    { name: 'run', type: 'string', help: 'run directory (default runs/demo)' },
    { name: 'group-size', type: 'int', min: 1, default: DEMO.groupSize, help: 'people sharing one inner-loop adapter' },
    { name: 'eval-people', type: 'int', min: 1, default: DEMO.evalPeople, help: 'held-out people scored per condition' },
    { name: 'rl-people-per-round', type: 'int', min: 1, default: DEMO.rlPeoplePerRound, help: 'people of each ReST-EM round' },
    { name: 'rounds', type: 'int', min: 0, default: DEMO.rounds, help: 'ReST-EM rounds' },
    { name: 'samples', type: 'int', min: 1, default: DEMO.samples, help: 'self-edits sampled per RL person' },
    { name: 'eval-seeds', type: 'int', min: 1, default: DEMO.evalSeeds, help: 'seeds of each evaluation' },
    { name: 'parallel', type: 'int', min: 1, default: DEMO.parallel, help: 'inner loops side by side' },
    { name: 'inner-epochs', type: 'int', min: 1, default: DEMO.inner.epochs, help: 'epochs of each inner loop' },
  ] as const,
  async run(f) {
    const config: DemoConfig = {
      ...DEMO,
      model: f.model ?? DEMO.model,
      run: f.run ?? DEMO.run,
      groupSize: f.groupSize,
      evalPeople: f.evalPeople,
      rlPeoplePerRound: f.rlPeoplePerRound,
      rounds: f.rounds,
      samples: f.samples,
      evalSeeds: f.evalSeeds,
      parallel: f.parallel,
      inner: { ...DEMO.inner, epochs: f.innerEpochs },
    };
    await init();
    try {
      await runDemo(config);
    } finally {
      await shutdown();
    }
  },
});

/** `npm run demo -- <argv>`: a leading `arc` picks the ARC demo (arc-demo.ts), anything else is the knowledge demo's flags. */
export function demoCommandFor(argv: readonly string[]): { command: Command; argv: readonly string[] } {
  return argv[0] === 'arc' ? { command: arcDemoCommand, argv: argv.slice(1) } : { command: demoCommand, argv };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const { command, argv } = demoCommandFor(process.argv.slice(2));
  await runCommandLine(command, argv);
}
