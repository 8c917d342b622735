// seal arc <render|run|eval>: SEAL's few-shot ARC domain.
import { PROJECTIONS } from '../model/llama.ts';
import { ARC_DOMAIN_DEFAULTS } from '../seal/arc/domain.ts';
import { runArcExperiment } from '../seal/arc/experiment.ts';
import { renderArc } from '../seal/arc/render.ts';
import { parseArcCondition } from '../seal/condition.ts';
import { DEFAULT_REDIS_TIMEOUT_S } from '../seal/queue/coordinator.ts';
import { type Command, SEED_RANGE, UsageError, defineCommand, defineFlags } from '../util/flags.ts';
import { loraTargets } from './common.ts';

const renderCommand = defineCommand({
  name: 'arc render',
  summary:
    'Dry run: the policy prompt, the first N test-time training texts a self-edit produces, and the inference queries, as the model sees them (before the chat template).',
  usage: 'seal arc render --challenges <file> --task <id> [--self-edit <json file>] [--limit N]',
  gpu: false,
  flags: [
    { name: 'challenges', type: 'string', required: true, help: 'ARC challenges JSON (ARC Prize layout)' },
    { name: 'task', type: 'string', required: true, help: 'task id' },
    { name: 'self-edit', type: 'string', help: 'a JSON self-edit (default: the oracle configuration)' },
    { name: 'limit', type: 'int', min: 1, default: 3, help: 'training texts to show' },
    { name: 'seed', type: 'int', ...SEED_RANGE, default: 0, help: 'seed of the random tools' },
  ],
  async run(f) {
    process.stdout.write(renderArc({ challengesPath: f.challenges, taskId: f.task, selfEditPath: f.selfEdit, limit: f.limit, seed: f.seed }));
  },
});

const experimentFlags = defineFlags([
  { name: 'model', type: 'string', required: true, help: 'the policy: a Hugging Face Llama or Qwen2 folder (the paper: Llama-3.2-1B-Instruct)' },
  { name: 'challenges', type: 'string', required: true, help: 'evaluation challenges (ARC Prize layout)' },
  { name: 'solutions', type: 'string', required: true, help: 'their solutions' },
  { name: 'tasks', type: 'list', help: "evaluation task ids (default: the paper's 8 where present, else every task in the file)" },
  { name: 'train-challenges', type: 'string', help: 'RL training challenges (default: --challenges)' },
  { name: 'train-solutions', type: 'string', help: 'RL training solutions (default: --solutions)' },
  {
    name: 'train-tasks',
    type: 'list',
    help: "RL training task ids (default: the 10 SEAL's code rewarded, where present, else every task; the paper's 11 add 5bd6f4ac, which SEAL's reward evaluation never scored)",
  },
  { name: 'run', type: 'string', required: true, help: 'run directory (config, log, models, summary); re-running resumes it' },
  { name: 'conditions', type: 'list', item: parseArcCondition, help: 'in-context, oracle, round-<r> (default: all of them)' },
  { name: 'rounds', type: 'int', min: 0, default: 1, help: 'ReST-EM rounds (the paper: 1)' },
  { name: 'samples', type: 'int', min: 1, default: 15, help: 'self-edits sampled per training task' },
  { name: 'eval-self-edits', type: 'int', min: 1, default: 5, help: 'self-edits per evaluation task' },
  { name: 'eval-seeds', type: 'int', min: 1, default: 1, help: 'repetitions of every evaluation (mean ± std over them)' },
  { name: 'temperature', type: 'number', min: 0, default: ARC_DOMAIN_DEFAULTS.sampling.temperature, help: 'self-edit sampling temperature' },
  { name: 'max-new-tokens', type: 'int', min: 1, default: ARC_DOMAIN_DEFAULTS.sampling.maxNewTokens, help: 'self-edit length limit' },
  {
    name: 'max-sample-attempts',
    type: 'int',
    min: 1,
    default: ARC_DOMAIN_DEFAULTS.maxSampleAttempts,
    help: 'resampling bound for self-edits that are not JSON',
  },
  { name: 'answer-tokens', type: 'int', min: 1, default: ARC_DOMAIN_DEFAULTS.answerTokens, help: 'new tokens per answer (greedy)' },
  { name: 'answer-batch', type: 'int', min: 1, default: ARC_DOMAIN_DEFAULTS.answerBatch, help: 'inference queries decoded together' },
  { name: 'mstep-rank', type: 'int', min: 1, default: 16, help: 'M-step LoRA rank' },
  { name: 'mstep-alpha', type: 'number', above: 0, default: 16, help: 'M-step LoRA alpha' },
  {
    name: 'mstep-targets',
    type: 'list',
    default: ['q_proj', 'v_proj', 'gate_proj', 'up_proj', 'down_proj'],
    help: `M-step LoRA modules (${PROJECTIONS.join(',')})`,
  },
  { name: 'mstep-lr', type: 'number', above: 0, default: 5e-5, help: 'M-step learning rate (cosine)' },
  { name: 'mstep-epochs', type: 'number', above: 0, default: 8, help: 'M-step epochs' },
  { name: 'mstep-batch-size', type: 'int', min: 1, default: 5, help: 'M-step batch size' },
  { name: 'seed', type: 'int', ...SEED_RANGE, default: 0, help: 'run seed' },
  {
    name: 'queue',
    type: 'string',
    help: 'run the E-step inner loops as jobs on this Redis (redis://host:port), served by `seal worker`s; default: in this process',
  },
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
    name: `arc ${name}`,
    summary:
      name === 'run'
        ? 'The whole experiment: in-context and oracle baselines, self-edits before RL, ReST-EM rounds, and self-edits after each round.'
        : 'Score conditions only (no RL): in-context, oracle, round-0.',
    usage: `seal arc ${name} --model <dir> --challenges <file> --solutions <file> --run <dir> [flags]`,
    flags: experimentFlags,
    check(f) {
      loraTargets(f.mstepTargets, `seal arc ${name}: --mstep-targets`);
      if (f.conditions?.some((c) => c.kind === 'best')) {
        throw new UsageError(`seal arc ${name}: --conditions: best needs a fixed self-edit per task, which only \`npm run demo -- arc\` supplies`);
      }
    },
    async run(f) {
      await runArcExperiment(f, name === 'eval' ? 0 : f.rounds);
    },
  });
}

export const arcCommands: Command[] = [renderCommand, experimentCommand('run'), experimentCommand('eval')];
