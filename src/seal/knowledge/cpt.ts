// Continued pretraining (the paper's multi-passage setting, n = 200): one update on the training sequences
// of every evaluation passage at once, then every (or a subset of the) question asked without the passage.
// Two modes, as SEAL ran them:
//
//   v1  SEAL's published knowledge-incorporation/scripts/CPT.sh + src/query/CPT.py: per passage, the first
//       k = 5 non-empty completions of the source, each followed by the passage (build_train_sequences
//       without split_newlines: a completion's `---` segments, then the passage); one LoRA (r 32, α 64 on
//       PEFT's default q_proj, v_proj), lr 1e-3, 3 epochs, batch 4 × 2 accumulation steps, no warm-up; all
//       questions of the passages. (SEAL's four v1 result files did not all use this one row: see
//       docs/cpt.md, "Per-condition settings".)
//   v2  the paper's revised CPT, general-knowledge/scripts/CPT_fullFT.sh + src/query/CPT_fullFT.py: per
//       passage, random.sample(non-empty completions, min(5, n)) from one generator seeded 43 (set_seed,
//       --seed 43) run across the passages, each completion through general-knowledge/src/utils.py's
//       build_train_sequences (text after "\nImplications:", ≤ 30 segments, empty ones dropped) with the
//       passage appended once per passage (add_context on the first only); a full fine-tune of every weight,
//       1 epoch, lr 7 × 10⁻⁵, batch 4 × 2 (CPT_fullFT.sh l. 30–31), warmup_ratio 0.03; scored on the
//       500-question subset CPT_fullFT.py l. 190–193 draws (random.seed(42); random.shuffle(questions); the
//       first 500).
//
// Both report a baseline: the unadapted policy on the same questions, micro-averaged as SEAL's are
// (`sum(verdicts) / len(verdicts)`: v1's TTT server always, v2 with --baseline_eval).
import { loadLlama } from '../../model/load.ts';
import { type LoraTraining, sft } from '../../train/sft.ts';
import { PyRandom } from '../../util/mt19937.ts';
import { Policy } from '../policy.ts';
import type { KnowledgeDomain } from './domain.ts';
import { passageAccuracy } from './scoring.ts';
import type { SquadPassage } from './squad-data.ts';
import { SEAL_V2_SEQUENCES, buildTrainSequences } from './train-sequences.ts';

export type CptMode = 'v1' | 'v2';
export const CPT_MODES: readonly CptMode[] = ['v1', 'v2'];

export interface CptRecipe {
  /** Completions per passage, k (the first k: v1; a seeded random.sample of k: v2). */
  completions: number;
  /** How completions become the corpus: CPT.py's (v1) or CPT_fullFT.py's (v2); see cptCorpus. */
  corpus: CptMode;
  /** LoRA (v1) or a full fine-tune (v2, `lora: null`); the rest as for any fine-tune. */
  training: Omit<LoraTraining, 'lora'> & { lora: LoraTraining['lora'] | null };
  /** Warm-up as a fraction of the optimiser steps (Hugging Face's warmup_ratio; cptWarmupSteps). */
  warmupRatio: number;
  /** Questions scored: all (null) or this many drawn with random.seed(questionSeed). */
  questionLimit: number | null;
  questionSeed: number;
}

const SEAL_CPT_TRAINING = { batchSize: 4, gradAccum: 2, schedule: 'linear', warmupSteps: 0, maxGradNorm: 1 } as const;

/** CPT_fullFT.py's --seed (43): set_seed seeds Python's random, whose random.sample picks v2's completions. */
export const CPT_V2_SAMPLE_SEED = 43;

export const CPT_RECIPES: Record<CptMode, CptRecipe> = {
  v1: {
    completions: 5,
    corpus: 'v1',
    training: { ...SEAL_CPT_TRAINING, lora: { r: 32, alpha: 64, dropout: 0, targets: ['q_proj', 'v_proj'] }, lr: 1e-3, epochs: 3 },
    warmupRatio: 0, // the TTT server's TrainingArguments set no warm-up
    questionLimit: null,
    questionSeed: 43, // CPT.py's --eval_question_limit seed; unused, no published v1 run set a limit
  },
  v2: {
    completions: 5,
    corpus: 'v2',
    training: { ...SEAL_CPT_TRAINING, lora: null, lr: 7e-5, epochs: 1 },
    warmupRatio: 0.03,
    questionLimit: 500,
    questionSeed: 42,
  },
};

/**
 * Hugging Face Trainer's warm-up (transformers 4.52, SEAL's requirements.txt): ceil(ratio × max_steps),
 * max_steps = epochs × max(1, ⌊micro-batches / accumulation⌋). 1,200 sequences at 4 × 2: 150 steps, 5.
 */
export function cptWarmupSteps(sequences: number, recipe: Pick<CptRecipe, 'training' | 'warmupRatio'>): number {
  const { batchSize, gradAccum, epochs } = recipe.training;
  const perEpoch = Math.max(1, Math.floor(Math.ceil(sequences / batchSize) / gradAccum));
  return recipe.training.warmupSteps + Math.ceil(recipe.warmupRatio * Math.ceil(epochs * perEpoch));
}

/**
 * The corpus, from each passage's non-empty completions in file (or sampling) order.
 *
 * v1 (CPT.py): per passage its first k completions, each as build_train_sequences makes it (its `---`
 * segments, then the passage); a passage without completions gets CPT.py's `[""]`: the bare "title\n",
 * then the passage.
 *
 * v2 (CPT_fullFT.py l. 145–177): per passage, random.sample(completions, min(k, n)) from one generator
 * seeded 43 and shared by the passages in order (no draw for a passage without completions, which gets
 * `[""]`); each sampled completion through v2's build_train_sequences, the passage appended after the
 * first only; "" gives no sequence, so a passage without completions is the passage alone.
 */
export function cptCorpus(
  passages: readonly SquadPassage[],
  completions: readonly string[][],
  recipe: Pick<CptRecipe, 'corpus' | 'completions'> = CPT_RECIPES.v1,
): string[] {
  const k = recipe.completions;
  if (recipe.corpus === 'v1') {
    return passages.flatMap((p, i) => {
      const list = k > 0 && completions[i].length ? completions[i].slice(0, k) : ['']; // CPT.py: no completion → the context only
      return list.flatMap((c) => buildTrainSequences(c, p, { splitNewlines: false }));
    });
  }
  const rng = PyRandom.seed(CPT_V2_SAMPLE_SEED);
  return passages.flatMap((p, i) => {
    const list = k > 0 && completions[i].length ? rng.sample(completions[i], Math.min(k, completions[i].length)) : [''];
    return list.flatMap((c, j) => buildTrainSequences(c, p, { ...SEAL_V2_SEQUENCES, addContext: j === 0 }));
  });
}

/** The questions scored, as [passage, question] indices in CPT.py's order: all, or a seeded random subset. */
export function cptQuestions(passages: readonly SquadPassage[], limit: number | null, seed: number): [number, number][] {
  const all = passages.flatMap((p, i) => p.questions.map((_, q) => [i, q] as [number, number]));
  if (limit === null || limit >= all.length) return all;
  return PyRandom.seed(seed).shuffle(all).slice(0, limit);
}

export interface CptResult {
  trainSequences: number;
  trainTokens: number;
  /** Warm-up steps of the update (cptWarmupSteps). */
  warmupSteps: number;
  /** The questions scored ([passage, question]), the answers, the verdicts, and the fraction correct (micro). */
  questions: [number, number][];
  answers: string[];
  verdicts: boolean[];
  accuracy: number;
  /** The same questions asked of the unadapted policy (SEAL's baseline, micro over them). */
  baselineAnswers: string[];
  baselineVerdicts: boolean[];
  baselineAccuracy: number;
}

/**
 * One continued-pretraining run on `policy`'s weights (not changed: v1's adapter is dropped after, v2
 * trains an f32 copy): answer the questions unadapted (the baseline), fit the corpus, answer them again.
 * `completions[i]` are passage i's non-empty completions; cptCorpus picks k of them as the mode does.
 */
export async function continuedPretraining(
  policy: Policy,
  domain: KnowledgeDomain,
  passages: readonly SquadPassage[],
  completions: readonly string[][],
  recipe: CptRecipe,
  seed: number,
): Promise<CptResult> {
  const corpus = cptCorpus(passages, completions, recipe);
  const examples = domain.examples(policy, corpus);
  const questions = cptQuestions(passages, recipe.questionLimit, recipe.questionSeed);
  // One pseudo-passage per question, so any subset can be asked; answered in chunks of 64.
  const asked = questions.map(([i, q]) => ({ ...passages[i], questions: [passages[i].questions[q]] }));
  const answerAll = async (model: Policy) => {
    const out = { answers: [] as string[], verdicts: [] as boolean[] };
    for (let c = 0; c < asked.length; c += 64) {
      const [answered] = await domain.answer(model, [asked.slice(c, c + 64)]);
      out.answers.push(...answered.answers);
      out.verdicts.push(...answered.verdicts);
    }
    return out;
  };
  const baseline = await answerAll(policy);
  const { lora, ...rest } = recipe.training;
  const warmupSteps = cptWarmupSteps(corpus.length, recipe);
  const training = { ...rest, warmupSteps };
  let answered: { answers: string[]; verdicts: boolean[] };
  if (lora) {
    const adapter = await domain.fitAdapter(policy, corpus, seed, { ...training, lora });
    try {
      answered = await answerAll(policy);
    } finally {
      adapter.dispose();
    }
  } else {
    // A full fine-tune needs trainable (f32) weights: a copy of the policy's folder, loaded in f32.
    const model = await loadLlama(policy.dir, { dtype: 'f32' });
    try {
      const params = [...model.weights.values()];
      for (const p of params) p.requiresGrad = true;
      await sft(model, params, examples, { ...training, seed, pad: policy.stopIds[0] });
      for (const p of params) p.requiresGrad = false;
      answered = await answerAll(new Policy(model, policy.tokenizer, policy.dir, policy.stopIds));
    } finally {
      model.dispose();
    }
  }
  return {
    trainSequences: corpus.length,
    trainTokens: examples.reduce((n, e) => n + e.ids.length, 0),
    warmupSteps,
    questions,
    ...answered,
    accuracy: passageAccuracy(answered.verdicts),
    baselineAnswers: baseline.answers,
    baselineVerdicts: baseline.verdicts,
    baselineAccuracy: passageAccuracy(baseline.verdicts),
  };
}
