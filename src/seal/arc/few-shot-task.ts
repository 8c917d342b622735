// A few-shot task: some demonstrations and one test example — marc's arclib Task, the unit that test-time
// training sequences and inference queries are made from. Here too are the operations SEAL builds them
// with: leave-n-out, applying a tool, colour permutation, demonstration shuffling, de-duplication.
import type { Rng } from '../../util/random.ts';
import type { ArcExample } from './arc-data.ts';
import { type Grid, colorsOf, gridKey, height, width } from './grid.ts';
import type { Tool } from './tools.ts';

export interface FewShotTask {
  demonstrations: readonly ArcExample[];
  /** At inference without a known solution, SEAL (marc) sets the output to a copy of the input. */
  test: ArcExample;
}

function allGrids(task: FewShotTask): Grid[] {
  return [...task.demonstrations, task.test].flatMap((example) => [example.input, example.output]);
}

/** The longest side of any grid in the task, test example included (SEAL's max_height / max_width). */
export function maxSide(task: FewShotTask): number {
  return Math.max(...allGrids(task).map((grid) => Math.max(height(grid), width(grid))));
}

/** Identifies a task by its grids and their order (SEAL hashes tasks the same way). */
export function taskKey(task: FewShotTask): string {
  return [...task.demonstrations, task.test].map((e) => `${gridKey(e.input)}>${gridKey(e.output)}`).join(';');
}

/** De-duplicates by `taskKey`, keeping first occurrences in order (SEAL's list(set(...)), made ordered). */
export function uniqueTasks<T extends FewShotTask>(tasks: readonly T[]): T[] {
  const seen = new Set<string>();
  return tasks.filter((task) => {
    const key = taskKey(task);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** All k-element subsets of [0, n), in itertools.combinations order. */
export function combinations(n: number, k: number): number[][] {
  if (k === 0) return [[]];
  const result: number[][] = [];
  const pick = (start: number, chosen: number[]) => {
    if (chosen.length === k) {
      result.push([...chosen]);
      return;
    }
    for (let i = start; i < n; i++) pick(i + 1, [...chosen, i]);
  };
  pick(0, []);
  return result;
}

/**
 * Test-time training tasks from the demonstrations alone (SEAL's get_test_time_train_data): each
 * demonstration in turn becomes the test example, and n − 1 more are left out in every possible way, so
 * there are N·C(N−1, n−1) tasks with N − n demonstrations each, in the original order.
 */
export function leaveOutTasks(demonstrations: readonly ArcExample[], n: number): FewShotTask[] {
  const count = demonstrations.length;
  if (!Number.isInteger(n) || n < 1 || n > count) {
    throw new Error(`leave-${n}-out needs 1 ≤ n ≤ ${count} (the number of demonstrations)`);
  }
  const tasks: FewShotTask[] = [];
  for (let test = 0; test < count; test++) {
    const others = [...Array(count).keys()].filter((i) => i !== test);
    for (const dropped of combinations(others.length, n - 1)) {
      const kept = others.filter((_, position) => !dropped.includes(position));
      tasks.push({ demonstrations: kept.map((i) => demonstrations[i]), test: demonstrations[test] });
    }
  }
  return tasks;
}

/**
 * The demonstration subsets with n left out, every way (marc's get_leave_n_test_task); n = 0 gives the
 * full set.
 */
export function leaveOutDemonstrations(demonstrations: readonly ArcExample[], n: number): ArcExample[][] {
  if (!Number.isInteger(n) || n < 0 || n > demonstrations.length) {
    throw new Error(`leave-${n}-out needs 0 ≤ n ≤ ${demonstrations.length} (the number of demonstrations)`);
  }
  return combinations(demonstrations.length, n).map((dropped) => demonstrations.filter((_, i) => !dropped.includes(i)));
}

/** Applies a tool to every example of the task, the test example's included. */
export function applyTool(task: FewShotTask, tool: Tool): FewShotTask {
  return { demonstrations: task.demonstrations.map((e) => tool.apply(e)), test: tool.apply(task.test) };
}

/**
 * SEAL's PermuteColors: a random bijection on the task's colours that keeps 0 (black, usually the
 * background) fixed. Colours move to unused colours while there are any; after that, to a random used
 * colour, which then takes the colour it displaced (a swap).
 */
export function colorPermutation(task: FewShotTask, rng: Rng): Map<number, number> {
  const used = colorsOf(allGrids(task)).filter((c) => c !== 0);
  const unused = rng.shuffle([1, 2, 3, 4, 5, 6, 7, 8, 9].filter((c) => !used.includes(c)));
  const permuted = rng.shuffle([...used]);
  const map = new Map<number, number>([[0, 0]]);
  for (const color of used) {
    if (map.has(color)) continue;
    let target: number;
    if (unused.length > 0) {
      target = unused.pop()!;
    } else {
      target = permuted.pop()!;
      map.set(target, color);
      const at = permuted.indexOf(color);
      if (at >= 0) permuted.splice(at, 1);
    }
    map.set(color, target);
  }
  return map;
}

export function recolor(task: FewShotTask, map: ReadonlyMap<number, number>): FewShotTask {
  const grid = (g: Grid): Grid => g.map((row) => row.map((c) => map.get(c) ?? c));
  const example = (e: ArcExample): ArcExample => ({ input: grid(e.input), output: grid(e.output) });
  return { demonstrations: task.demonstrations.map(example), test: example(task.test) };
}

export function permuteColors(task: FewShotTask, rng: Rng): FewShotTask {
  return recolor(task, colorPermutation(task, rng));
}

/** SEAL's PermuteExamples: the demonstrations in a random order. */
export function permuteExamples(task: FewShotTask, rng: Rng): FewShotTask {
  const order = rng.shuffle([...task.demonstrations.keys()]);
  return { demonstrations: order.map((i) => task.demonstrations[i]), test: task.test };
}
