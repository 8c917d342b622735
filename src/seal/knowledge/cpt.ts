// Continued pretraining (the paper's multi-passage setting, n = 200): one update on the training sequences
// of every evaluation passage at once, then every (or a subset of the) question asked without the passage.
// Two modes, as SEAL ran them:
//
//   v1  SEAL's published CPT.sh / query/CPT.py: per passage, the first k = 5 non-empty completions of the
//       source, each followed by the passage (build_train_sequences without split_newlines: a completion's
//       `---` segments, then the passage); one LoRA (r 32, α 64 on PEFT's default q_proj, v_proj), lr 1e-3,
//       3 epochs, batch 4 × 2 accumulation steps; all questions of the passages.
//   v2  the paper's revised CPT setting: the same corpus, a full fine-tune of every weight, 1 epoch,
//       lr 7 × 10⁻⁵, scored on the 500-question subset CPT.py's --eval_question_limit draws
//       (random.seed(43); random.shuffle(questions); the first 500). v2's batch size is not published: we
//       keep v1's 4 × 2.
import { loadLlama } from '../../model/load.ts';
import { type LoraTraining, sft } from '../../train/sft.ts';
import { PyRandom } from '../../util/mt19937.ts';
import { Policy } from '../policy.ts';
import type { KnowledgeDomain } from './domain.ts';
import { passageAccuracy } from './scoring.ts';
import type { SquadPassage } from './squad-data.ts';
import { buildTrainSequences } from './train-sequences.ts';

export type CptMode = 'v1' | 'v2';
export const CPT_MODES: readonly CptMode[] = ['v1', 'v2'];

export interface CptRecipe {
  /** Completions per passage (each followed by the passage). */
  completions: number;
  /** LoRA (v1) or a full fine-tune (v2, `lora: null`); the rest as for any fine-tune. */
  training: Omit<LoraTraining, 'lora'> & { lora: LoraTraining['lora'] | null };
  /** Questions scored: all (null) or this many drawn with random.seed(questionSeed). */
  questionLimit: number | null;
  questionSeed: number;
}

const SEAL_CPT_TRAINING = { batchSize: 4, gradAccum: 2, schedule: 'linear', warmupSteps: 0, maxGradNorm: 1 } as const;

export const CPT_RECIPES: Record<CptMode, CptRecipe> = {
  v1: {
    completions: 5,
    training: { ...SEAL_CPT_TRAINING, lora: { r: 32, alpha: 64, dropout: 0, targets: ['q_proj', 'v_proj'] }, lr: 1e-3, epochs: 3 },
    questionLimit: null,
    questionSeed: 43,
  },
  v2: {
    completions: 5,
    training: { ...SEAL_CPT_TRAINING, lora: null, lr: 7e-5, epochs: 1 },
    questionLimit: 500,
    questionSeed: 43,
  },
};

/**
 * The corpus: per passage, each of its completions' sequences followed by the passage. A passage without
 * completions gets CPT.py's `[""]`: build_train_sequences("") is the bare "title\n", then the passage.
 */
export function cptCorpus(passages: readonly SquadPassage[], completions: readonly string[][]): string[] {
  return passages.flatMap((p, i) => {
    const list = completions[i].length ? completions[i] : ['']; // CPT.py: no completion → the context only
    return list.flatMap((c) => buildTrainSequences(c, p, { splitNewlines: false }));
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
  /** The questions scored ([passage, question]), the answers, the verdicts, and the fraction correct. */
  questions: [number, number][];
  answers: string[];
  verdicts: boolean[];
  accuracy: number;
}

/**
 * One continued-pretraining run on `policy`'s weights (not changed: v1's adapter is dropped after, v2
 * trains an f32 copy): fit the corpus, then answer the questions.
 */
export async function continuedPretraining(
  policy: Policy,
  domain: KnowledgeDomain,
  passages: readonly SquadPassage[],
  completions: readonly string[][],
  recipe: CptRecipe,
  seed: number,
): Promise<CptResult> {
  const corpus = cptCorpus(passages, completions);
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
  const { lora, ...training } = recipe.training;
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
    questions,
    ...answered,
    accuracy: passageAccuracy(answered.verdicts),
  };
}
