import { describe, expect, it } from 'vitest';
import { formatExample, formatGrid, parseGridAnswer } from '../../../src/seal/arc/grid-text.ts';
import { FEW_SHOT_SYSTEM_PROMPT, fewShotConversation, fewShotQuery } from '../../../src/seal/arc/messages.ts';
import { TASK_6150A2BD } from '../../helpers/arc-task.ts';

const first6150a2bd = TASK_6150A2BD.train[0];

describe('grids as numpy prints them', () => {
  it("matches the SEAL paper's example for task 6150a2bd byte for byte", () => {
    expect(formatExample(first6150a2bd)).toBe('[[3 3 8]\n [3 7 0]\n [5 0 0]] -> [[0 0 5]\n [0 7 3]\n [8 3 3]]#');
  });

  it('prints single cells, single rows and single columns like numpy', () => {
    expect(formatGrid([[5]])).toBe('[[5]]');
    expect(formatGrid([[1, 2, 3]])).toBe('[[1 2 3]]');
    expect(formatGrid([[1], [2], [3]])).toBe('[[1]\n [2]\n [3]]');
  });

  it('does not wrap a 30-cell row (numpy wraps only past 75 characters)', () => {
    const row = Array(30).fill(7);
    expect(formatGrid([row])).toBe(`[[${'7 '.repeat(29)}7]]`);
  });
});

describe('the few-shot chat (marc GPTTextMessageRepresenterV2)', () => {
  const task = {
    demonstrations: [
      { input: [[1, 0]], output: [[0, 1]] },
      { input: [[2], [3]], output: [[3], [2]] },
    ],
    test: { input: [[4, 4]], output: [[4, 4]] },
  };

  it('lists each demonstration on its own line ending "#\\n" in the system message; the user asks; the assistant answers', () => {
    expect(fewShotConversation(task)).toEqual([
      {
        role: 'system',
        content:
          'Figure out the underlying transformation in the following examples and apply it to the test case. ' +
          'Here are some examples from this transformation, your answer must follow the format.\n' +
          'The input-output grids are provided as python arrays:\n' +
          '[[1 0]] -> [[0 1]]#\n' +
          '[[2]\n [3]] -> [[3]\n [2]]#\n',
      },
      { role: 'user', content: '[[4 4]] -> ' },
      { role: 'assistant', content: '[[4 4]]#' },
    ]);
    expect(fewShotQuery(task)).toEqual(fewShotConversation(task).slice(0, 2));
  });

  it('with no demonstrations the system message is the instructions alone', () => {
    expect(fewShotQuery({ demonstrations: [], test: task.test })[0].content).toBe(FEW_SHOT_SYSTEM_PROMPT);
  });
});

describe('parseGridAnswer: model outputs back to grids', () => {
  it('reads a numpy-printed grid ending in #', () => {
    expect(parseGridAnswer('[[0 0 5]\n [0 7 3]\n [8 3 3]]#')).toEqual([
      [0, 0, 5],
      [0, 7, 3],
      [8, 3, 3],
    ]);
  });

  it('ignores whatever follows the #', () => {
    expect(parseGridAnswer('[[1 2]\n [3 4]]#<|eot_id|>[[9 9]]# and more')).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('accepts an answer without the #, surrounding whitespace, and doubled spaces', () => {
    expect(parseGridAnswer('  [[1  2]\n [3 4]]\n')).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(parseGridAnswer('[[7]]')).toEqual([[7]]);
  });

  const malformed: [string, string][] = [
    ['empty', ''],
    ['prose', 'The answer is 5.'],
    ['ragged rows', '[[1 2]\n [3]]#'],
    ['a two-digit number', '[[12 3]]#'],
    ['a letter', '[[1 a]]#'],
    ['an unclosed grid', '[[1 2]\n [3 4]#'],
    ['an empty row', '[[]]#'],
    ['a missing row bracket', '[[1 2]\n 3 4]]#'],
    ['a python list with commas', '[[1, 2], [3, 4]]#'],
    ['rows on one line', '[[1 2] [3 4]]#'],
  ];
  for (const [what, text] of malformed) {
    it(`gives null for ${what}`, () => {
      expect(parseGridAnswer(text)).toBeNull();
    });
  }
});
