// Knowledge incorporation (paper §4.2, App. B): the context is a passage; a self-edit restates it; the
// inner loop fits a fresh LoRA to the self-edit's training sequences and answers the passage's questions
// without the passage in context; the reward is the fraction answered correctly.
import type { Tokenizer } from '../../io/tokenizer.ts';
import { generate } from '../../model/generate.ts';
import type { Example } from '../../train/examples.ts';
import { LoraAdapter } from '../../train/lora.ts';
import { type LoraTraining, fitLora, sftParallel } from '../../train/sft.ts';
import { type Domain, keepBest, unitSeed } from '../loop.ts';
import type { Policy, SamplingConfig } from '../policy.ts';
import { answerPrompt, topicQuestion } from './answer-prompt.ts';
import { gradeByContainment } from './containment-grader.ts';
import type { Grader } from './llm-judge.ts';
import { pyStrip } from './python-text.ts';
import { passageAccuracy } from './scoring.ts';
import { type SelfEditPromptKind, selfEditPrompt } from './self-edit-prompts.ts';
import type { SquadPassage, SquadQuestion } from './squad-data.ts';
import { buildTrainSequences, trainSequence } from './train-sequences.ts';

/** How passages, questions and self-edits become text (SEAL's by default; the demo world brings its own). */
export interface KnowledgeFormat {
  selfEditPrompt(p: SquadPassage): string;
  /** `splitNewlines` (SEAL's formats only): undefined for the format's default. */
  trainSequences(selfEdit: string, p: SquadPassage, options?: { splitNewlines?: boolean }): string[];
  passageSequence(p: SquadPassage): string;
  answerPrompt(p: SquadPassage, q: SquadQuestion): string;
  /** The question as the grader sees it. */
  gradedQuestion(p: SquadPassage, q: SquadQuestion): string;
}

export function sealFormat(kind: SelfEditPromptKind = 'implications'): KnowledgeFormat {
  return {
    selfEditPrompt: (p) => selfEditPrompt(p, kind),
    trainSequences: (selfEdit, p, options) => buildTrainSequences(selfEdit, p, options),
    passageSequence: (p) => trainSequence(p.title, p.context.trim()),
    answerPrompt: (p, q) => answerPrompt(p.title, q.question),
    gradedQuestion: (p, q) => topicQuestion(p.title, q.question),
  };
}

/** The deterministic grader (normalised gold contained in the prediction, with general rules). */
export const containmentGrader: Grader = async (_question, gold, prediction) => gradeByContainment(gold, prediction);

/** The inner loop's fine-tune: SEAL's TTT server settings by default (r 32, α 64 on q/v, lr 1e-3, 10 epochs). */
export interface InnerLoopConfig extends LoraTraining {
  /** New tokens per answer (greedy). */
  answerTokens: number;
}

export const SEAL_INNER_LOOP: InnerLoopConfig = {
  lora: { r: 32, alpha: 64, dropout: 0, targets: ['q_proj', 'v_proj'] },
  lr: 1e-3,
  epochs: 10,
  batchSize: 1,
  gradAccum: 1,
  schedule: 'linear',
  warmupSteps: 0,
  maxGradNorm: 1,
  answerTokens: 64,
};

export interface Answers {
  answers: string[];
  verdicts: boolean[];
  accuracy: number;
}

/** A passage with its index in the data file (its stable id). */
export interface IndexedPassage {
  index: number;
  passage: SquadPassage;
}

/** The training passage a context id names (KnowledgeDomain.id's inverse: "p17" → 17). */
export function contextIndex(id: string): number {
  const m = /^p(0|[1-9]\d*)$/.exec(id);
  if (!m) throw new Error(`"${id}" is not a knowledge context id (p<index>)`);
  return Number(m[1]);
}
export class KnowledgeDomain implements Domain<IndexedPassage> {
  /**
   * Whether an E-step inner loop splits its self-edit into lines (SEAL's `--split_newlines` per round:
   * knowledge.ts `--e-step-split-newlines`); undefined, or returning undefined: the format's default.
   * Evaluations and continual steps always use the format's default.
   */
  eStepSplitNewlines?: (c: IndexedPassage) => boolean | undefined;

  constructor(
    /** The policy's tokenizer (the same in every round). */
    readonly tokenizer: Tokenizer,
    readonly format: KnowledgeFormat,
    readonly inner: InnerLoopConfig,
    readonly grader: Grader = containmentGrader,
    /**
     * Passages trained alongside a context's own in its inner loop (their plain passages only), when
     * several people share one adapter; SEAL's setting has none.
     */
    readonly companions: (c: IndexedPassage) => SquadPassage[] = () => [],
    /** Which self-edits the M-step imitates (SEAL's: the best one, no threshold). */
    readonly selection: (rewards: number[]) => number[] = keepBest,
    /** How the E-step samples self-edits (the loop's sampling settings). */
    readonly sampling: SamplingConfig = { temperature: 1, topP: 0.95, maxNewTokens: 1024 },
  ) {}

  id(c: IndexedPassage): string {
    return `p${c.index}`;
  }

  promptText(c: IndexedPassage): string {
    return this.format.selfEditPrompt(c.passage);
  }

  prompt(c: IndexedPassage): number[] {
    return this.tokenizer.encode(this.promptText(c));
  }

  /**
   * M self-edits for the E-step, stripped, the empty ones dropped — as SEAL's make_squad_data strips every
   * completion and its query_server skips the empty ones, which then earn no reward and are never
   * imitated. Sample j draws from unitSeed(seed, j), as the loop's default sampling does.
   */
  async sampleSelfEdits(policy: Policy, c: IndexedPassage, m: number, seed: number): Promise<{ texts: string[]; details: { empty: number } }> {
    const prompt = this.prompt(c);
    const sampled = await policy.sample(
      Array.from({ length: m }, (_, j) => ({ prompt, seed: unitSeed(seed, j) })),
      this.sampling,
    );
    const texts = sampled.map(pyStrip).filter((t) => t !== '');
    return { texts, details: { empty: m - texts.length } };
  }

  /**
   * The training sequences a self-edit becomes (SEAL's build_train_sequences: its lines, then the passage),
   * from the stripped self-edit; an empty one is replaced by the passage, as SEAL's continual script does
   * (`completion or context`).
   */
  sequences(c: IndexedPassage, selfEdit: string, splitNewlines?: boolean): string[] {
    const stripped = pyStrip(selfEdit);
    const options = splitNewlines === undefined ? undefined : { splitNewlines };
    return this.format.trainSequences(stripped === '' ? c.passage.context : stripped, c.passage, options);
  }

  /** What an E-step inner loop trains on: the self-edit's sequences (split as eStepSplitNewlines says), and the companions' passages. */
  innerLoopTexts(c: IndexedPassage, selfEdit: string): string[] {
    return [...this.sequences(c, selfEdit, this.eStepSplitNewlines?.(c)), ...this.companions(c).map((p) => this.format.passageSequence(p))];
  }

  async evaluate(policy: Policy, c: IndexedPassage, selfEdit: string, seed: number) {
    return (await this.evaluateMany(policy, [{ context: c, selfEdit, seed }]))[0];
  }

  async evaluateMany(policy: Policy, units: { context: IndexedPassage; selfEdit: string; seed: number }[], onProgress?: (fraction: number) => void) {
    const jobs = units.map((u) => ({ passages: [u.context.passage], texts: this.innerLoopTexts(u.context, u.selfEdit), seed: u.seed }));
    const results = await this.adaptAndAnswerMany(policy, jobs, units.length, onProgress);
    return results.map((r) => ({ score: r.accuracy, details: { answers: r.answers, verdicts: r.verdicts } }));
  }

  /** The self-edits the M-step imitates; none when every sample of the context was empty. */
  select(rewards: number[]): number[] {
    return rewards.length === 0 ? [] : this.selection(rewards);
  }

  /**
   * Fits a fresh LoRA (initialised from `seed`) to `texts` — each BOS + text + EOS, loss on every token,
   * no padding trained on — then answers every question of `passage` greedily. `texts` null: no
   * adaptation (the base model). Several passages' questions can be answered at once (continued
   * pretraining), hence `passages`.
   */
  async adaptAndAnswer(policy: Policy, passage: SquadPassage | SquadPassage[], texts: string[] | null, seed: number): Promise<Answers> {
    return (await this.adaptAndAnswerMany(policy, [{ passages: Array.isArray(passage) ? passage : [passage], texts, seed }]))[0];
  }

  /**
   * Several independent inner loops. Those that train run `parallel` at a time as the slots of one
   * stacked adapter (each exactly as it would run alone); those with no texts are answered by the model as
   * it is. `onProgress` gets the fraction of the jobs done, after every training step.
   */
  async adaptAndAnswerMany(policy: Policy, jobs: InnerLoopJob[], parallel = 1, onProgress?: (fraction: number) => void): Promise<Answers[]> {
    const results: Answers[] = new Array(jobs.length);
    const untrained = jobs.flatMap((j, i) => (j.texts?.length ? [] : [i]));
    if (untrained.length) {
      const answered = await this.answer(
        policy,
        untrained.map((i) => jobs[i].passages),
      );
      untrained.forEach((i, k) => (results[i] = answered[k]));
    }
    const trained = jobs.flatMap((j, i) => (j.texts?.length ? [i] : []));
    const eos = policy.stopIds[0];
    let done = untrained.length;
    onProgress?.(done / jobs.length);
    for (let c = 0; c < trained.length; c += parallel) {
      const group = trained.slice(c, c + parallel);
      // A job counts as done once answered: training moves the bar to just short of that.
      const onStep = (step: number, steps: number) => onProgress?.((done + (group.length * step) / (steps + 1)) / jobs.length);
      const examples = group.map((i) => this.examples(policy, jobs[i].texts!));
      const seeds = group.map((i) => jobs[i].seed);
      let adapter: LoraAdapter | null = null;
      try {
        if (group.length === 1) adapter = await this.fitAdapter(policy, jobs[group[0]].texts!, seeds[0], this.inner, onStep);
        else {
          adapter = LoraAdapter.create(policy.model, { ...this.inner.lora, slots: group.length }, seeds);
          await sftParallel(policy.model, adapter, examples, { ...this.inner, seeds, pad: eos, onStep });
        }
        const answered = await this.answer(
          policy,
          group.map((i) => jobs[i].passages),
        );
        group.forEach((i, k) => (results[i] = answered[k]));
        done += group.length;
        onProgress?.(done / jobs.length);
      } finally {
        adapter?.dispose();
      }
    }
    return results;
  }

  /** The inner loop's training examples: each text tokenised (BOS where the tokenizer has one) + EOS, loss on every token. */
  examples(policy: Policy, texts: string[]): Example[] {
    const eos = policy.stopIds[0];
    return texts.map((t) => {
      const ids = [...policy.tokenizer.encode(t), eos];
      return { ids, labels: ids };
    });
  }

  /** A fresh LoRA adapter (initialised from `seed`, attached) fitted to `texts` (by the inner loop's recipe unless given); the caller disposes it. */
  async fitAdapter(
    policy: Policy,
    texts: string[],
    seed: number,
    training: LoraTraining = this.inner,
    onStep?: (step: number, steps: number) => void,
  ): Promise<LoraAdapter> {
    const report = onStep && ((r: { step: number; totalSteps: number }) => onStep(r.step, r.totalSteps));
    return (await fitLora(policy.model, training, this.examples(policy, texts), { seed, pad: policy.stopIds[0], onStep: report })).adapter;
  }

  /**
   * Answers every question of each group of passages greedily and grades the answers. Groups are batched
   * slot-major with as many rows each (short groups repeat their last question, ignored), which is what a
   * stacked adapter with one slot per group needs.
   */
  async answer(policy: Policy, groups: SquadPassage[][]): Promise<Answers[]> {
    const asked = groups.map((passages) => passages.flatMap((p) => p.questions.map((q) => ({ p, q }))));
    const rows = Math.max(1, ...asked.map((a) => a.length));
    const prompts = asked.flatMap((a) =>
      Array.from({ length: rows }, (_, r) => {
        const { p, q } = a[Math.min(r, a.length - 1)] ?? { p: groups[0][0], q: { question: '', answer: '' } };
        return policy.tokenizer.encode(this.format.answerPrompt(p, q));
      }),
    );
    const { tokens } = await generate(policy.model, prompts, { maxNewTokens: this.inner.answerTokens, stopIds: policy.stopIds });
    const results: Answers[] = [];
    for (let g = 0; g < groups.length; g++) {
      const answers = asked[g].map((_, r) => policy.tokenizer.decode(tokens[g * rows + r], { skipSpecial: true }));
      const verdicts: boolean[] = [];
      for (let i = 0; i < asked[g].length; i++) {
        verdicts.push(await this.grader(this.format.gradedQuestion(asked[g][i].p, asked[g][i].q), asked[g][i].q.answer, answers[i]));
      }
      results.push({ answers, verdicts, accuracy: passageAccuracy(verdicts) });
    }
    return results;
  }
}

/** One inner loop: the texts to fit (null: none) and the passages whose questions it answers. */
export interface InnerLoopJob {
  passages: SquadPassage[];
  texts: string[] | null;
  seed: number;
}
