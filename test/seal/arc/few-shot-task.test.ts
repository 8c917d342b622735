import { describe, expect, it } from 'vitest';
import {
  colorPermutation,
  combinations,
  leaveOutDemonstrations,
  leaveOutTasks,
  permuteColors,
  permuteExamples,
  recolor,
} from '../../../src/seal/arc/few-shot-task.ts';
import { Rng } from '../../../src/util/random.ts';

// Demonstration d has input [[d]] and output [[d + 5]], so tasks read as lists of indices.
const demos = [0, 1, 2, 3].map((d) => ({ input: [[d]], output: [[d + 5]] }));
const shape = (task: { demonstrations: readonly { input: readonly (readonly number[])[] }[]; test: { input: readonly (readonly number[])[] } }) => ({
  test: task.test.input[0][0],
  demos: task.demonstrations.map((d) => d.input[0][0]),
});

describe('leave-n-out construction', () => {
  it('combinations in itertools order', () => {
    expect(combinations(4, 2)).toEqual([
      [0, 1],
      [0, 2],
      [0, 3],
      [1, 2],
      [1, 3],
      [2, 3],
    ]);
    expect(combinations(3, 0)).toEqual([[]]);
  });

  it('test-time training, leave-1-out: each demonstration once the test, the other 3 in order', () => {
    expect(leaveOutTasks(demos, 1).map(shape)).toEqual([
      { test: 0, demos: [1, 2, 3] },
      { test: 1, demos: [0, 2, 3] },
      { test: 2, demos: [0, 1, 3] },
      { test: 3, demos: [0, 1, 2] },
    ]);
  });

  it('test-time training, leave-2-out: N·(N−1) = 12 tasks of 2 demonstrations', () => {
    expect(leaveOutTasks(demos, 2).map(shape)).toEqual([
      { test: 0, demos: [2, 3] },
      { test: 0, demos: [1, 3] },
      { test: 0, demos: [1, 2] },
      { test: 1, demos: [2, 3] },
      { test: 1, demos: [0, 3] },
      { test: 1, demos: [0, 2] },
      { test: 2, demos: [1, 3] },
      { test: 2, demos: [0, 3] },
      { test: 2, demos: [0, 1] },
      { test: 3, demos: [1, 2] },
      { test: 3, demos: [0, 2] },
      { test: 3, demos: [0, 1] },
    ]);
  });

  it('leave-2-out of 2 demonstrations leaves tasks without demonstrations, as in SEAL', () => {
    expect(leaveOutTasks(demos.slice(0, 2), 2).map(shape)).toEqual([
      { test: 0, demos: [] },
      { test: 1, demos: [] },
    ]);
  });

  it('refuses n outside 1..N', () => {
    expect(() => leaveOutTasks(demos, 0)).toThrow(/leave-0-out needs 1 ≤ n ≤ 4/);
    expect(() => leaveOutTasks(demos, 5)).toThrow(/leave-5-out/);
  });

  it('inference subsets: leave-1-out gives 4 sets of 3, leave-0-out the whole set', () => {
    const ids = (subsets: { input: readonly (readonly number[])[] }[][]) => subsets.map((s) => s.map((d) => d.input[0][0]));
    expect(ids(leaveOutDemonstrations(demos, 1))).toEqual([
      [1, 2, 3],
      [0, 2, 3],
      [0, 1, 3],
      [0, 1, 2],
    ]);
    expect(ids(leaveOutDemonstrations(demos, 0))).toEqual([[0, 1, 2, 3]]);
    expect(leaveOutDemonstrations(demos, 2)).toHaveLength(6);
  });
});

describe('colour permutation (SEAL PermuteColors)', () => {
  const fewColours = {
    demonstrations: [
      {
        input: [
          [0, 1],
          [2, 0],
        ],
        output: [
          [2, 1],
          [0, 0],
        ],
      },
    ],
    test: {
      input: [
        [1, 1],
        [0, 2],
      ],
      output: [
        [3, 0],
        [0, 0],
      ],
    },
  };

  it('keeps 0 fixed and, with few colours, sends each to a colour the task does not use', () => {
    for (let seed = 0; seed < 50; seed++) {
      const map = colorPermutation(fewColours, new Rng(seed));
      expect(map.get(0)).toBe(0);
      const targets = [1, 2, 3].map((c) => map.get(c)!);
      expect(new Set(targets).size).toBe(3);
      for (const target of targets) expect([4, 5, 6, 7, 8, 9]).toContain(target);
    }
  });

  it('with every colour in use, swaps colours and stays a bijection fixing 0', () => {
    const allColours = {
      demonstrations: [{ input: [[0, 1, 2, 3, 4]], output: [[5, 6, 7, 8, 9]] }],
      test: { input: [[1]], output: [[2]] },
    };
    for (let seed = 0; seed < 50; seed++) {
      const map = colorPermutation(allColours, new Rng(seed));
      expect(map.get(0)).toBe(0);
      expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map((c) => map.get(c)).sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
  });

  it('applies one map to every grid of the task, test output included', () => {
    const map = new Map([
      [0, 0],
      [1, 7],
      [2, 4],
      [3, 9],
    ]);
    expect(recolor(fewColours, map)).toEqual({
      demonstrations: [
        {
          input: [
            [0, 7],
            [4, 0],
          ],
          output: [
            [4, 7],
            [0, 0],
          ],
        },
      ],
      test: {
        input: [
          [7, 7],
          [0, 4],
        ],
        output: [
          [9, 0],
          [0, 0],
        ],
      },
    });
    const permuted = permuteColors(fewColours, new Rng(3));
    // Zeros stay where they were.
    expect(permuted.test.output.map((row) => row.map((c) => c === 0))).toEqual([
      [false, true],
      [true, true],
    ]);
  });
});

describe('demonstration shuffling (SEAL PermuteExamples)', () => {
  it('reorders the demonstrations, not the test example', () => {
    const task = { demonstrations: demos, test: { input: [[9]], output: [[9]] } };
    const orders = new Set<string>();
    for (let seed = 0; seed < 30; seed++) {
      const shuffled = permuteExamples(task, new Rng(seed));
      expect(shuffled.test).toBe(task.test);
      const ids = shuffled.demonstrations.map((d) => d.input[0][0]);
      expect([...ids].sort()).toEqual([0, 1, 2, 3]);
      orders.add(ids.join());
    }
    expect(orders.size).toBeGreaterThan(5);
  });
});
