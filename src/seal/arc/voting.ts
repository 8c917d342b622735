// Hierarchical voting over a test input's predictions (marc's arclib/voting.py, as SEAL uses it): the
// top 3 candidates within all predictions and within each view category, then the top 2 over those
// candidates are the two attempts. A task is solved when every test input's solution is one of its two
// attempts (ARC Prize scoring, SEAL's arclib/eval.py).
import { type Grid, gridKey, gridsEqual, height, transpose, width } from './grid.ts';
import { IDENTITY_CATEGORY, type Prediction } from './inference-queries.ts';

/** The categories that nominate candidates, in SEAL's order ("all" is every prediction). */
const CATEGORY_ORDER = ['all', IDENTITY_CATEGORY, 'Transpose()', 'Flip(0)', 'Flip(1)', 'Rotate(180)', 'Rotate(270)'];

/**
 * Distinct items by descending count; equal counts keep the order of first appearance (SEAL's order there
 * is a Python set's, i.e. arbitrary).
 */
function rankByCount<T>(items: readonly T[], key: (item: T) => string): { item: T; count: number }[] {
  const tally = new Map<string, { item: T; count: number }>();
  for (const item of items) {
    const k = key(item);
    const entry = tally.get(k);
    if (entry) entry.count++;
    else tally.set(k, { item, count: 1 });
  }
  return [...tally.values()].sort((a, b) => b.count - a.count);
}

function mostCommon<T>(items: readonly T[], key: (item: T) => string): T {
  return rankByCount(items, key)[0].item;
}

/**
 * Row-wise majority (SEAL's row_base_majority_voting): the most common shape, then row by row the most
 * common row among the grids that have that row at that width. With `byColumns`, the same on transposes.
 */
export function rowMajority(outputs: readonly Grid[], byColumns = false): Grid {
  const grids = byColumns ? outputs.map(transpose) : outputs;
  const shape = mostCommon(grids, (g) => `${height(g)}x${width(g)}`);
  const rows = Array.from({ length: height(shape) }, (_, r) =>
    mostCommon(
      grids.filter((g) => height(g) > r && width(g) === width(shape)).map((g) => g[r]),
      (row) => row.join(''),
    ),
  );
  return byColumns ? transpose(rows) : rows.map((row) => [...row]);
}

/**
 * SEAL's get_all_type_of_votingsv2: the three most common outputs; where there are fewer distinct ones,
 * the row-wise and then the column-wise majority fill in.
 */
export function topThree(outputs: readonly Grid[]): [Grid, Grid, Grid] {
  const ranked = rankByCount(outputs, gridKey).map((entry) => entry.item);
  const most = ranked[0];
  let second = ranked[1] ?? most;
  let third = ranked[2] ?? most;
  const byRows = rowMajority(outputs);
  const byColumns = rowMajority(outputs, true);
  if (gridsEqual(second, most)) second = gridsEqual(byRows, most) ? byColumns : byRows;
  if (gridsEqual(third, most) || gridsEqual(third, second)) {
    third = gridsEqual(byRows, most) || gridsEqual(byRows, second) ? byColumns : byRows;
  }
  return [most, second, third];
}

/** The two attempts for a test input, or null when there are no predictions. */
export function vote(predictions: readonly Prediction[]): [Grid, Grid] | null {
  if (predictions.length === 0) return null;
  const byCategory = new Map<string, Grid[]>();
  for (const { grid, category } of predictions) {
    if (!byCategory.has(category)) byCategory.set(category, []);
    byCategory.get(category)!.push(grid);
  }
  // "all" lists the predictions grouped by category, which decides ties between equal counts.
  byCategory.set('all', [...byCategory.values()].flat());

  const candidates = CATEGORY_ORDER.flatMap((category) => {
    const outputs = byCategory.get(category);
    return outputs === undefined ? [] : topThree(outputs);
  });
  const [first, second, third] = topThree(candidates);
  const count = (grids: readonly Grid[], grid: Grid) => grids.filter((g) => gridsEqual(g, grid)).length;
  const identity = byCategory.get(IDENTITY_CATEGORY);
  // On a tie for second place, SEAL keeps the candidate the untransformed queries favour, the third on a tie.
  if (identity !== undefined && count(candidates, second) === count(candidates, third)) {
    return count(identity, second) > count(identity, third) ? [first, second] : [first, third];
  }
  return [first, second];
}

/** Solved when every test input has its solution among its attempts. */
export function isTaskSolved(attempts: readonly ([Grid, Grid] | null)[], solutions: readonly Grid[]): boolean {
  if (attempts.length !== solutions.length) {
    throw new Error(`${attempts.length} sets of attempts for ${solutions.length} test inputs; give one per test input`);
  }
  return solutions.every((solution, i) => attempts[i]?.some((attempt) => gridsEqual(attempt, solution)) ?? false);
}
