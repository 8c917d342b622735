// seal knowledge continual: SEAL's continual self-edits experiment (paper §5) — the forgetting matrix, as a
// markdown table and an SVG heatmap, over several sequences; resumable. On any model and SEAL-layout data
// (`--data`, SEAL: squad_val.json), or, with `--world`, on the bundled tiny model's demo world (its
// evaluation people, its prompts, its exact-value grader and its inner-loop recipe).
import { writeFileSync } from 'node:fs';
import { DEMO, WORLD_FORMAT, exactValue, personPassage } from '../demo/demo.ts';
import { readTinyRecord } from '../demo/pretrain.ts';
import { generateWorld } from '../demo/world.ts';
import { PROJECTIONS } from '../model/llama.ts';
import { ContinualRun, type ForgettingMatrix, forgettingSummary, renderForgettingTable } from '../seal/knowledge/continual.ts';
import { type InnerLoopConfig, type KnowledgeFormat, KnowledgeDomain, SEAL_INNER_LOOP, containmentGrader, sealFormat } from '../seal/knowledge/domain.ts';
import type { Grader } from '../seal/knowledge/llm-judge.ts';
import { localJudge } from '../seal/knowledge/local-judge.ts';
import { SELF_EDIT_PROMPT_KINDS } from '../seal/knowledge/self-edit-prompts.ts';
import { type SquadPassage, loadSquadPassages } from '../seal/knowledge/squad-data.ts';
import { openRun } from '../seal/experiment.ts';
import { Policy, type SamplingConfig } from '../seal/policy.ts';
import type { JsonValue, RunDir } from '../seal/run-dir.ts';
import { checkTargets } from '../train/lora.ts';
import { Progress } from '../util/progress.ts';
import { svgHeatmap } from '../util/svg-heatmap.ts';
import { SEED_RANGE, defineCommand } from '../util/flags.ts';

/** SEAL's continual_self_edits.sh settings; with --world the demo's recipe replaces those a flag does not set. */
const SEAL_CONTINUAL = {
  jobs: 8,
  sequences: 8,
  length: 8,
  seed: 42,
  sampling: { temperature: 1, topP: 0.95, maxNewTokens: 1024 } satisfies SamplingConfig,
  inner: SEAL_INNER_LOOP,
};

export const continualCommand = defineCommand({
  name: 'knowledge continual',
  summary:
    "Continual self-edits (the paper's §5): passages applied one after another, each a self-edit + LoRA merged before the next; the forgetting matrix over sequences.",
  usage: 'seal knowledge continual --model <dir> (--data <passages> | --world) --run <dir> [flags]',
  flags: [
    { name: 'model', type: 'string', required: true, help: 'a Hugging Face Llama or Qwen2 folder (SEAL: the last RL checkpoint of Qwen2.5-7B)' },
    { name: 'data', type: 'string', help: 'the pool of passages in SEAL layout [{title, context, questions}] (SEAL: squad_val.json)' },
    {
      name: 'world',
      type: 'boolean',
      default: false,
      help: "use the model folder's demo world (world.json, e.g. weights/seal-tiny): its evaluation people, prompts, exact grader and inner loop",
    },
    { name: 'run', type: 'string', required: true, help: 'run directory; re-running resumes it' },
    { name: 'sequences', type: 'int', min: 1, default: SEAL_CONTINUAL.sequences, help: 'sequences per job (SEAL: 8)' },
    {
      name: 'jobs',
      type: 'int',
      min: 1,
      default: 1,
      help: `jobs, job j drawing its sequences with seed + j (SEAL: ${SEAL_CONTINUAL.jobs}, seeds 42–49); with several, the table is SEAL's average_results.py aggregation (mean of job means ± mean of job stds) and summary.json adds each job's and the pooled statistics`,
    },
    { name: 'length', type: 'int', min: 1, default: SEAL_CONTINUAL.length, help: 'passages per sequence (n)' },
    {
      name: 'seed',
      type: 'int',
      ...SEED_RANGE,
      default: SEAL_CONTINUAL.seed,
      help: "random.seed of job 0's passage draw (SEAL: 42; job j: seed + j), and the root of its other seeds",
    },
    { name: 'prompt', type: 'string', default: 'implications', choices: SELF_EDIT_PROMPT_KINDS, help: 'self-edit prompt (SEAL data only)' },
    {
      name: 'temperature',
      type: 'number',
      min: 0,
      help: `self-edit sampling temperature (default ${SEAL_CONTINUAL.sampling.temperature}; the world's ${DEMO.restEm.sampling.temperature} with --world)`,
    },
    {
      name: 'top-p',
      type: 'number',
      above: 0,
      max: 1,
      help: `self-edit nucleus mass (default ${SEAL_CONTINUAL.sampling.topP}; ${DEMO.restEm.sampling.topP} with --world)`,
    },
    {
      name: 'max-new-tokens',
      type: 'int',
      min: 1,
      help: `self-edit length limit (default ${SEAL_CONTINUAL.sampling.maxNewTokens}, SEAL: 8192; ${DEMO.restEm.sampling.maxNewTokens} with --world)`,
    },
    { name: 'inner-rank', type: 'int', min: 1, help: `inner-loop LoRA rank (default ${SEAL_INNER_LOOP.lora.r}; ${DEMO.inner.lora.r} with --world)` },
    {
      name: 'inner-alpha',
      type: 'number',
      above: 0,
      help: `inner-loop LoRA alpha (default ${SEAL_INNER_LOOP.lora.alpha}; ${DEMO.inner.lora.alpha} with --world)`,
    },
    {
      name: 'inner-targets',
      type: 'list',
      help: `inner-loop LoRA modules, from ${PROJECTIONS.join(',')} (default ${SEAL_INNER_LOOP.lora.targets.join(',')}; all with --world)`,
    },
    { name: 'inner-lr', type: 'number', above: 0, help: `inner-loop learning rate (default ${SEAL_INNER_LOOP.lr}; ${DEMO.inner.lr} with --world)` },
    { name: 'inner-epochs', type: 'number', above: 0, help: `inner-loop epochs (default ${SEAL_INNER_LOOP.epochs}; ${DEMO.inner.epochs} with --world)` },
    {
      name: 'answer-tokens',
      type: 'int',
      min: 1,
      help: `new tokens per answer (default ${SEAL_INNER_LOOP.answerTokens}; ${DEMO.inner.answerTokens} with --world)`,
    },
    { name: 'judge-model', type: 'string', help: "grade with SEAL's yes/no prompt on this local model instead of the deterministic grader (SEAL data only)" },
    { name: 'force', type: 'boolean', default: false, help: "accept a config that differs from the run directory's" },
  ],
  async run(f) {
    if (!!f.data === f.world)
      throw new Error("seal knowledge continual: give exactly one of --data (SEAL-layout passages) and --world (the model folder's demo world)");
    const recipe = f.world ? { sampling: DEMO.restEm.sampling, inner: DEMO.inner } : { sampling: SEAL_CONTINUAL.sampling, inner: SEAL_CONTINUAL.inner };
    const sampling: SamplingConfig = {
      temperature: f.temperature ?? recipe.sampling.temperature,
      topP: f.topP ?? recipe.sampling.topP,
      maxNewTokens: f.maxNewTokens ?? recipe.sampling.maxNewTokens,
    };
    const inner: InnerLoopConfig = {
      ...recipe.inner,
      lora: {
        r: f.innerRank ?? recipe.inner.lora.r,
        alpha: f.innerAlpha ?? recipe.inner.lora.alpha,
        dropout: 0,
        targets: checkTargets(f.innerTargets ?? recipe.inner.lora.targets),
      },
      lr: f.innerLr ?? recipe.inner.lr,
      epochs: f.innerEpochs ?? recipe.inner.epochs,
      answerTokens: f.answerTokens ?? recipe.inner.answerTokens,
    };
    let passages: SquadPassage[];
    let format: KnowledgeFormat;
    let grader: Grader;
    let world: JsonValue = null;
    if (f.data === undefined) {
      const record = readTinyRecord(f.model);
      passages = generateWorld(record.world).eval.map(personPassage);
      format = WORLD_FORMAT;
      grader = exactValue;
      world = { world: record.world, pretraining: record.pretraining, trainedOn: record.trainedOn ?? [] } as unknown as JsonValue;
    } else {
      passages = loadSquadPassages(f.data);
      format = sealFormat(f.prompt);
      grader = f.judgeModel ? await localJudge(f.judgeModel) : containmentGrader;
    }
    // The resolved settings (and the world's identity) are the run's config: a changed recipe or retrained
    // model at the same path is refused rather than mixed into old results.
    const run = openRun(f, {
      command: 'knowledge continual',
      sampling: sampling as unknown as JsonValue,
      inner: inner as unknown as JsonValue,
      world,
    });
    if (!run) return;
    try {
      const policy = await Policy.load(f.model);
      const domain = new KnowledgeDomain(policy.tokenizer, format, inner, grader);
      let bar: Progress | null = null;
      const experiment = new ContinualRun(
        policy,
        domain,
        { passages, sequences: f.sequences, jobs: f.jobs, length: f.length, seed: f.seed, sampling },
        run,
        (dir) => policy.reload(dir),
        {
          progress: (done, total, info) => {
            bar ??= new Progress({ label: 'continual updates', total });
            bar.update(done, info);
          },
        },
      );
      const matrix = await experiment.all();
      (bar as Progress | null)?.done();
      const title = f.world
        ? 'Continual self-edits on the demo world: accuracy on passage j after update i'
        : 'Continual self-edits: accuracy on passage j after update i';
      writeContinualResults(run, matrix, title, { sequences: f.sequences, jobs: f.jobs, model: f.model });
      policy.model.dispose();
    } finally {
      run.close();
    }
  },
});

/** results.md (the table and the summary), forgetting.svg and summary.json; marks the run done. */
export function writeContinualResults(run: RunDir, m: ForgettingMatrix, title: string, info: { sequences: number; jobs?: number; model: string }): void {
  const n = m.mean[0].length;
  const jobs = info.jobs ?? 1;
  const s = forgettingSummary(m);
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const over =
    jobs === 1
      ? `Mean ± sample std over ${info.sequences} sequences of ${n} passages (one job, seed ${m.jobs[0].seed}).`
      : `Mean ± std over ${jobs} jobs (seeds ${m.jobs[0].seed}–${m.jobs[jobs - 1].seed}) of ${info.sequences} sequences of ${n} passages, aggregated as SEAL's average_results.py: the mean of the job means ± the mean of the job sample stds (summary.json also has each job's and the pooled statistics).`;
  const markdown =
    `${renderForgettingTable(m)}\n` +
    `${over} Row "after i": the model after i self-edit updates (each merged before the next), ` +
    `asked the questions of the passages seen so far. Base ${pct(s.base)}; each passage right after its own update ${pct(s.justLearned)}; ` +
    `every passage after all ${n} updates ${pct(s.afterAll)}; forgetting (right after − after all, passages 1 … ${n - 1}) ${pct(s.forgetting)}.\n`;
  writeFileSync(run.path('results.md'), markdown);
  const rows = ['base', ...Array.from({ length: n }, (_, r) => `after ${r + 1}`)];
  const notes = m.std.map((row) => row.map((v) => (v === null ? null : `± ${(100 * v).toFixed(0)}`)));
  writeFileSync(
    run.path('forgetting.svg'),
    svgHeatmap(m.mean, {
      title,
      rowLabels: rows,
      columnLabels: Array.from({ length: n }, (_, j) => `${j + 1}`),
      rowTitle: 'self-edit updates applied',
      columnTitle: 'passage',
      notes,
    }),
  );
  run.writeSummary({
    mean_over_sequences: m.mean,
    std_over_sequences: m.std,
    aggregation:
      m.aggregation === 'one-job'
        ? 'one job: mean and sample std (n - 1) over its sequences, as each SEAL job (continual_self_edits.py)'
        : "SEAL's average_results.py: per cell, the mean of the job means and the mean of the job sample stds",
    jobs: m.jobs.map((j) => ({ seed: j.seed, mean_over_sequences: j.mean, std_over_sequences: j.std })),
    pooled: { mean_over_sequences: m.pooled.mean, std_over_sequences: m.pooled.std, aggregation: 'mean and sample std over every sequence of every job' },
    n_jobs: jobs,
    n_sequences: info.sequences * jobs,
    n_datapoints: n,
    base_model: info.model,
    sequences: m.order,
    ...s,
  } as unknown as JsonValue);
  run.markDone();
  process.stdout.write(`\n${markdown}\ntable: ${run.path('results.md')}  heatmap: ${run.path('forgetting.svg')}  log: ${run.path('log.jsonl')}\n`);
}
