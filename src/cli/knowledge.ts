// seal knowledge <render|run|eval>: SEAL's knowledge-incorporation domain. The flags are the experiment's
// options (seal/knowledge/experiment.ts), parsed and checked here; the run is the seal layer's.
import { readFileSync } from 'node:fs';
import { PROJECTIONS } from '../model/llama.ts';
import { parseKnowledgeCondition } from '../seal/condition.ts';
import { CPT_MODES } from '../seal/knowledge/cpt.ts';
import { SEAL_INNER_LOOP, sealFormat } from '../seal/knowledge/domain.ts';
import { runKnowledgeExperiment, selfEditSpec } from '../seal/knowledge/experiment.ts';
import { SELF_EDIT_PROMPT_KINDS } from '../seal/knowledge/self-edit-prompts.ts';
import { TRAIN_DATA_ORDERS, loadSquadPassages } from '../seal/knowledge/squad-data.ts';
import { buildTrainSequences } from '../seal/knowledge/train-sequences.ts';
import { DEFAULT_REDIS_TIMEOUT_S } from '../seal/queue/coordinator.ts';
import { type Command, SEED_RANGE, UsageError, defineCommand, defineFlags } from '../util/flags.ts';
import { loraTargets } from './common.ts';

const renderCommand = defineCommand({
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
    const format = sealFormat(f.prompt);
    process.stdout.write(`=== self-edit prompt (passage ${f.index}: ${passage.title}) ===\n${format.selfEditPrompt(passage)}\n`);
    if (f.completion) {
      const sequences = buildTrainSequences(readFileSync(f.completion, 'utf8'), passage);
      process.stdout.write(`=== ${sequences.length} training sequences ===\n`);
      sequences.forEach((s, i) => process.stdout.write(`--- [${i}] ---\n${s}\n`));
    }
    process.stdout.write(`=== ${passage.questions.length} evaluation prompts ===\n`);
    passage.questions.forEach((q, i) => process.stdout.write(`--- [${i}] gold: ${q.answer} ---\n${format.answerPrompt(passage, q)}\n`));
  },
});

/** A true/false list item. */
function parseSwitch(text: string): boolean {
  if (text !== 'true' && text !== 'false') throw new Error(`takes true or false per round, got "${text}"`);
  return text === 'true';
}

/** Flags shared by `run` and `eval`; every number of the experiment is one, and all go into config.json. */
const experimentFlags = defineFlags([
  { name: 'model', type: 'string', required: true, help: 'the policy: a Hugging Face Llama or Qwen2 folder (the paper: Qwen2.5-7B)' },
  { name: 'data', type: 'string', help: 'training passages for the RL rounds (SEAL layout; SEAL: squad_train.json)' },
  {
    name: 'data-order',
    type: 'string',
    default: 'seal',
    choices: TRAIN_DATA_ORDERS,
    help: "order of the --data passages before each round takes the next --passages-per-round: seal = SEAL's make_squad_data.py, random.seed(42) then random.shuffle of the whole file (a file whose records have completions, e.g. iter0_train.json, is SEAL's output, already shuffled, and kept in file order); file = file order",
  },
  { name: 'eval-data', type: 'string', required: true, help: 'evaluation passages (SEAL: naive_val.json, first 200)' },
  { name: 'run', type: 'string', required: true, help: 'run directory (config, log, adapters, models, summary); re-running resumes it' },
  { name: 'eval-count', type: 'int', min: 1, default: 200, help: 'evaluation passages (the first N; SEAL: 200, for CPT too)' },
  { name: 'eval-offset', type: 'int', min: 0, default: 0, help: 'skip this many evaluation passages first' },
  { name: 'eval-seeds', type: 'int', min: 1, default: 1, help: 'seeds per condition (mean ± std over them)' },
  {
    name: 'conditions',
    type: 'list',
    item: parseKnowledgeCondition,
    help: 'conditions in table order: base, passage, self-edits:<name>, round-<r>, repeated:<c>, cpt:<c>',
  },
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
    help: "how cpt:<condition> runs (docs/cpt.md): v1 = SEAL's CPT.sh (the first 5 completions per passage each followed by the passage, LoRA r 32, 3 epochs, batch 4 × 2, every question); v2 = SEAL's CPT_fullFT.sh (5 completions sampled with seed 43, the passage once per passage, full fine-tune, 1 epoch, lr 7e-5, batch 4 × 2, warmup ratio 0.03, 500 questions drawn with seed 42)",
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
  {
    name: 'e-step-split-newlines',
    type: 'list',
    item: parseSwitch,
    default: ['true', 'false'],
    help: "per round (the last value repeats), whether an E-step inner loop trains on each line of the self-edit as its own sequence (SEAL's --split_newlines): SEAL's round 1 did (results/query_server/train/rank_iter0.json), its round 2 did not (rank_iter1.json); evaluations always do",
  },
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
  {
    name: 'redis-timeout',
    type: 'number',
    above: 0,
    default: DEFAULT_REDIS_TIMEOUT_S,
    help: 'with --queue: seconds to wait for an unreachable Redis before stopping with RedisUnreachableError (the run resumes when re-run)',
  },
  { name: 'force', type: 'boolean', default: false, help: "accept a config that differs from the run directory's" },
]);

function experimentCommand(name: 'run' | 'eval'): Command {
  return defineCommand({
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
      for (const spec of f.selfEdits) {
        if (!selfEditSpec(spec)) throw new UsageError(`${where}: --self-edits takes name=path entries, got "${spec}"`);
      }
      if (name === 'run' && f.rounds > 0 && !f.data) throw new UsageError(`${where}: --data (the training passages) is required for RL rounds`);
    },
    async run(f) {
      await runKnowledgeExperiment(f, name === 'eval' ? 0 : f.rounds);
    },
  });
}

export const knowledgeCommands: Command[] = [renderCommand, experimentCommand('run'), experimentCommand('eval')];
