// How the (possibly adapted) model is asked a question, without the passage in context: SEAL's
// SQUAD_ANSWER_TEMPLATE_BASE (knowledge-incorporation/src/utils.py), filled with the question as
// query_server.py words it, "Topic: {title}\n{question}", and greedy decoding as TTT_server.py does it.
import { fillTemplate } from './self-edit-prompts.ts';

export const ANSWER_TEMPLATE = "Let's answer a question directly and concisely.\nQuestion: {question}\nAnswer:\n";

/** TTT_server.py defaults: greedy (temperature 0, top-p 1), at most 64 new tokens, one answer per question. */
export const ANSWER_SAMPLING = {
  temperature: 0,
  topP: 1.0,
  maxTokens: 64,
} as const;

/** The question as SEAL poses it, and as its grader sees it: prefixed with the passage's title. */
export function topicQuestion(title: string, question: string): string {
  return `Topic: ${title}\n${question}`;
}

export function answerPrompt(title: string, question: string): string {
  return fillTemplate(ANSWER_TEMPLATE, { question: topicQuestion(title, question) });
}
