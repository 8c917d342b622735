// The chat the few-shot model is trained on and queried with (marc's GPTTextMessageRepresenterV2 with
// SEAL's example format): the system message states the problem and lists the demonstrations, one
// `{input} -> {output}#` line each, every one followed by "\n"; the user gives `{test input} -> `; the
// assistant answers `{test output}#`. The chat template is applied elsewhere.
import type { FewShotTask } from './few-shot-task.ts';
import { formatAnswer, formatExample, formatQuery } from './grid-text.ts';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Counts the tokens of a sequence; `text` is the messages' contents joined, for counters that ignore the template. */
export type CountTokens = (text: string, messages: readonly ChatMessage[]) => number;

/** SEAL keeps test-time training sequences and inference queries under 8,192 tokens. */
export const MAX_SEQUENCE_TOKENS = 8192;

export const FEW_SHOT_SYSTEM_PROMPT =
  'Figure out the underlying transformation in the following examples and apply it to the test case. ' +
  'Here are some examples from this transformation, your answer must follow the format.\n' +
  'The input-output grids are provided as python arrays:\n';

/** System and user messages: what the model sees before it answers. */
export function fewShotQuery(task: FewShotTask): ChatMessage[] {
  const demonstrations = task.demonstrations.map((example) => `${formatExample(example)}\n`).join('');
  return [
    { role: 'system', content: FEW_SHOT_SYSTEM_PROMPT + demonstrations },
    { role: 'user', content: formatQuery(task.test.input) },
  ];
}

/** The whole conversation, answer included: one test-time training sequence. */
export function fewShotConversation(task: FewShotTask): ChatMessage[] {
  return [...fewShotQuery(task), { role: 'assistant', content: formatAnswer(task.test.output) }];
}

export function countMessages(countTokens: CountTokens, messages: readonly ChatMessage[]): number {
  return countTokens(messages.map((m) => m.content).join(''), messages);
}
