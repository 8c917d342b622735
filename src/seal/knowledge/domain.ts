// Knowledge incorporation (paper §4.2, App. B): the context is a passage; a self-edit restates it; the
// inner loop fits a fresh LoRA to the self-edit's training sequences and answers the passage's questions
// without the passage in context; the reward is the fraction answered correctly.
import type { Tokenizer } from '../../io/tokenizer.ts';
import { generate } from '../../model/generate.ts';
import type { Example } from '../../train/examples.ts';
import type { LoraAdapter } from '../../train/lora.ts';
import { type LoraTraining, fitLora } from '../../train/sft.ts';
import { type Domain, keepBest } from '../loop.ts';
import type { Policy } from '../policy.ts';
import { answerPrompt, topicQuestion } from './answer-prompt.ts';
import { gradeByContainment } from './containment-grader.ts';
import type { Grader } from './llm-judge.ts';
import { passageAccuracy } from './scoring.ts';
import { type SelfEditPromptKind, selfEditPrompt } from './self-edit-prompts.ts';
import type { SquadPassage, SquadQuestion } from './squad-data.ts';
import { buildTrainSequences, trainSequence } from './train-sequences.ts';

/** How passages, questions and self-edits become text (SEAL's by default; the demo world brings its own). */
export interface KnowledgeFormat {
  selfEditPrompt(p: SquadPassage): string;
  trainSequences(selfEdit: string, p: SquadPassage): string[];
  passageSequence(p: SquadPassage): string;
  answerPrompt(p: SquadPassage, q: SquadQuestion): string;
  /** The question as the grader sees it. */
  gradedQuestion(p: SquadPassage, q: SquadQuestion): string;
}

export function sealFormat(kind: SelfEditPromptKind = 'implications'): KnowledgeFormat {
  return {
    selfEditPrompt: (p) => selfEditPrompt(p, kind),
    trainSequences: (selfEdit, p) => buildTrainSequences(selfEdit, p),
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

export class KnowledgeDomain implements Domain<IndexedPassage> {
  constructor(
    /** The policy's tokenizer (the same in every round). */
    readonly tokenizer: Tokenizer,
    readonly format: KnowledgeFormat,
    readonly inner: InnerLoopConfig,
    readonly grader: Grader = containmentGrader,
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

  /** The training sequences a self-edit becomes (SEAL's build_train_sequences: its lines, then the passage). */
  sequences(c: IndexedPassage, selfEdit: string): string[] {
    return this.format.trainSequences(selfEdit, c.passage);
  }

  async evaluate(policy: Policy, c: IndexedPassage, selfEdit: string, seed: number) {
    const result = await this.adaptAndAnswer(policy, c.passage, this.sequences(c, selfEdit), seed);
    return { score: result.accuracy, details: { answers: result.answers, verdicts: result.verdicts } };
  }

  select(rewards: number[]): number[] {
    return keepBest(rewards);
  }

  /**
   * Fits a fresh LoRA (initialised from `seed`) to `texts` — each BOS + text + EOS, loss on every token,
   * no padding trained on — then answers every question of `passage` greedily. `texts` null: no
   * adaptation (the base model). Several passages' questions can be answered at once (continued
   * pretraining), hence `passages`.
   */
  async adaptAndAnswer(policy: Policy, passage: SquadPassage | SquadPassage[], texts: string[] | null, seed: number): Promise<Answers> {
    const passages = Array.isArray(passage) ? passage : [passage];
    let adapter: LoraAdapter | null = null;
    try {
      if (texts && texts.length > 0) {
        const eos = policy.stopIds[0];
        const examples: Example[] = texts.map((t) => {
          const ids = [...policy.tokenizer.encode(t), eos];
          return { ids, labels: ids };
        });
        ({ adapter } = await fitLora(policy.model, this.inner, examples, { seed, pad: eos }));
      }
      return await this.answer(policy, passages);
    } finally {
      adapter?.dispose();
    }
  }

  /** Answers every question of the passages with the model as it is, and grades the answers. */
  async answer(policy: Policy, passages: SquadPassage[]): Promise<Answers> {
    const asked = passages.flatMap((p) => p.questions.map((q) => ({ p, q })));
    const prompts = asked.map(({ p, q }) => policy.tokenizer.encode(this.format.answerPrompt(p, q)));
    const { tokens } = await generate(policy.model, prompts, { maxNewTokens: this.inner.answerTokens, stopIds: policy.stopIds });
    const answers = tokens.map((t) => policy.tokenizer.decode(t, { skipSpecial: true }));
    const verdicts: boolean[] = [];
    for (let i = 0; i < asked.length; i++) {
      verdicts.push(await this.grader(this.format.gradedQuestion(asked[i].p, asked[i].q), asked[i].q.answer, answers[i]));
    }
    return { answers, verdicts, accuracy: passageAccuracy(verdicts) };
  }
}
