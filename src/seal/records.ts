// Every kind of record a SEAL run writes to its log.jsonl (run-dir.ts), in one place: what each holds.
// Writers log them with RunDir.log (type-checked against this union), readers get them with
// RunDir.get(key, kind) / records(kind), which check the kind. The fields, and their order on disk, are
// those every earlier run wrote (each line ends with `at`, added on append), so old logs resume.
import type { JsonValue } from './run-dir.ts';

/** Fields every record has: the unit's unique key, and the time it was logged (added on append). */
type Logged = { key: string; at?: string };

// ReST-EM's rounds (round-log.ts): keys r<round>/<context>/samples, …/e<j>/s<s>, …/selection, r<round>/m-step.
export type SelfEditsRecord = Logged & {
  kind: 'self-edits';
  round: number;
  context: string;
  prompt: string | null;
  texts: string[];
  details: JsonValue;
  seconds: number;
};
export type InnerLoopRecord = Logged & {
  kind: 'inner-loop';
  round: number;
  context: string;
  /** j: which of the context's self-edits. */
  selfEdit: number;
  /** s: which of the reward's seeds. */
  seed: number;
  score: number;
  details: JsonValue;
  seconds: number;
};
export type SelectionRecord = Logged & { kind: 'selection'; round: number; context: string; rewards: number[]; kept: number[] };
export type MStepRecord = Logged & { kind: 'm-step'; round: number; model: string; examples: number; losses: number[]; seconds: number };

// Knowledge incorporation (knowledge/run.ts): eval/<label>/s<s>/p<i>, eval/cpt:<c>/s<s>, eval-self-edit/round-<r>/s<s>/p<i>.
export type PassageEvaluationRecord = Logged & {
  kind: 'evaluation';
  condition: string;
  seed: number;
  passage: number;
  /** The passages sharing the adapter, when more than one does. */
  group?: number[];
  selfEdit: string | null;
  trainSequences: number;
  trainTokens: number;
  answers: string[];
  verdicts: boolean[];
  accuracy: number;
  seconds: number;
};
export type CptEvaluationRecord = Logged & {
  kind: 'evaluation';
  condition: string;
  mode: string;
  seed: number;
  trainSequences: number;
  trainTokens: number;
  questions: [number, number][];
  answers: string[];
  verdicts: boolean[];
  accuracy: number;
  /** The unadapted policy on the same questions (absent in runs logged before it was recorded). */
  baselineAnswers?: string[];
  baselineVerdicts?: boolean[];
  baselineAccuracy?: number;
  warmupSteps?: number;
  seconds: number;
};
export type EvalSelfEditRecord = Logged & { kind: 'eval-self-edit'; condition: string; seed: number; passage: number; text: string };

// Few-shot ARC (arc/run.ts): eval/<label>/s<s>/<task>[/e<j>], eval-self-edits/round-<r>/s<s>/<task>.
export type ArcEvaluationRecord = Logged & {
  kind: 'evaluation';
  condition: string;
  task: string;
  seed: number;
  /** 1 when the task was solved, else 0. */
  reward: number;
  seconds: number;
  /** What the inner loop did (describeOutcome), or the in-context attempts. */
  [detail: string]: JsonValue | undefined;
};
export type EvalSelfEditsRecord = Logged & { kind: 'eval-self-edits'; condition: string; seed: number; task: string; texts: string[]; details: JsonValue };

// Continual self-edits (knowledge/continual.ts): continual/s<s>/base, …/step<k>, …/step<k>/self-edit.
export type ContinualBaseRecord = Logged & {
  kind: 'continual-base';
  sequence: number;
  passages: number[];
  accuracies: number[];
  answers: string[][];
  verdicts: boolean[][];
};
export type ContinualSelfEditRecord = Logged & { kind: 'continual-self-edit'; sequence: number; step: number; passage: number; text: string; seconds: number };
export type ContinualStepRecord = Logged & {
  kind: 'continual-step';
  sequence: number;
  step: number;
  passage: number;
  trainSequences: number;
  accuracies: number[];
  answers: string[][];
  verdicts: boolean[][];
  /** The merged model this step saved. */
  model: string;
  seconds: number;
};

/** A config accepted with --force: what changed (run-dir.ts). */
export type ConfigForcedRecord = Logged & { kind: 'config-forced'; changes: JsonValue };

export type SealRecord =
  | SelfEditsRecord
  | InnerLoopRecord
  | SelectionRecord
  | MStepRecord
  | PassageEvaluationRecord
  | CptEvaluationRecord
  | EvalSelfEditRecord
  | ArcEvaluationRecord
  | EvalSelfEditsRecord
  | ContinualBaseRecord
  | ContinualSelfEditRecord
  | ContinualStepRecord
  | ConfigForcedRecord;

export type RecordKind = SealRecord['kind'];
export type RecordOf<K extends RecordKind> = Extract<SealRecord, { kind: K }>;

// Three record types share the kind "evaluation" (their keys tell them apart); these tell them apart by field.
export const isArcEvaluation = (r: RecordOf<'evaluation'>): r is ArcEvaluationRecord => 'task' in r;
export const isCptEvaluation = (r: RecordOf<'evaluation'>): r is CptEvaluationRecord => 'mode' in r && !isArcEvaluation(r);
export const isPassageEvaluation = (r: RecordOf<'evaluation'>): r is PassageEvaluationRecord => 'passage' in r && !isArcEvaluation(r);

/** The knowledge run's record of an evaluation unit (per passage, or CPT's per seed), typed; undefined when not logged. */
export function knowledgeEvaluation(r: RecordOf<'evaluation'> | undefined): PassageEvaluationRecord | CptEvaluationRecord | undefined {
  if (r && isArcEvaluation(r)) throw new Error(`run log: "${r.key}" is an ARC evaluation where a knowledge one belongs`);
  return r;
}
