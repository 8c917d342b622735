// The LLM judge: SEAL graded each answer by asking GPT-4.1 a yes/no question (SQUAD_GRADE_TEMPLATE and
// parse_yes_no in knowledge-incorporation/src/utils.py). Here the same prompt goes to a local model; the
// model call itself belongs to whoever owns the model, so the judge takes a `generate` callback.
import { fillTemplate } from './self-edit-prompts.ts';
import { pyStrip } from './python-text.ts';

export const JUDGE_TEMPLATE =
  "You are a grading assistant. Your job is to determine whether a student's answer correctly answers the question based solely on the provided gold answer. " +
  'Do not use any outside knowledge. The student answer can include additional information, but it must at least fully convey the gold answer and must not contradict it. ' +
  "Ignore style, phrasing, or extra details that do not affect correctness. Respond ONLY with 'yes' or 'no'.\n\n" +
  'Question: {question}\nGold answer: {gold}\nStudent answer: {pred}\n' +
  "Is the student answer correct based solely on the gold answer? Respond 'yes' or 'no'.";

/**
 * SEAL's grading prompt. `question` is the question as the model was asked it: SEAL passes
 * "Topic: {title}\n{question}" (see topicQuestion). The prediction is stripped, as SEAL does.
 */
export function judgePrompt(question: string, gold: string, prediction: string): string {
  return fillTemplate(JUDGE_TEMPLATE, { question, gold, pred: pyStrip(prediction) });
}

// Python's `\b` in a str pattern is Unicode-aware (a word character is a letter, a number or `_`), while
// JavaScript's is ASCII-only even with the `u` flag; these lookarounds give Python's boundaries.
const YES = /(?<![\p{L}\p{N}_])yes(?![\p{L}\p{N}_])/iu;
const NO = /(?<![\p{L}\p{N}_])no(?![\p{L}\p{N}_])/iu;

/** SEAL's parse_yes_no: "yes" as a word and no "no" as a word; anything else (ambiguous, empty) is false. */
export function parseJudgeVerdict(text: string): boolean {
  return YES.test(text) && !NO.test(text);
}

export interface LlmJudgeOptions {
  /** The local model: prompt in, completion text out. */
  generate: (prompt: string) => Promise<string>;
  /**
   * Wraps SEAL's plain prompt for the model. GPT-4.1 got the prompt as a single user message, so for an
   * instruct model the faithful choice is its chat template with one user turn, e.g.
   * `(p) => chatTemplate.render([{ role: 'user', content: p }], { addGenerationPrompt: true })`
   * (src/io/chat-template.ts). Default: the prompt as it is.
   */
  formatPrompt?: (prompt: string) => string;
}

export type Grader = (question: string, gold: string, prediction: string) => Promise<boolean>;

/**
 * A grader backed by a local model. Empty predictions are wrong without asking the model, as in SEAL's
 * accuracy_and_texts.
 */
export function makeLlmJudge({ generate, formatPrompt = (prompt) => prompt }: LlmJudgeOptions): Grader {
  if (typeof generate !== 'function') throw new Error('makeLlmJudge needs a generate(prompt) => Promise<string> callback (the local model call)');
  return async (question, gold, prediction) => {
    if (pyStrip(prediction) === '') return false;
    return parseJudgeVerdict(await generate(formatPrompt(judgePrompt(question, gold, prediction))));
  };
}
