import { describe, expect, it } from 'vitest';
import { judgePrompt, makeLlmJudge, parseJudgeVerdict } from '../../../src/seal/knowledge/llm-judge.ts';

describe('LLM judge (SEAL SQUAD_GRADE_TEMPLATE and parse_yes_no)', () => {
  it('renders the grading prompt byte for byte, with the prediction stripped', () => {
    expect(judgePrompt('Topic: Genghis Khan\nWhat metal?', 'silver', '  The metal was silver.\n')).toBe(
      "You are a grading assistant. Your job is to determine whether a student's answer correctly answers the question based solely on the provided gold answer. " +
        'Do not use any outside knowledge. The student answer can include additional information, but it must at least fully convey the gold answer and must not contradict it. ' +
        "Ignore style, phrasing, or extra details that do not affect correctness. Respond ONLY with 'yes' or 'no'.\n\n" +
        'Question: Topic: Genghis Khan\nWhat metal?\nGold answer: silver\nStudent answer: The metal was silver.\n' +
        "Is the student answer correct based solely on the gold answer? Respond 'yes' or 'no'.",
    );
  });

  it('reads yes only when "yes" is a word and "no" is not', () => {
    expect(parseJudgeVerdict('yes')).toBe(true);
    expect(parseJudgeVerdict('Yes.')).toBe(true);
    expect(parseJudgeVerdict('YES, it is correct')).toBe(true);
    expect(parseJudgeVerdict('no')).toBe(false);
    expect(parseJudgeVerdict('Yes and no')).toBe(false);
    expect(parseJudgeVerdict('yesterday')).toBe(false);
    expect(parseJudgeVerdict('yes, nothing contradicts it')).toBe(true); // "nothing" is not the word "no"
    expect(parseJudgeVerdict('')).toBe(false);
    expect(parseJudgeVerdict('éyes')).toBe(false); // Python's \b is Unicode-aware: é is a word character
    expect(parseJudgeVerdict('yes_')).toBe(false);
  });

  it('asks the model through the callback and skips empty predictions', async () => {
    const prompts: string[] = [];
    const judge = makeLlmJudge({
      generate: async (prompt) => {
        prompts.push(prompt);
        return prompt.includes('Student answer: silver') ? ' Yes' : 'No.';
      },
      formatPrompt: (prompt) => `<user>${prompt}</user>`,
    });
    expect(await judge('Q', 'silver', 'silver')).toBe(true);
    expect(await judge('Q', 'silver', 'iron')).toBe(false);
    expect(await judge('Q', 'silver', '  \n')).toBe(false);
    expect(prompts).toHaveLength(2);
    expect(prompts[0].startsWith('<user>You are a grading assistant.')).toBe(true);
  });
});
