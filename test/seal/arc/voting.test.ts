import { describe, expect, it } from 'vitest';
import type { Grid } from '../../../src/seal/arc/grid.ts';
import type { Prediction } from '../../../src/seal/arc/inference-queries.ts';
import { isTaskSolved, rowMajority, topThree, vote } from '../../../src/seal/arc/voting.ts';

const A: Grid = [[1]];
const B: Grid = [[2]];
const C: Grid = [[3]];

function predictions(category: string, ...grids: Grid[]): Prediction[] {
  return grids.map((grid) => ({ grid, category }));
}

describe('rowMajority and topThree (marc voting.py)', () => {
  const P = [
    [1, 1],
    [2, 2],
  ];
  const Q = [
    [1, 1],
    [3, 3],
  ];
  const R = [
    [4, 4],
    [5, 5],
  ];
  const S = [
    [6, 6],
    [5, 5],
  ];
  const T = [
    [7, 7],
    [5, 5],
  ];

  it('row by row: top row [1 1] (twice), bottom row [5 5] (three times) — a grid nobody predicted', () => {
    expect(rowMajority([P, Q, R, S, T])).toEqual([
      [1, 1],
      [5, 5],
    ]);
  });

  it('column by column: every column is unique, so the first grid’s columns win', () => {
    expect(rowMajority([P, Q, R, S, T], true)).toEqual(P);
  });

  it('the most common shape decides, and rows of other heights but the same width still vote', () => {
    const tall = [
      [4, 4],
      [3, 3],
      [0, 0],
    ];
    expect(rowMajority([P, Q, R, tall])).toEqual([
      [1, 1],
      [3, 3],
    ]);
  });

  it('ranks by count, ties by first appearance', () => {
    expect(topThree([C, B, B, A, C, C])).toEqual([C, B, A]);
    expect(topThree([P, Q, R, S, T])).toEqual([P, Q, R]);
  });

  it('fills missing places with the row-wise, then the column-wise majority', () => {
    expect(topThree([A, A, A])).toEqual([A, A, A]);
    expect(topThree([P, P, Q])).toEqual([P, Q, P]);
  });
});

describe('vote: top 3 per category, then top 2 overall', () => {
  it('the majority first, the runner-up second', () => {
    const attempts = vote([...predictions('identity', A, A, A, B, B, C), ...predictions('Transpose()', A)]);
    // Candidates: all → A B C, identity → A B C, Transpose() → A A A; A 5, B 2, C 2;
    // B and C tie, and B has more untransformed votes, so B stays.
    expect(attempts).toEqual([A, B]);
  });

  it('transformed views outvote the untransformed queries', () => {
    const attempts = vote([...predictions('identity', A, B), ...predictions('Rotate(270)', B, B)]);
    // Candidates: all → B A B, identity → A B A, Rotate(270) → B B B: B 6, A 3.
    expect(attempts).toEqual([B, A]);
  });

  it("on a tie for second with equal untransformed votes, SEAL's rule takes the third candidate", () => {
    const attempts = vote(predictions('identity', A, A, B, C));
    // Candidates: all → A B C, identity → A B C: every one twice, ranked by first appearance (SEAL's order
    // here is Python's set order); B and C have one identity vote each, so C replaces B.
    expect(attempts).toEqual([A, C]);
  });

  it('one prediction fills both attempts', () => {
    expect(vote(predictions('Flip(0)', C))).toEqual([C, C]);
  });

  it('nothing to vote on', () => {
    expect(vote([])).toBeNull();
  });
});

describe('isTaskSolved: every test input right within two attempts', () => {
  it('needs each solution among its attempts', () => {
    expect(isTaskSolved([[A, B]], [B])).toBe(true);
    expect(isTaskSolved([[A, B]], [C])).toBe(false);
    expect(
      isTaskSolved(
        [
          [A, B],
          [C, A],
        ],
        [A, C],
      ),
    ).toBe(true);
    expect(
      isTaskSolved(
        [
          [A, B],
          [B, B],
        ],
        [A, C],
      ),
    ).toBe(false);
    expect(isTaskSolved([[A, B], null], [A, C])).toBe(false);
  });

  it('compares shapes too', () => {
    expect(isTaskSolved([[[[1, 1]], A]], [[[1], [1]]])).toBe(false);
  });

  it('refuses a count mismatch', () => {
    expect(() => isTaskSolved([[A, B]], [A, B])).toThrow(/1 sets of attempts for 2 test inputs/);
  });
});
