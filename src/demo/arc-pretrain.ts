// Pretraining the tiny ARC model with this engine (`npm run pretrain-tiny -- arc`): a fresh Llama on the
// grid world's training tasks, in the exact text the `seal arc` path writes (SEAL's few-shot chat, its
// policy prompt), saved as an ordinary Hugging Face folder with the ARC tokenizer (arc-tokenizer.ts).
//
// What the PyTorch prototype found (notes/arc-tiny-recipe.md), and so what the recipe does:
//  - A tiny model does not learn to copy cells from the input grid out of world tasks alone: it settles on
//    the all-background answer (sparse grids) or on the colour statistics (dense ones). A first phase of
//    identity tasks (every output is its input) teaches copying in a few hundred steps; the second phase
//    keeps a tenth of those among the world's tasks.
//  - Dense 3×3 grids (60–90 % coloured) take the all-background minimum away, and one input size puts a
//    cell and its image at a fixed distance in the text.
//  - Geometric families (flips, rotations, transpose) stayed at chance in every run and budget tried, both in
//    context and after test-time training; colour maps and tilings are learnt. The world keeps those.
//  - Loss on the output tokens only: the demonstrations' outputs and the answer.
//  - Policy documents: the self-edit prompt followed by a JSON configuration drawn at random from a menu,
//    so the untrained policy writes valid self-edits with varied choices; which choice suits which task
//    is left for ReST-EM to learn.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomically } from '../io/atomic-write.ts';
import { type Tokenizer, loadTokenizer } from '../io/tokenizer.ts';
import { generate } from '../model/generate.ts';
import type { Llama } from '../model/llama.ts';
import { loadLlama } from '../model/load.ts';
import type { ArcTask } from '../seal/arc/arc-data.ts';
import { ARC_SELF_EDIT_SAMPLING } from '../seal/arc/domain.ts';
import { formatAnswer } from '../seal/arc/grid-text.ts';
import { type ChatMessage, fewShotConversation, fewShotQuery } from '../seal/arc/messages.ts';
import { policyPromptMessages } from '../seal/arc/policy-prompt.ts';
import { type SelfEditConfig, TRAINING_STRATEGIES, formatSelfEdit, parseSelfEdit } from '../seal/arc/self-edit.ts';
import { init, shutdown } from '../tensor/index.ts';
import { saveModel } from '../train/merge.ts';
import { defineCommand } from '../util/flags.ts';
import { Rng } from '../util/random.ts';
import { writeArcTokenizerFiles } from './arc-tokenizer.ts';
import { type ArcWorldOptions, generateArcWorld } from './arc-world.ts';
import { type DocumentKind, type PackedRow, type PretrainDocument, packedBatches } from './pretrain-mix.ts';
import { type TinyRecipe, initialModel, pretrainLr, tinyLlamaConfig, train } from './pretrain.ts';

export interface ArcTinyPhase {
  steps: number;
  /** Share of training tasks turned into identity tasks (every output replaced by its input). */
  identityShare: number;
  /** Policy documents per task document. */
  policyShare: number;
}

/** The knowledge recipe's packing, schedule and optimiser fields, with the ARC model's world, shape and phases. */
export type ArcTinyRecipe = Pick<
  TinyRecipe,
  'rowLength' | 'batchRows' | 'lr' | 'warmupFraction' | 'minLrRatio' | 'betas' | 'weightDecay' | 'maxGradNorm' | 'seed'
> & {
  world: ArcWorldOptions;
  model: { hidden: number; layers: number; heads: number; intermediate: number; maxPositions: number };
  /** Each phase has its own warmup and cosine over its steps, at the recipe's lr. */
  phases: ArcTinyPhase[];
  /** The menu the policy documents draw their learning rates and epochs from. */
  selfEditMenu: { learningRates: number[]; epochs: number[] };
};

export const ARC_TINY_FAMILIES = ['colour-map', 'tile-1x2', 'tile-2x1', 'colour-map+tile-1x2', 'colour-map+tile-2x1'];

export const ARC_TINY_RECIPE: ArcTinyRecipe = {
  // Seed 101: the demo's world (seed 24) draws other tasks, never seen in pretraining.
  world: { seed: 101, trainTasks: 20_000, evalTasks: 0, families: ARC_TINY_FAMILIES, minSide: 3, maxSide: 3, density: { min: 0.6, max: 0.9 } },
  model: { hidden: 128, layers: 4, heads: 4, intermediate: 384, maxPositions: 1024 },
  phases: [
    // Copying emerged after ~300 identity steps in the prototype (m12). In the world phase the prototype's
    // in-context exact on training families was 14 % at 500 steps, 17 % at 1,000 and 20 % at 2,000 (m16):
    // 1,000 steps keep the engine's pretraining under half an hour on two cores; after them the engine's model
    // solved 0 / 32 in context, so a second cosine of 1,000 world steps follows (2,000 in all, as m16).
    { steps: 400, identityShare: 1, policyShare: 0 },
    { steps: 1000, identityShare: 0.1, policyShare: 0.1 },
    { steps: 1000, identityShare: 0.1, policyShare: 0.1 },
  ],
  rowLength: 513,
  batchRows: 2,
  lr: 3e-3,
  warmupFraction: 0.05,
  minLrRatio: 0.1,
  betas: [0.9, 0.95],
  weightDecay: 0.1,
  maxGradNorm: 1,
  seed: 0,
  selfEditMenu: { learningRates: [3e-3, 1e-2, 3e-2, 1e-1], epochs: [1, 2, 3, 4] },
};

/** The task with every output (demonstrations and test) replaced by its input. */
export function identityTask(task: ArcTask): ArcTask {
  return {
    id: task.id,
    train: task.train.map((p) => ({ input: p.input, output: p.input })),
    test: task.test.map((t) => ({ input: t.input, output: t.input })),
  };
}

/**
 * Token ids of a chat and which of them are targets: the tokens of each demonstration output (after ` -> `
 * through `#`) and the assistant's turn through its <eot>.
 */
export function chatDocument(tok: Tokenizer, messages: readonly ChatMessage[], kind: DocumentKind): PretrainDocument {
  const ids = tok.encodeChat(messages as ChatMessage[]);
  const [arrow, end, assistant, eot] = [' -> ', '#', '<assistant>', '<eot>'].map((t) => tok.tokenToId(t) as number);
  const loss = new Uint8Array(ids.length);
  let inOutput = false;
  let inAnswer = false;
  ids.forEach((id, j) => {
    if (inAnswer || (inOutput && id !== eot)) loss[j] = 1;
    if (id === arrow) inOutput = true;
    else if (id === end || id === eot) inOutput = false;
    if (id === assistant) inAnswer = true;
    else if (id === eot) inAnswer = false;
  });
  return { kind, ids, loss };
}

/** A self-edit drawn uniformly from the menu: each tool group on or off, a strategy, an lr, epochs. */
export function randomSelfEdit(rng: Rng, menu: ArcTinyRecipe['selfEditMenu']): SelfEditConfig {
  return {
    tools: { basic: rng.uniform() < 0.5, size: rng.uniform() < 0.5, chain: rng.uniform() < 0.5, repeat: rng.uniform() < 0.5 },
    strategy: rng.pick(TRAINING_STRATEGIES),
    learningRate: rng.pick(menu.learningRates),
    epochs: rng.pick(menu.epochs),
  };
}

const wholeTask = (task: ArcTask) => ({ demonstrations: task.train, test: { input: task.test[0].input, output: task.test[0].output! } });

/** One pass over the training tasks for a phase, shuffled: task, identity and policy documents. */
export function arcPretrainingPass(
  tasks: readonly ArcTask[],
  tok: Tokenizer,
  rng: Rng,
  phase: ArcTinyPhase,
  menu: ArcTinyRecipe['selfEditMenu'],
): PretrainDocument[] {
  const docs: PretrainDocument[] = [];
  for (const task of tasks) {
    const copy = rng.uniform() < phase.identityShare;
    docs.push(chatDocument(tok, fewShotConversation(wholeTask(copy ? identityTask(task) : task)), copy ? 'arc-identity' : 'arc-task'));
    if (rng.uniform() < phase.policyShare) {
      const messages = [...policyPromptMessages(task), { role: 'assistant' as const, content: formatSelfEdit(randomSelfEdit(rng, menu)) }];
      docs.push(chatDocument(tok, messages, 'arc-policy'));
    }
  }
  return rng.shuffle(docs);
}

/** An endless seeded stream of batches of packed rows for a phase (documents never split, attention within each). */
export function arcPretrainingBatches(
  tasks: readonly ArcTask[],
  tok: Tokenizer,
  recipe: ArcTinyRecipe,
  phase: ArcTinyPhase,
  seed: number,
): Generator<PackedRow[]> {
  const rng = new Rng(seed);
  return packedBatches(() => arcPretrainingPass(tasks, tok, rng, phase, recipe.selfEditMenu), recipe.rowLength, recipe.batchRows, tok.padId ?? 0);
}

/** The training tasks of the recipe's world and the tokenizer files written into `dir`, loaded back. */
export async function arcWorldAndTokenizer(recipe: ArcTinyRecipe, dir: string) {
  const world = generateArcWorld(recipe.world);
  await writeArcTokenizerFiles(dir, recipe.model.maxPositions);
  return { world, tok: await loadTokenizer(dir) };
}

// ---------------------------------------------------------------- gauges

export interface ArcGauges {
  /** Greedy answers exactly right, in context, on fresh tasks of the recipe's families. */
  iclExact: number;
  /** Sampled self-edits (SEAL's temperature) that parse with no fallback. */
  policyParse: number;
  /** Distinct configurations among the sampled self-edits. */
  policyDistinct: number;
  tasks: number;
}

/** The two gauges: in-context exact match on `n` fresh tasks, and the policy's parse rate on their prompts. */
export async function arcGauges(model: Llama, tok: Tokenizer, recipe: ArcTinyRecipe, n = 32): Promise<ArcGauges> {
  const tasks = generateArcWorld({ ...recipe.world, seed: recipe.world.seed + 1, trainTasks: n }).train;
  const eot = tok.tokenToId('<eot>') as number;
  const queries = tasks.map((t) => tok.encodeChat(fewShotQuery(wholeTask(t)), { addGenerationPrompt: true }));
  const answers = await generate(model, queries, { maxNewTokens: 64, stopIds: [eot] });
  const right = tasks.filter((t, i) => tok.decode(answers.tokens[i], { skipSpecial: true }) === formatAnswer(t.test[0].output!)).length;
  const prompts = tasks.map((t) => tok.encodeChat(policyPromptMessages(t), { addGenerationPrompt: true }));
  const { temperature, topP } = ARC_SELF_EDIT_SAMPLING;
  const samples = await generate(model, prompts, { maxNewTokens: 64, stopIds: [eot], temperature, topP, seed: recipe.seed });
  const parsed = samples.tokens.map((ids) => parseSelfEdit(tok.decode(ids, { skipSpecial: true })));
  const valid = parsed.filter((p) => p.parsed && p.fallbacks.length === 0);
  return {
    iclExact: right / n,
    policyParse: valid.length / n,
    policyDistinct: new Set(valid.map((p) => JSON.stringify(p.config))).size,
    tasks: n,
  };
}

// ---------------------------------------------------------------- the command's work

export interface ArcPhaseReport {
  steps: number;
  tokens: number;
  seconds: number;
  finalLoss: number;
  gauges: ArcGauges;
}

/**
 * The phases `dir` already holds: its pretraining.json's recipe is `recipe` but for the phases, and its phases
 * are the first of `recipe`'s. Each phase has a fresh optimiser and schedule, so training the rest from there
 * is the same run as training every phase from scratch. Another record is refused, naming what differs.
 */
export function completedPhases(recipe: ArcTinyRecipe, dir: string): ArcPhaseReport[] {
  const path = join(dir, 'pretraining.json');
  if (!existsSync(path)) throw new Error(`--resume: ${path} is missing; pretrain from scratch without --resume`);
  const record = JSON.parse(readFileSync(path, 'utf8')) as { recipe: ArcTinyRecipe; phases: ArcPhaseReport[] };
  const done = record.phases.length;
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const differ = (Object.keys(recipe) as (keyof ArcTinyRecipe)[]).filter((key) =>
    key === 'phases' ? !same(record.recipe.phases.slice(0, done), recipe.phases.slice(0, done)) : !same(record.recipe[key], recipe[key]),
  );
  if (differ.length) {
    throw new Error(
      `--resume: ${dir} was pretrained with another recipe (its pretraining.json differs in ${differ.join(', ')}); pretrain from scratch without --resume`,
    );
  }
  return record.phases;
}

/**
 * Pretrains a fresh model phase by phase (each its own warmup and cosine), gauging after each, and saves it;
 * with `resume`, continues the model in `outDir` from the phases it already holds (completedPhases).
 */
export async function pretrainTinyArc(recipe: ArcTinyRecipe, outDir: string, resume = false): Promise<ArcPhaseReport[]> {
  const done = resume ? completedPhases(recipe, outDir) : [];
  const { world, tok } = await arcWorldAndTokenizer(recipe, outDir);
  const model = done.length
    ? await loadLlama(outDir)
    : initialModel(tinyLlamaConfig(recipe.model, { vocabSize: tok.vocabSize, bos: tok.bosId, eos: tok.eosIds[0], pad: tok.padId }), recipe.seed);
  const reports: ArcPhaseReport[] = [...done];
  for (const [i, phase] of recipe.phases.entries()) {
    if (i < done.length) continue;
    const batches = arcPretrainingBatches(world.train, tok, recipe, phase, recipe.seed + i);
    const schedule = { lr: recipe.lr, steps: phase.steps, warmupFraction: recipe.warmupFraction, minLrRatio: recipe.minLrRatio };
    const trained = await train(model, batches, phase.steps, (s) => pretrainLr(schedule, s), recipe);
    const gauges = await arcGauges(model, tok, recipe);
    reports.push({ ...trained, gauges });
    console.log(
      `phase ${i + 1}: ${trained.steps} steps, ${trained.tokens} tokens, ${trained.seconds.toFixed(0)} s, loss ${trained.finalLoss.toFixed(3)}; ` +
        `in-context exact ${(100 * gauges.iclExact).toFixed(0)} %, policy parse ${(100 * gauges.policyParse).toFixed(0)} % (${gauges.policyDistinct} distinct)`,
    );
  }
  await saveModel(model, outDir);
  await writeFileAtomically(join(outDir, 'pretraining.json'), `${JSON.stringify({ recipe, phases: reports }, null, 2)}\n`);
  model.dispose();
  return reports;
}

/** `npm run pretrain-tiny -- arc [--out <dir>]`. */
export const arcPretrainCommand = defineCommand({
  name: 'pretrain-tiny arc',
  invocation: 'npm run pretrain-tiny -- arc',
  summary: "Pretrains the ARC demo's tiny model (weights/seal-tiny-arc) from scratch with this engine, as weights/README.md describes.",
  usage: 'npm run pretrain-tiny -- arc [--out <dir> --steps <n> --resume]',
  flags: [
    { name: 'out', type: 'string', help: 'model folder to write (default weights/seal-tiny-arc)' },
    { name: 'steps', type: 'int', min: 1, help: "the last phase's steps (default the recipe's)" },
    { name: 'resume', type: 'boolean', help: 'continue the model in --out from the phases its pretraining.json records' },
  ] as const,
  async run(f) {
    const out = f.out ?? join(import.meta.dirname, '..', '..', 'weights', 'seal-tiny-arc');
    const phases = ARC_TINY_RECIPE.phases.map((p, i, all) => (i === all.length - 1 && f.steps ? { ...p, steps: f.steps } : p));
    await init();
    try {
      await pretrainTinyArc({ ...ARC_TINY_RECIPE, phases }, out, f.resume === true);
      console.log(`written to ${out}`);
    } finally {
      await shutdown();
    }
  },
});
