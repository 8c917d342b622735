// What of a domain travels in a job, both ways: the coordinator describes its domain and each unit's
// context as JSON (`JobDomain`), and a worker rebuilds a domain that runs those units exactly as the
// coordinator's would (`workerDomain`).
//
// Knowledge: the coordinator renders everything its format decides — each unit's training texts (the
// self-edit's sequences and any companion passages) and, per question, the answer prompt and the question
// the grader sees — so a worker needs no format of its own (SEAL's, the tiny world's, any other), only
// the inner-loop settings and the grader, by name. ARC: the task itself, and the answering settings; the
// self-edit is parsed and turned into training data on the worker, as in-process.
import type { Tokenizer } from '../../io/tokenizer.ts';
import { ARC_DOMAIN_DEFAULTS, ArcDomain } from '../arc/domain.ts';
import type { ArcTask } from '../arc/arc-data.ts';
import { type IndexedPassage, KnowledgeDomain, type KnowledgeFormat } from '../knowledge/domain.ts';
import type { Grader } from '../knowledge/llm-judge.ts';
import type { SquadPassage, SquadQuestion } from '../knowledge/squad-data.ts';
import type { Domain, InnerLoopUnit } from '../loop.ts';
import type { JsonValue } from '../run-dir.ts';
import type { DomainSpec } from './job.ts';

/** The coordinator's side: the domain's spec and each unit's context, as a job carries them. */
export interface JobDomain<C> {
  describe(domain: Domain<C>, units: InnerLoopUnit<C>[]): { spec: DomainSpec; contexts: JsonValue[] };
}

/** A passage as a knowledge job carries it: what the format made of it for one unit. */
interface PreparedPassage extends SquadPassage {
  /** Everything the inner loop trains on. */
  texts: string[];
  questions: PreparedQuestion[];
}

interface PreparedQuestion extends SquadQuestion {
  /** The answer prompt, and the question as the grader sees it. */
  prompt: string;
  graded: string;
}

/** Knowledge jobs; `grader` names the run's grader for the workers ("containment", "exact-value", "judge:<dir>"). */
export function knowledgeJobs(grader: string): JobDomain<IndexedPassage> {
  return {
    describe(domain, units) {
      if (!(domain instanceof KnowledgeDomain)) throw new Error('knowledge jobs need the knowledge domain');
      const contexts = units.map((u): JsonValue => {
        const p = u.context.passage;
        const prepared: PreparedPassage = {
          title: p.title,
          context: p.context,
          texts: domain.innerLoopTexts(u.context, u.selfEdit),
          questions: p.questions.map((q) => ({
            question: q.question,
            answer: q.answer,
            prompt: domain.format.answerPrompt(p, q),
            graded: domain.format.gradedQuestion(p, q),
          })),
        };
        return prepared as unknown as JsonValue;
      });
      return { spec: { kind: 'knowledge', inner: domain.inner, grader }, contexts };
    },
  };
}

export function arcJobs(): JobDomain<ArcTask> {
  return {
    describe(domain, units) {
      if (!(domain instanceof ArcDomain)) throw new Error('ARC jobs need the ARC domain');
      const { answerTokens, answerBatch } = domain.options;
      return { spec: { kind: 'arc', answerTokens, answerBatch }, contexts: units.map((u) => u.context as unknown as JsonValue) };
    },
  };
}

/** A format that only reads what the coordinator rendered: a worker samples no self-edits and adds no companions. */
const PREPARED: KnowledgeFormat = {
  selfEditPrompt: () => {
    throw new Error('a worker does not sample self-edits');
  },
  trainSequences: (_selfEdit, p) => (p as PreparedPassage).texts,
  passageSequence: () => {
    throw new Error('a job carries its companion passages in its training texts');
  },
  answerPrompt: (_p, q) => (q as PreparedQuestion).prompt,
  gradedQuestion: (_p, q) => (q as PreparedQuestion).graded,
};

/** The worker's side: a domain that runs a job's units as the coordinator's would, and their contexts. */
export async function workerDomain(
  spec: DomainSpec,
  tokenizer: Tokenizer,
  grader: (name: string) => Promise<Grader>,
): Promise<{ domain: Domain<unknown>; context: (json: JsonValue) => unknown }> {
  switch (spec.kind) {
    case 'knowledge': {
      const domain = new KnowledgeDomain(tokenizer, PREPARED, spec.inner, await grader(spec.grader));
      return { domain: domain as Domain<unknown>, context: (json): IndexedPassage => ({ index: 0, passage: json as unknown as PreparedPassage }) };
    }
    case 'arc': {
      const domain = new ArcDomain(tokenizer, { ...ARC_DOMAIN_DEFAULTS, answerTokens: spec.answerTokens, answerBatch: spec.answerBatch });
      return { domain: domain as Domain<unknown>, context: (json) => json as unknown as ArcTask };
    }
    default:
      throw new Error(`unknown job domain ${JSON.stringify(spec)}; is this worker older than the coordinator?`);
  }
}
