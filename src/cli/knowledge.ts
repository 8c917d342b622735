// seal knowledge <render|run|eval>: SEAL's knowledge-incorporation domain.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadTokenizer } from '../io/tokenizer.ts';
import { generate } from '../model/generate.ts';
import { loadLlama } from '../model/load.ts';
import { PROJECTIONS } from '../model/llama.ts';
import { CPT_MODES, type CptMode } from '../seal/knowledge/cpt.ts';
import { type InnerLoopConfig, type KnowledgeFormat, SEAL_INNER_LOOP, containmentGrader, sealFormat } from '../seal/knowledge/domain.ts';
import { type Grader, makeLlmJudge } from '../seal/knowledge/llm-judge.ts';
import { KnowledgeRun, type KnowledgeRunConfig } from '../seal/knowledge/run.ts';
import { Policy, stopIdsOf } from '../seal/policy.ts';
import { SELF_EDIT_PROMPT_KINDS, type SelfEditPromptKind } from '../seal/knowledge/self-edit-prompts.ts';
import { loadSelfEditPassages, loadSquadPassages } from '../seal/knowledge/squad-data.ts';
import { buildTrainSequences } from '../seal/knowledge/train-sequences.ts';
import { type RunOptions, openRun, progressUi, writeResults } from '../seal/experiment.ts';
import { InnerLoopQueue } from '../seal/queue/coordinator.ts';
import { knowledgeJobs } from '../seal/queue/domains.ts';
import { checkTargets } from '../train/lora.ts';
import { type Command, type Flag, SEED_RANGE, UsageError } from './args.ts';
import { loraTargets } from './common.ts';

const renderCommand: Command = {
  name: 'knowledge render',
  summary: 'Dry run: print the self-edit prompt for passage I exactly as the model sees it, and the training sequences a completion becomes.',
  usage: 'seal knowledge render --data <file> --index I [--prompt implications] [--completion <file>]',
  gpu: false,
  flags: [
    { name: 'data', type: 'string', required: true, help: "passages in SEAL's layout [{title, context, questions}]" },
    { name: 'index', type: 'int', min: 0, default: 0, help: 'which passage' },
    { name: 'prompt', type: 'string', default: 'implications', choices: SELF_EDIT_PROMPT_KINDS, help: 'self-edit prompt' },
    { name: 'completion', type: 'string', help: 'a text file with a completion to turn into training sequences' },
  ],
  async run(f) {
    const passages = loadSquadPassages(f.data);
    const passage = passages[f.index];
    if (!passage) throw new Error(`${f.data} has ${passages.length} passages; --index ${f.index} is out of range`);
    const format = sealFormat(f.prompt as SelfEditPromptKind);
    process.stdout.write(`=== self-edit prompt (passage ${f.index}: ${passage.title}) ===\n${format.selfEditPrompt(passage)}\n`);
    if (f.completion) {
      const sequences = buildTrainSequences(readFileSync(f.completion, 'utf8'), passage);
      process.stdout.write(`=== ${sequences.length} training sequences ===\n`);
      sequences.forEach((s, i) => process.stdout.write(`--- [${i}] ---\n${s}\n`));
    }
    process.stdout.write(`=== ${passage.questions.length} evaluation prompts ===\n`);
    passage.questions.forEach((q, i) => process.stdout.write(`--- [${i}] gold: ${q.answer} ---\n${format.answerPrompt(passage, q)}\n`));
  },
};

/** Flags shared by `run` and `eval`; every number of the experiment is one, and all go into config.json. */
const experimentFlags: Flag[] = [
  { name: 'model', type: 'string', required: true, help: 'the policy: a Hugging Face Llama or Qwen2 folder (the paper: Qwen2.5-7B)' },
  { name: 'data', type: 'string', help: 'training passages for the RL rounds (SEAL layout)' },
  { name: 'eval-data', type: 'string', required: true, help: 'evaluation passages (SEAL: naive_val.json, first 200)' },
  { name: 'run', type: 'string', required: true, help: 'run directory (config, log, adapters, models, summary); re-running resumes it' },
  { name: 'eval-count', type: 'int', min: 1, default: 200, help: 'evaluation passages (the first N; SEAL: 200, for CPT too)' },
  { name: 'eval-offset', type: 'int', min: 0, default: 0, help: 'skip this many evaluation passages first' },
  { name: 'eval-seeds', type: 'int', min: 1, default: 1, help: 'seeds per condition (mean ± std over them)' },
  { name: 'conditions', type: 'list', help: 'conditions in table order: base, passage, self-edits:<name>, round-<r>, repeated:<c>, cpt:<c>' },
  {
    name: 'self-edits',
    type: 'list',
    default: [],
    help: 'self-edit files to replay, as name=path (e.g. gpt4=../shared/data/squad/self-edits/gpt4_1_val.json)',
  },
  {
    name: 'cpt',
    type: 'string',
    default: 'v1',
    choices: CPT_MODES,
    help: "how cpt:<condition> runs: v1 = SEAL's CPT.sh (5 completions per passage each followed by the passage, LoRA r 32, 3 epochs, batch 8, every question); v2 = the paper's revision (the same corpus, full fine-tune, 1 epoch, lr 7e-5, the 500-question subset)",
  },
  { name: 'rounds', type: 'int', min: 0, default: 2, help: 'ReST-EM rounds' },
  { name: 'passages-per-round', type: 'int', min: 1, default: 50, help: 'fresh training passages per round' },
  { name: 'samples', type: 'int', min: 1, default: 5, help: 'self-edits sampled per passage (M)' },
  { name: 'seeds', type: 'int', min: 1, default: 3, help: 'inner-loop seeds per self-edit (S); the reward is their mean' },
  { name: 'prompt', type: 'string', default: 'implications', choices: SELF_EDIT_PROMPT_KINDS, help: 'self-edit prompt' },
  { name: 'temperature', type: 'number', min: 0, default: 1, help: 'self-edit sampling temperature' },
  { name: 'top-p', type: 'number', above: 0, max: 1, default: 0.95, help: 'self-edit nucleus mass' },
  { name: 'max-new-tokens', type: 'int', min: 1, default: 1024, help: 'self-edit length limit (SEAL: 8192)' },
  { name: 'inner-rank', type: 'int', min: 1, default: SEAL_INNER_LOOP.lora.r, help: 'inner-loop LoRA rank' },
  { name: 'inner-alpha', type: 'number', above: 0, default: SEAL_INNER_LOOP.lora.alpha, help: 'inner-loop LoRA alpha' },
  { name: 'inner-targets', type: 'list', default: SEAL_INNER_LOOP.lora.targets, help: `inner-loop LoRA modules (${PROJECTIONS.join(',')})` },
  { name: 'inner-lr', type: 'number', above: 0, default: SEAL_INNER_LOOP.lr, help: 'inner-loop learning rate (linear decay to 0)' },
  { name: 'inner-epochs', type: 'number', above: 0, default: SEAL_INNER_LOOP.epochs, help: 'inner-loop epochs' },
  { name: 'inner-batch-size', type: 'int', min: 1, default: SEAL_INNER_LOOP.batchSize, help: 'inner-loop batch size' },
  { name: 'answer-tokens', type: 'int', min: 1, default: SEAL_INNER_LOOP.answerTokens, help: 'new tokens per answer (greedy, stop at EOS)' },
  { name: 'mstep-rank', type: 'int', min: 1, default: 64, help: 'M-step LoRA rank' },
  { name: 'mstep-alpha', type: 'number', above: 0, default: 128, help: 'M-step LoRA alpha' },
  { name: 'mstep-targets', type: 'list', default: [...PROJECTIONS], help: 'M-step LoRA modules' },
  { name: 'mstep-lr', type: 'number', above: 0, default: 3e-4, help: 'M-step learning rate' },
  { name: 'mstep-epochs', type: 'number', above: 0, default: 2, help: 'M-step epochs' },
  { name: 'mstep-batch-size', type: 'int', min: 1, default: 2, help: 'M-step micro-batch size' },
  { name: 'mstep-grad-accum', type: 'int', min: 1, default: 5, help: 'M-step micro-batches per step (effective batch 10 as SEAL)' },
  { name: 'judge-model', type: 'string', help: "grade with SEAL's yes/no prompt on this local model instead of the deterministic grader" },
  {
    name: 'parallel',
    type: 'int',
    min: 1,
    default: 1,
    help: 'inner loops run side by side as slots of one stacked adapter (each as it would run alone); 1: one by one',
  },
  {
    name: 'queue',
    type: 'string',
    help: 'run the E-step inner loops as jobs on this Redis (redis://host:port), served by `seal worker`s; default: in this process',
  },
  { name: 'seed', type: 'int', ...SEED_RANGE, default: 0, help: 'run seed (sampling, inner loops, M-step)' },
  { name: 'force', type: 'boolean', default: false, help: "accept a config that differs from the run directory's" },
];

function experimentCommand(name: 'run' | 'eval'): Command {
  return {
    name: `knowledge ${name}`,
    summary:
      name === 'run'
        ? 'The whole experiment: baselines, ReST-EM rounds (E-step, selection, M-step) and SEAL after each round, with a table and an SVG plot.'
        : 'Score conditions only (no RL), e.g. base, passage, self-edits:<name>, cpt:self-edits:<name>, round-0.',
    usage: `seal knowledge ${name} --model <dir> --eval-data <file> --run <dir> [flags]`,
    flags: experimentFlags,
    check(f) {
      const where = `seal knowledge ${name}`;
      loraTargets(f.innerTargets, `${where}: --inner-targets`);
      loraTargets(f.mstepTargets, `${where}: --mstep-targets`);
      for (const spec of f.selfEdits as string[]) {
        if (!selfEditSpec(spec)) throw new UsageError(`${where}: --self-edits takes name=path entries, got "${spec}"`);
      }
      if (name === 'run' && f.rounds > 0 && !f.data) throw new UsageError(`${where}: --data (the training passages) is required for RL rounds`);
    },
    async run(f) {
      await runExperiment(f, name === 'eval' ? 0 : f.rounds);
    },
  };
}

/** A --self-edits entry "name=path" (the path may hold "="); null when either side is empty. */
function selfEditSpec(spec: string): [string, string] | null {
  const i = spec.indexOf('=');
  return i > 0 && i < spec.length - 1 ? [spec.slice(0, i), spec.slice(i + 1)] : null;
}

export const knowledgeCommands: Command[] = [renderCommand, experimentCommand('run'), experimentCommand('eval')];

async function runExperiment(f: Record<string, any>, rounds: number): Promise<void> {
  const selfEditFiles = Object.fromEntries(
    (f.selfEdits as string[]).map((spec) => {
      const [name, path] = selfEditSpec(spec)!; // checked at the door
      return [name, loadSelfEditPassages(path)];
    }),
  );
  const conditions: string[] = f.conditions ?? [
    'base',
    'passage',
    ...Object.keys(selfEditFiles).map((n) => `self-edits:${n}`),
    ...Array.from({ length: rounds + 1 }, (_, r) => `round-${r}`),
  ];
  const run = openRun(f as RunOptions, { command: 'knowledge', rounds, conditions });
  if (!run) return;
  try {
    const policy = await Policy.load(f.model);
    const grader = f.judgeModel ? await localJudge(f.judgeModel) : containmentGrader;
    const inner: InnerLoopConfig = {
      ...SEAL_INNER_LOOP,
      lora: { r: f.innerRank, alpha: f.innerAlpha, dropout: 0, targets: checkTargets(f.innerTargets) },
      lr: f.innerLr,
      epochs: f.innerEpochs,
      batchSize: f.innerBatchSize,
      answerTokens: f.answerTokens,
    };
    const format: KnowledgeFormat = sealFormat(f.prompt);
    const evalPassages = loadSquadPassages(f.evalData).slice(f.evalOffset, f.evalOffset + f.evalCount);
    const cfg: KnowledgeRunConfig = {
      trainPassages: f.data ? loadSquadPassages(f.data) : [],
      evalPassages,
      passagesPerRound: f.passagesPerRound,
      conditions,
      evalSeeds: f.evalSeeds,
      selfEditFiles,
      cpt: f.cpt as CptMode,
      restEm: {
        rounds,
        samples: f.samples,
        seeds: f.seeds,
        sampling: { temperature: f.temperature, topP: f.topP, maxNewTokens: f.maxNewTokens },
        imitation: {
          lora: { r: f.mstepRank, alpha: f.mstepAlpha, dropout: 0, targets: checkTargets(f.mstepTargets) },
          lr: f.mstepLr,
          epochs: f.mstepEpochs,
          batchSize: f.mstepBatchSize,
          gradAccum: f.mstepGradAccum,
          schedule: 'linear',
          warmupSteps: 0,
          maxGradNorm: 1,
          seed: f.seed,
        },
        seed: f.seed,
        parallel: f.parallel,
      },
    };
    const ui = progressUi();
    const queue = f.queue ? await InnerLoopQueue.open(f.queue, { origin: resolve(run.dir), log: ui.log }) : null;
    try {
      cfg.innerLoops = queue?.runner(knowledgeJobs(f.judgeModel ? `judge:${resolve(f.judgeModel)}` : 'containment'));
      const experiment = new KnowledgeRun(policy, format, inner, grader, cfg, run, ui, (dir) => policy.reload(dir));
      const results = await experiment.all();
      ui.finish();
      writeResults(run, results, 'accuracy', 'No-context QA accuracy after adaptation');
    } finally {
      await queue?.close();
    }
    policy.model.dispose();
  } finally {
    run.close();
  }
}

/** SEAL's GPT-4.1 grading prompt, on a local model (its chat template when it has one), greedy. */
export async function localJudge(dir: string): Promise<Grader> {
  const tokenizer = await loadTokenizer(dir);
  const model = await loadLlama(dir);
  const stopIds = stopIdsOf(model, tokenizer);
  return makeLlmJudge({
    formatPrompt: (p) => (tokenizer.hasChatTemplate ? tokenizer.applyChatTemplate([{ role: 'user', content: p }], { addGenerationPrompt: true }) : p),
    generate: async (prompt) => {
      const ids = tokenizer.hasChatTemplate ? tokenizer.encode(prompt, { addBos: false }) : tokenizer.encode(prompt);
      const { tokens } = await generate(model, [ids], { maxNewTokens: 8, stopIds });
      return tokenizer.decode(tokens[0], { skipSpecial: true });
    },
  });
}
