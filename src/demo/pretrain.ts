// Pretraining the demo's tiny Llama with this project's own engine (`npm run pretrain-tiny`): a fresh
// Llama-3.2-architecture model, trained on the tiny world's corpus (bios, QA, passage → implications
// exercises) packed into rows of whole documents, then saved as an ordinary Hugging Face folder with the
// world's tokenizer and the recipe that made it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomically } from '../io/atomic-write.ts';
import { type LlamaConfig, expectedWeights, parseLlamaConfig } from '../io/hf-config.ts';
import { Llama } from '../model/llama.ts';
import { loadLlama } from '../model/load.ts';
import { causalLmLoss } from '../model/loss.ts';
import { IGNORE_INDEX, type Tensor, backward, engine, init, keep, parameter, shutdown, tidy } from '../tensor/index.ts';
import { defineCommand } from '../util/flags.ts';
import { AdamW } from '../train/adamw.ts';
import { saveModel } from '../train/merge.ts';
import { Progress } from '../util/progress.ts';
import { Rng } from '../util/random.ts';
import { TINY_MODEL, TINY_PRETRAINING, TINY_SELF_EDIT_SAMPLING, TINY_WORLD } from './recipe.ts';
import { type PackedRow, type PretrainMix, pretrainingBatches } from './pretrain-mix.ts';
import { WordTokenizer, worldVocabulary, writeTokenizerFiles } from './word-tokenizer.ts';
import { generate } from '../model/generate.ts';
import { type SelfEditSummary, gradeSelfEdit, summariseGrades } from './grade-self-edit.ts';
import { implicationsPrompt } from './prompts.ts';
import { type World, type WorldOptions, generateWorld } from './world.ts';
import type { ImplicationStyle } from './implications.ts';

export interface TinyRecipe {
  world: Partial<WorldOptions>;
  model: { hidden: number; layers: number; heads: number; intermediate: number };
  mix: PretrainMix;
  /** Tokens per packed row (inputs are all but the last, targets all but the first). */
  rowLength: number;
  batchRows: number;
  steps: number;
  lr: number;
  /** Linear warmup over this fraction of the steps, then cosine decay to minLrRatio · lr. */
  warmupFraction: number;
  minLrRatio: number;
  betas: [number, number];
  weightDecay: number;
  maxGradNorm: number;
  seed: number;
  /** A second phase at the final lr on the mix with this exercise style (recipe.ts: why). */
  openingPhase?: { steps: number; exerciseStyle: ImplicationStyle };
}

/** The recipe measured with the PyTorch prototype (recipe.ts, notes/tiny-world.md). */
export const TINY_RECIPE: TinyRecipe = {
  world: TINY_WORLD,
  model: { hidden: TINY_MODEL.hiddenSize, layers: TINY_MODEL.layers, heads: TINY_MODEL.heads, intermediate: TINY_MODEL.intermediateSize },
  mix: TINY_PRETRAINING.mix,
  rowLength: TINY_PRETRAINING.rowLength,
  batchRows: TINY_PRETRAINING.batchRows,
  steps: TINY_PRETRAINING.steps,
  lr: TINY_PRETRAINING.lr,
  warmupFraction: TINY_PRETRAINING.warmupFraction,
  minLrRatio: TINY_PRETRAINING.finalLrFraction,
  betas: [...TINY_PRETRAINING.betas],
  weightDecay: TINY_PRETRAINING.weightDecay,
  maxGradNorm: TINY_PRETRAINING.gradClip,
  seed: 0,
  openingPhase: TINY_PRETRAINING.openingPhase,
};

/** The mix of the training after the first phase: the opening phase's, where the recipe has one. */
export function laterMix(recipe: TinyRecipe): PretrainMix {
  return recipe.openingPhase ? { ...recipe.mix, exerciseStyle: recipe.openingPhase.exerciseStyle } : recipe.mix;
}

/**
 * The Llama config of a tiny demo model (TINY_MODEL's architecture: no GQA, tied embeddings, f32) at a
 * shape and a tokenizer's vocabulary and special ids; both demos' models are made from it.
 */
export function tinyLlamaConfig(
  shape: { hidden: number; layers: number; heads: number; intermediate: number; maxPositions: number },
  tokens: { vocabSize: number; bos: number | null; eos: number | undefined; pad: number | undefined },
): LlamaConfig {
  const { hidden, layers, heads, intermediate, maxPositions } = shape;
  return parseLlamaConfig({
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: tokens.vocabSize,
    hidden_size: hidden,
    intermediate_size: intermediate,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    num_key_value_heads: heads,
    head_dim: hidden / heads,
    rms_norm_eps: TINY_MODEL.rmsNormEps,
    rope_theta: TINY_MODEL.ropeTheta,
    max_position_embeddings: maxPositions,
    tie_word_embeddings: TINY_MODEL.tieWordEmbeddings,
    bos_token_id: tokens.bos,
    eos_token_id: tokens.eos,
    pad_token_id: tokens.pad,
    torch_dtype: 'float32',
  });
}

/** The knowledge demo's model: the recipe's shape, the word tokenizer's vocabulary (<pad> 0, <bos> 1, <eos> 2). */
export function tinyConfig(recipe: TinyRecipe, vocabSize: number): LlamaConfig {
  return tinyLlamaConfig({ ...recipe.model, maxPositions: TINY_MODEL.maxPositions }, { vocabSize, bos: 1, eos: 2, pad: 0 });
}

/**
 * A fresh model: linear and embedding weights N(0, 0.02²), the projections that write into the residual
 * stream (o, down) scaled by 1/√(2·layers) as GPT-2 does, norm weights 1; all f32 and trainable.
 */
export function initialModel(config: LlamaConfig, seed: number): Llama {
  const rng = new Rng(seed);
  const weights = new Map<string, Tensor>();
  for (const { name, shape } of expectedWeights(config)) {
    const t = keep(parameter(shape));
    const std = /(o_proj|down_proj)/.test(name) ? TINY_MODEL.initStd / Math.sqrt(2 * config.numLayers) : TINY_MODEL.initStd;
    t.write(Float32Array.from({ length: t.size }, () => (shape.length === 1 ? 1 : std * rng.normal())));
    t.requiresGrad = true;
    weights.set(name, t);
  }
  return new Llama(config, weights);
}

/** The learning rate of step s (0-based): linear warmup, then cosine from lr down to minLrRatio · lr. */
export function pretrainLr(r: Pick<TinyRecipe, 'lr' | 'steps' | 'warmupFraction' | 'minLrRatio'>, s: number): number {
  const warmup = Math.max(1, Math.round(r.warmupFraction * r.steps));
  if (s < warmup) return (r.lr * (s + 1)) / warmup;
  const progress = (s - warmup) / Math.max(1, r.steps - warmup);
  return r.lr * (r.minLrRatio + (1 - r.minLrRatio) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/** Model inputs of packed rows: ids, per-document positions and segments (0: padding), labels. */
export function rowInputs(rows: PackedRow[]) {
  return {
    ids: rows.map((r) => Array.from(r.ids)),
    positions: rows.map((r) => Array.from(r.position)),
    segments: rows.map((r) => Array.from(r.segment, (s) => s + 1)),
    labels: rows.map((r) => Array.from(r.ids, (id, t) => (t > 0 && r.lossMask[t - 1] ? id : IGNORE_INDEX))),
  };
}

export interface PretrainReport {
  steps: number;
  tokens: number;
  seconds: number;
  finalLoss: number;
  parameters: number;
  /** The copy gauge: greedy self-edits of held-out people, graded against the world. */
  greedySelfEdits: SelfEditSummary;
}

/** A phase of training on (`--train-on`): its figures, its constant lr and the mix it trained on. */
export type TrainOnReport = Omit<PretrainReport, 'parameters'> & { lr: number; mix?: PretrainMix };

/** world.json in a tiny model's folder: what the model was made from, and each training phase's figures. */
export interface TinyModelRecord {
  recipe: TinyRecipe;
  world: WorldOptions;
  pretraining: PretrainReport;
  trainedOn?: TrainOnReport[];
}

export function readTinyRecord(dir: string): TinyModelRecord {
  return JSON.parse(readFileSync(join(dir, 'world.json'), 'utf8')) as TinyModelRecord;
}

async function writeTinyRecord(dir: string, record: TinyModelRecord): Promise<void> {
  await writeFileAtomically(join(dir, 'world.json'), JSON.stringify(record, null, 2) + '\n');
}

/** The world of these options and the tokenizer of its words. */
function worldAndTokenizer(options: Partial<WorldOptions>) {
  const world = generateWorld(options);
  const vocab = worldVocabulary(world);
  return { world, vocab, tok: new WordTokenizer(vocab) };
}

/** Greedy self-edits of the first `n` evaluation people, graded (copying emerges late: check it at the end). */
export async function copyGauge(model: Llama, world: World, tok: WordTokenizer, n = 16): Promise<SelfEditSummary> {
  const people = world.eval.slice(0, n);
  const prompts = people.map((p) => tok.encode(implicationsPrompt(p.passage), { bos: true, eos: false }));
  const { tokens } = await generate(model, prompts, { maxNewTokens: TINY_SELF_EDIT_SAMPLING.maxNewTokens, stopIds: [tok.eosId] });
  return summariseGrades(people.map((p, i) => gradeSelfEdit(world, p, tok.decode(tokens[i]))));
}

/** The optimiser settings of a recipe. */
export type OptimiserRecipe = Pick<TinyRecipe, 'lr' | 'betas' | 'weightDecay' | 'maxGradNorm'>;

/** Runs `steps` optimizer steps of causal-LM training on packed rows; the step's lr comes from `lrOf`. */
export async function train(model: Llama, batches: Iterator<PackedRow[]>, steps: number, lrOf: (s: number) => number, recipe: OptimiserRecipe) {
  const params = [...model.weights.values()];
  for (const p of params) p.requiresGrad = true;
  const optimizer = new AdamW(params, { lr: recipe.lr, betas: recipe.betas, weightDecay: recipe.weightDecay, maxGradNorm: recipe.maxGradNorm });
  const progress = new Progress({ label: 'pretrain', total: steps });
  const started = performance.now();
  let tokens = 0;
  let smoothed = NaN;
  for (let s = 0; s < steps; s++) {
    const rows = batches.next().value as PackedRow[];
    const input = rowInputs(rows);
    tokens += rows.reduce((n, r) => n + r.segment.filter((x) => x >= 0).length, 0);
    const l = tidy(() => {
      const value = causalLmLoss(model.forward({ ids: input.ids, positions: input.positions, segments: input.segments, train: true }), input.labels);
      backward(value);
      return value;
    });
    optimizer.update(lrOf(s));
    optimizer.zeroGrad();
    if (s % 10 === 0 || s === steps - 1) {
      const loss = await l.item();
      if (!Number.isFinite(loss)) throw new Error(`pretraining diverged at step ${s + 1} (loss ${loss}); lower the learning rate`);
      smoothed = Number.isNaN(smoothed) ? loss : 0.8 * smoothed + 0.2 * loss;
      progress.update(s + 1, { loss: smoothed.toFixed(3), 'tok/s': Math.round(tokens / ((performance.now() - started) / 1000)) });
    }
    l.dispose();
  }
  progress.done();
  await engine().cmd.sync();
  optimizer.dispose();
  for (const p of params) p.requiresGrad = false;
  return { steps, tokens, seconds: (performance.now() - started) / 1000, finalLoss: smoothed };
}

export async function pretrainTiny(recipe: TinyRecipe, outDir: string): Promise<PretrainReport> {
  const { world, vocab, tok } = worldAndTokenizer(recipe.world);
  const config = tinyConfig(recipe, vocab.length);
  const model = initialModel(config, recipe.seed);
  const parameters = [...model.weights.values()].reduce((n, t) => n + t.size, 0);
  const batches = pretrainingBatches(world, tok, { seed: recipe.seed, mix: recipe.mix, rowLength: recipe.rowLength, batchRows: recipe.batchRows });
  const trained = await train(model, batches, recipe.steps, (s) => pretrainLr(recipe, s), recipe);
  const greedySelfEdits = await copyGauge(model, world, tok);
  await saveModel(model, outDir);
  await writeTokenizerFiles(outDir, vocab);
  const report: PretrainReport = { ...trained, parameters, greedySelfEdits };
  await writeTinyRecord(outDir, { recipe, world: world.options, pretraining: report });
  model.dispose();
  return report;
}

/**
 * Trains a pretrained folder on for `steps` more steps at the schedule's final lr (minLrRatio · lr), on
 * fresh batches of `mix`: the recipe's opening phase, or more training when the copy gauge says copying has
 * not fully emerged (it emerges late and abruptly: notes/tiny-world.md). The folder is rewritten and its
 * world.json records the extra phase and its mix.
 */
export async function trainOn(dir: string, steps: number, mix: PretrainMix = laterMix(TINY_RECIPE)): Promise<PretrainReport> {
  const record = readTinyRecord(dir);
  const { recipe } = record;
  const { world, tok } = worldAndTokenizer(record.world);
  const model = await loadLlama(dir);
  // A different batch stream from every earlier phase: seeded by the steps already taken.
  const done = record.pretraining.steps + (record.trainedOn ?? []).reduce((n, p) => n + p.steps, 0);
  const batches = pretrainingBatches(world, tok, { seed: recipe.seed + done, mix, rowLength: recipe.rowLength, batchRows: recipe.batchRows });
  const lr = recipe.lr * recipe.minLrRatio;
  const trained = await train(model, batches, steps, () => lr, recipe);
  const greedySelfEdits = await copyGauge(model, world, tok);
  await saveModel(model, dir);
  record.trainedOn = [...(record.trainedOn ?? []), { ...trained, lr, mix, greedySelfEdits }];
  await writeTinyRecord(dir, record);
  model.dispose();
  return { ...trained, parameters: record.pretraining.parameters, greedySelfEdits };
}

/**
 * `npm run pretrain-tiny [-- --out <dir> --steps N]` pretrains, then runs the recipe's opening phase;
 * `-- --train-on N` trains the folder at --out on for N more steps on the opening phase's mix.
 */
export const pretrainCommand = defineCommand({
  name: 'pretrain-tiny',
  invocation: 'npm run pretrain-tiny --',
  summary: "Pretrains the demo's tiny model (weights/seal-tiny) from scratch with this engine, as weights/README.md describes.",
  usage: 'npm run pretrain-tiny [-- --out <dir> --steps <n> | --train-on <n>]',
  flags: [
    { name: 'out', type: 'string', help: 'model folder to write (default weights/seal-tiny)' },
    { name: 'steps', type: 'int', min: 1, default: TINY_RECIPE.steps, help: 'pretraining steps' },
    { name: 'train-on', type: 'int', min: 1, help: 'instead: train the folder at --out on for this many steps' },
  ] as const,
  async run(f) {
    const out = f.out ?? join(import.meta.dirname, '..', '..', 'weights', 'seal-tiny');
    const recipe = { ...TINY_RECIPE, steps: f.steps };
    await init();
    const report = (what: string, r: PretrainReport) => {
      console.log(
        `${what} ${r.parameters} parameters on ${r.tokens} tokens in ${r.steps} steps, ${r.seconds.toFixed(0)} s; final loss ${r.finalLoss.toFixed(3)}; written to ${out}`,
      );
      const g = r.greedySelfEdits;
      console.log(
        `copy gauge (greedy self-edits of 16 held-out people): ${(100 * g.precision).toFixed(1)} % of fact lines correct, ${(100 * g.coverage).toFixed(1)} % of attributes covered, ${(100 * g.namedSelfEdits).toFixed(1)} % of self-edits named`,
      );
      if (g.precision < 0.8) console.log(`the gauge is below 0.8: copying emerges late (notes/tiny-world.md); train on with --train-on <steps>`);
    };
    try {
      if (f.trainOn) report('trained on', await trainOn(out, f.trainOn));
      else {
        report('pretrained', await pretrainTiny(recipe, out));
        if (recipe.openingPhase) report('opening phase: trained', await trainOn(out, recipe.openingPhase.steps, laterMix(recipe)));
      }
    } finally {
      await shutdown();
    }
  },
});
