import { describe, expect, it } from 'vitest';
import { type ArcModelHooks, evaluateSelfEdit, sampleParsedSelfEdit } from '../../../src/seal/arc/episode.ts';
import type { ChatMessage } from '../../../src/seal/arc/messages.ts';
import { ORACLE_SELF_EDIT, formatSelfEdit, parseSelfEdit } from '../../../src/seal/arc/self-edit.ts';
import { TASK_6150A2BD } from '../../helpers/arc-task.ts';

const task = TASK_6150A2BD;
const options = { countTokens: () => 100 };

/** A stand-in model: answers the untransformed test input with `answer`, anything else with prose. */
function fakeModel(answer: string) {
  const log = { trained: 0, answered: 0, released: 0 };
  const hooks: ArcModelHooks<string> = {
    async train(plan, examples) {
      log.trained++;
      expect(examples).toHaveLength(plan.examples);
      return 'adapter';
    },
    async answer(adapter, queries: readonly ChatMessage[][]) {
      expect(adapter).toBe('adapter');
      log.answered += queries.length;
      return queries.map((q) => (q[1].content === '[[6 3 5]\n [6 8 0]\n [4 0 0]] -> ' ? answer : 'no idea'));
    },
    release() {
      log.released++;
    },
  };
  return { hooks, log };
}

describe('evaluateSelfEdit: one self-edit, trained and voted on', () => {
  it('reward 1 when the answers solve the task', async () => {
    const { hooks, log } = fakeModel('[[0 0 4]\n [0 8 6]\n [5 3 6]]#');
    const outcome = await evaluateSelfEdit(task, parseSelfEdit(formatSelfEdit(ORACLE_SELF_EDIT)), hooks, options);
    expect(outcome.reward).toBe(1);
    expect(outcome.solved).toBe(true);
    expect(outcome.attempts[0]?.[0]).toEqual([
      [0, 0, 4],
      [0, 8, 6],
      [5, 3, 6],
    ]);
    // Two untransformed queries answered, five views answered with prose.
    expect(outcome.droppedAnswers).toBe(5);
    expect(log).toEqual({ trained: 1, answered: 7, released: 1 });
  });

  it('reward 0 when they do not', async () => {
    const { hooks } = fakeModel('[[0 0 0]\n [0 0 0]\n [0 0 0]]#');
    const outcome = await evaluateSelfEdit(task, parseSelfEdit(formatSelfEdit(ORACLE_SELF_EDIT)), hooks, options);
    expect(outcome.reward).toBe(0);
    expect(outcome.attempts[0]).toEqual([
      [
        [0, 0, 0],
        [0, 0, 0],
        [0, 0, 0],
      ],
      [
        [0, 0, 0],
        [0, 0, 0],
        [0, 0, 0],
      ],
    ]);
  });

  it('a refused self-edit trains nothing and earns 0', async () => {
    const { hooks, log } = fakeModel('[[0 0 4]\n [0 8 6]\n [5 3 6]]#');
    const tooLong = parseSelfEdit(formatSelfEdit({ ...ORACLE_SELF_EDIT, epochs: 50 }));
    const outcome = await evaluateSelfEdit(task, tooLong, hooks, options);
    expect(outcome.reward).toBe(0);
    expect(outcome.plan.refusal).toMatch(/over the 375-step budget/);
    expect(log.trained).toBe(0);
    const invalid = await evaluateSelfEdit(task, parseSelfEdit('{"training": {}}'), hooks, options);
    expect(invalid.reward).toBe(0);
    expect(log.trained).toBe(0);
  });

  it('needs the solutions', async () => {
    const { hooks } = fakeModel('');
    const unsolved = { ...task, test: [{ input: task.test[0].input }] };
    await expect(evaluateSelfEdit(unsolved, parseSelfEdit(formatSelfEdit(ORACLE_SELF_EDIT)), hooks, options)).rejects.toThrow(
      /test input 0 has no solution; load the solutions file/,
    );
  });
});

describe('sampleParsedSelfEdit: resample until JSON, bounded', () => {
  it('counts the failures before a parse', async () => {
    const completions = ['Sure! Here is', '```json\n{}\n```', '{"data_generation": {}, "training": {}}'];
    const result = await sampleParsedSelfEdit(async () => completions.shift()!);
    expect(result?.failures).toBe(2);
    expect(result?.completion).toBe('{"data_generation": {}, "training": {}}');
  });

  it('gives up after maxAttempts', async () => {
    let calls = 0;
    const result = await sampleParsedSelfEdit(async () => (calls++, 'nope'), 3);
    expect(result).toBeNull();
    expect(calls).toBe(3);
  });
});
