// SEAL's query-server result files with GPT-4.1's verdicts (data/squad/judged/*.json): for every question,
// the answer of the base model ("baseline") and of the adapted model ("adapter"), and whether GPT-4.1 judged
// each correct. They are the reference for validating an offline grader.
import { readFileSync } from 'node:fs';

export interface JudgedAnswer {
  title: string;
  question: string;
  gold: string;
  prediction: string;
  /** Which model gave the answer: the base model, or the model fine-tuned on the self-edit. */
  model: 'baseline' | 'adapter';
  /** GPT-4.1's verdict. */
  correct: boolean;
}

export function loadJudgedAnswers(path: string): JudgedAnswer[] {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read judged answers from ${path}: ${(e as Error).message}`);
  }
  const articles = (data as { articles?: unknown })?.articles;
  if (!Array.isArray(articles)) {
    throw new Error(`${path}: expected SEAL's query-server output, an object with an "articles" array`);
  }
  const out: JudgedAnswer[] = [];
  articles.forEach((article, a) => {
    const { title, completions } = article as { title?: unknown; completions?: unknown };
    if (typeof title !== 'string' || !Array.isArray(completions)) {
      throw new Error(`${path}: articles[${a}] needs a string "title" and a "completions" array`);
    }
    completions.forEach((completion, c) => {
      const questions = (completion as { questions?: unknown })?.questions;
      if (!Array.isArray(questions)) throw new Error(`${path}: articles[${a}].completions[${c}] has no "questions" array`);
      questions.forEach((q, i) => {
        const r = q as Record<string, unknown>;
        const where = `${path}: articles[${a}].completions[${c}].questions[${i}]`;
        for (const [field, type] of [
          ['question', 'string'],
          ['answer', 'string'],
          ['baseline_answer', 'string'],
          ['adapter_answer', 'string'],
          ['baseline_correct', 'boolean'],
          ['adapter_correct', 'boolean'],
        ] as const) {
          if (typeof r[field] !== type) throw new Error(`${where}: "${field}" must be a ${type}`);
        }
        const base = { title, question: r.question as string, gold: r.answer as string };
        out.push({ ...base, prediction: r.baseline_answer as string, model: 'baseline', correct: r.baseline_correct as boolean });
        out.push({ ...base, prediction: r.adapter_answer as string, model: 'adapter', correct: r.adapter_correct as boolean });
      });
    });
  });
  return out;
}
