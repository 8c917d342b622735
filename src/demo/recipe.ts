// The tiny SEAL demo's recipe, as measured with the PyTorch prototype (notes/tiny-world.md has every number
// and what failed). The engine's pretrain-tiny and demo commands read their defaults from here, so the
// settings live in one place.
import { PRETRAINING_IMPLICATIONS } from './implications.ts';
import type { PretrainMix } from './pretrain-mix.ts';
import type { WorldOptions } from './world.ts';

export const TINY_WORLD: WorldOptions = {
  seed: 0,
  pretrainPeople: 200,
  pretrainQaPeople: 150,
  rlPeople: 64,
  evalPeople: 64,
};

/** Llama-shaped: RMSNorm, RoPE (half-split), SwiGLU, tied embeddings, no GQA. 891k parameters at 297 tokens. */
export const TINY_MODEL = {
  hiddenSize: 128,
  layers: 4,
  heads: 4,
  kvHeads: 4,
  intermediateSize: 384,
  ropeTheta: 10_000,
  rmsNormEps: 1e-5,
  maxPositions: 512,
  tieWordEmbeddings: true,
  /** Normal init std; the o and down projections use initStd / sqrt(2 · layers). */
  initStd: 0.02,
} as const;

export const TINY_PRETRAINING = {
  steps: 2000,
  batchRows: 8,
  /** Tokens per packed row (inputs are the first 256, targets the last 256). */
  rowLength: 257,
  /** Attention only within a document (PackedRow.segment); without it the model never learns to copy. */
  documentMask: true,
  lr: 3e-3,
  betas: [0.9, 0.95] as const,
  weightDecay: 0.1,
  gradClip: 1.0,
  warmupFraction: 0.05,
  /** Cosine decay to this fraction of lr. */
  finalLrFraction: 0.1,
  mix: {
    biosPerPerson: 2,
    copiesPerQuestion: 2,
    exercisesPerPass: 400,
    exerciseStyle: PRETRAINING_IMPLICATIONS,
  } satisfies PretrainMix,
  /** Share of pronoun subjects in bios after the first sentence (0 stopped copying from emerging, 3 of 3 runs). */
  bioPronounShare: 0.5,
  /**
   * A second phase at the final lr, on the same mix except that every wholly named exercise opens with the
   * "The … of N is V ." form. After the first phase half the exercises are named, yet the policy wrote only a
   * quarter of its self-edits named at T = 0.7: a pronoun self-edit opens with one token (He/She), a named one
   * with any of seven ("The", the first name, a value), and sampling below T = 1 favours the concentrated
   * choice. With the cue the two styles open with one token each, and the policy writes about half named
   * (17 of 32 evaluation people), the even odds pretraining shows (notes/tiny-world.md).
   */
  openingPhase: { steps: 250, exerciseStyle: { ...PRETRAINING_IMPLICATIONS, namedOpening: 'first-form' } },
} as const;

/** The inner loop (SEAL's TTT on a self-edit): one LoRA per group of people, trained on all their sequences. */
export const TINY_INNER_LOOP = {
  /** People whose passages (+ self-edits) train one adapter together; questions are asked of that adapter. */
  peoplePerAdapter: 4,
  loraRank: 8,
  loraAlpha: 16,
  loraTargets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const,
  /** Adam (no weight decay, no clipping); B = 0, A ~ N(0, 1/d_in). */
  lr: 3e-3,
  betas: [0.9, 0.999] as const,
  epochs: 10,
  /** Sequences (reshuffled each epoch) are grouped greedily into minibatches of at most this many tokens, so
   *  equal training tokens give about equal optimizer steps (the token-matched control needs that). */
  minibatchTokens: 64,
  /** Each sequence is "<bos> passage <eos>" or "<bos> line <eos>"; the loss covers every token. */
  lossOnAllTokens: true,
} as const;

/** T = 0.7, not SEAL's 1.0: at T = 1 a quarter of the lines carry a wrong value, ReST-EM's SFT learns those
 *  errors too, and the gain from better-chosen lines is cancelled (notes/tiny-world.md). */
export const TINY_SELF_EDIT_SAMPLING = {
  temperature: 0.7,
  maxNewTokens: 200,
  maxLines: 16,
} as const;

/** ReST-EM: 2 rounds of sample → reward → keep the best → SFT. */
export const TINY_REST_EM = {
  rounds: 2,
  samplesPerPerson: 4,
  /**
   * Reward of sample j of a person: that person's QA accuracy after an inner loop on their passage + sample j
   * and their group-mates' passages only, all k adapters from the same LoRA init. Isolating the person keeps
   * the group-mates' samples out of the comparison.
   */
  isolatedReward: true,
  /** Keep a person's best sample only when it beats the mean of their k samples (ties teach nothing). */
  keepOnlyImproving: true,
  /**
   * The M-step as SEAL runs it: a LoRA fine-tune on prompt → kept self-edit (loss on the completion and its
   * <eos> only), merged into the weights; the merged model writes the next round's self-edits and is the
   * base of its inner loops. 10 epochs: with 3 (6 steps on 16 kept self-edits) the kept ones were 44 % named
   * against 25 % sampled, yet the policy's named share moved 23 → 31 → 26 % over two rounds (inside its
   * sampling noise): the reward selected, the imitation was too weak to follow.
   */
  imitation: { loraRank: 32, loraAlpha: 64, lr: 1e-3, epochs: 10, batch: 8, maxGradNorm: 1 },
} as const;
