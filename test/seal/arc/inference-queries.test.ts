import { describe, expect, it } from 'vitest';
import type { ArcTask } from '../../../src/seal/arc/arc-data.ts';
import { taskKey } from '../../../src/seal/arc/few-shot-task.ts';
import { buildInferenceQueries, readPrediction } from '../../../src/seal/arc/inference-queries.ts';
import { TASK_6150A2BD } from '../../helpers/arc-task.ts';

const FEW_TOKENS = () => 100;

describe('buildInferenceQueries: marc get_leave_n_test_task (leave-1-out, 2 permutations)', () => {
  it('two demonstrations: the two leave-one-out tasks and five transformed views', () => {
    const { queries, valid } = buildInferenceQueries(TASK_6150A2BD, 0, { countTokens: FEW_TOKENS });
    expect(valid).toBe(true);
    // With one demonstration left, the permuted orders are duplicates.
    expect(queries.map((q) => [q.view?.name ?? null, q.category])).toEqual([
      [null, 'identity'],
      [null, 'identity'],
      ['Transpose()', 'Transpose()'],
      ['Flip(0)', 'Flip(0)'],
      ['Flip(1)', 'Flip(1)'],
      ['Rotate(90)', 'Rotate(270)'],
      ['Rotate(180)', 'Rotate(180)'],
    ]);
    expect(queries[0].messages[1]).toEqual({ role: 'user', content: '[[6 3 5]\n [6 8 0]\n [4 0 0]] -> ' });
    // The Rotate(90) view shows the test input turned a quarter counter-clockwise.
    expect(queries[5].messages[1].content).toBe('[[5 0 0]\n [3 8 0]\n [6 6 4]] -> ');
    for (const query of queries) {
      expect(query.messages.map((m) => m.role)).toEqual(['system', 'user']);
      expect(query.task.demonstrations).toHaveLength(1);
      expect(query.leaveOut).toBe(1);
    }
  });

  it('four demonstrations: each leave-one-out set in up to 3 orders, de-duplicated', () => {
    const demo = (d: number) => ({ input: [[d, 0]], output: [[0, d]] });
    const task: ArcTask = { id: 'four', train: [1, 2, 3, 4].map(demo), test: [{ input: [[5, 0]] }] };
    const { queries } = buildInferenceQueries(task, 0, { countTokens: FEW_TOKENS });
    const plain = queries.filter((q) => q.view === null);
    expect(plain.length).toBeGreaterThanOrEqual(4);
    expect(plain.length).toBeLessThanOrEqual(12);
    const subsets = new Set(
      plain.map((q) =>
        q.task.demonstrations
          .map((d) => d.input[0][0])
          .sort()
          .join(),
      ),
    );
    expect([...subsets].sort()).toEqual(['1,2,3', '1,2,4', '1,3,4', '2,3,4']);
    expect(new Set(queries.map((q) => taskKey(q.task))).size).toBe(queries.length);
    expect(queries.filter((q) => q.view !== null).length).toBeLessThanOrEqual(5);
  });

  it('falls back to leave-2-out when every leave-1-out query is too long', () => {
    const demo = (d: number) => ({ input: [[d]], output: [[d]] });
    const task: ArcTask = { id: 'long', train: [1, 2, 3, 4].map(demo), test: [{ input: [[5]] }] };
    const demonstrationsIn = (system: string) => system.split('#\n').length - 1;
    const countTokens = (_: string, messages: readonly { content: string }[]) => (demonstrationsIn(messages[0].content) >= 3 ? 9000 : 50);
    const { queries, valid } = buildInferenceQueries(task, 0, { countTokens });
    expect(valid).toBe(true);
    expect(queries.length).toBeGreaterThan(0);
    for (const query of queries) expect(query.leaveOut).toBe(2);

    const none = buildInferenceQueries(task, 0, { countTokens: () => 8192 });
    expect(none).toEqual({ queries: [], valid: false });
  });

  it('counts tokens with the answer included: the solution, or the test input when there is none', () => {
    const seen: string[] = [];
    buildInferenceQueries(TASK_6150A2BD, 0, { countTokens: (text) => (seen.push(text), 1) });
    expect(seen[0].endsWith('[[6 3 5]\n [6 8 0]\n [4 0 0]] -> [[0 0 4]\n [0 8 6]\n [5 3 6]]#')).toBe(true);
    const unsolved = { ...TASK_6150A2BD, test: [{ input: TASK_6150A2BD.test[0].input }] };
    seen.length = 0;
    buildInferenceQueries(unsolved, 0, { countTokens: (text) => (seen.push(text), 1) });
    expect(seen[0].endsWith('[[6 3 5]\n [6 8 0]\n [4 0 0]] -> [[6 3 5]\n [6 8 0]\n [4 0 0]]#')).toBe(true);
  });

  it('names a test index that does not exist', () => {
    expect(() => buildInferenceQueries(TASK_6150A2BD, 1, { countTokens: FEW_TOKENS })).toThrow(/task 6150a2bd has 1 test input\(s\); test index 1/);
  });
});

describe('readPrediction: answers back to the original orientation', () => {
  const { queries } = buildInferenceQueries(TASK_6150A2BD, 0, { countTokens: FEW_TOKENS });
  const solution = [
    [0, 0, 4],
    [0, 8, 6],
    [5, 3, 6],
  ];

  it('an untransformed query: the grid as answered', () => {
    expect(readPrediction(queries[0], '[[0 0 4]\n [0 8 6]\n [5 3 6]]#')).toEqual({ grid: solution, category: 'identity' });
  });

  it('the Rotate(90) view: its answer is rotated back by Rotate(270)', () => {
    // The solution turned a quarter counter-clockwise, as the model would answer on that view.
    expect(readPrediction(queries[5], '[[4 6 6]\n [0 8 3]\n [0 0 5]]#')).toEqual({ grid: solution, category: 'Rotate(270)' });
  });

  it('the Transpose and Flip(0) views', () => {
    expect(readPrediction(queries[2], '[[0 0 5]\n [0 8 3]\n [4 6 6]]#')?.grid).toEqual(solution);
    expect(readPrediction(queries[3], '[[5 3 6]\n [0 8 6]\n [0 0 4]]#')?.grid).toEqual(solution);
  });

  it('drops unparseable answers', () => {
    expect(readPrediction(queries[0], 'I think [[0 0 4]]')).toBeNull();
    expect(readPrediction(queries[5], '[[4 6]\n [0 8 3]]#')).toBeNull();
  });
});
