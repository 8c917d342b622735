// ARC tasks in the ARC Prize (Kaggle) layout that SEAL reads: a challenges file
// `{task_id: {train: [{input, output}], test: [{input}]}}` and an optional solutions file
// `{task_id: [test_output_grid, ...]}`. Every grid is validated on load, naming the task, because a bad
// cell otherwise surfaces as a wrong prompt or a crash hours into a run.
import { readFileSync } from 'node:fs';
import { jsonSnippet, topLevelKeys } from '../../util/json.ts';
import type { Grid } from './grid.ts';

/** ARC grids are 1×1 to 30×30 (the ARC-AGI specification); SEAL drops augmented tasks larger than this. */
export const MAX_GRID_SIDE = 30;

export interface ArcExample {
  input: Grid;
  output: Grid;
}

/** One test input of a task, with its solution when a solutions file gave one. */
export interface ArcTestInput {
  input: Grid;
  output?: Grid;
}

export interface ArcTask {
  id: string;
  /** The demonstrations. */
  train: ArcExample[];
  test: ArcTestInput[];
}

/** Reads a challenges file and, optionally, its solutions file. Tasks keep the file's order. */
export function loadArcTasks(challengesPath: string, solutionsPath?: string): ArcTask[] {
  const { value: challenges, text } = readJson(challengesPath, 'an ARC challenges file');
  const solutions = solutionsPath === undefined ? undefined : readJson(solutionsPath, 'an ARC solutions file').value;
  const tasks = parseArcTasks(challenges, challengesPath, solutions, solutionsPath);
  // JSON.parse puts all-digit ids (ARC has some, e.g. 59341089) before the others: restore the file's order.
  const order = new Map(topLevelKeys(text).map((id, i) => [id, i]));
  return tasks.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
}

/** Validates already-parsed challenges (and solutions) JSON; `source` names them in errors. */
export function parseArcTasks(challenges: unknown, source: string, solutions?: unknown, solutionsSource = 'solutions'): ArcTask[] {
  if (!isPlainObject(challenges)) {
    throw new Error(`${source}: expected an object {task_id: {train, test}} (ARC Prize layout), got ${describe(challenges)}`);
  }
  const tasks = Object.entries(challenges).map(([id, record]) => parseTask(id, record, source));
  if (solutions !== undefined) attachSolutions(tasks, solutions, solutionsSource);
  return tasks;
}

export function findArcTask(tasks: readonly ArcTask[], id: string): ArcTask {
  const task = tasks.find((t) => t.id === id);
  if (task === undefined) {
    const sample = tasks
      .slice(0, 5)
      .map((t) => t.id)
      .join(', ');
    throw new Error(`no ARC task "${id}" among the ${tasks.length} loaded (e.g. ${sample}); check the task id and the challenges file`);
  }
  return task;
}

function parseTask(id: string, record: unknown, source: string): ArcTask {
  const where = `${source}: task ${id}`;
  if (!isPlainObject(record)) throw new Error(`${where}: expected {train, test}, got ${describe(record)}`);
  const { train, test } = record;
  if (!Array.isArray(train) || train.length === 0) {
    throw new Error(`${where}: "train" must be a non-empty array of {input, output} demonstrations, got ${describe(train)}`);
  }
  if (!Array.isArray(test) || test.length === 0) {
    throw new Error(`${where}: "test" must be a non-empty array of {input}, got ${describe(test)}`);
  }
  return {
    id,
    train: train.map((example, i) => {
      if (!isPlainObject(example)) throw new Error(`${where}: train[${i}] must be {input, output}, got ${describe(example)}`);
      return {
        input: checkGrid(example.input, `${where}: train[${i}].input`),
        output: checkGrid(example.output, `${where}: train[${i}].output`),
      };
    }),
    test: test.map((example, i) => {
      if (!isPlainObject(example)) throw new Error(`${where}: test[${i}] must be {input}, got ${describe(example)}`);
      const input = checkGrid(example.input, `${where}: test[${i}].input`);
      return example.output === undefined ? { input } : { input, output: checkGrid(example.output, `${where}: test[${i}].output`) };
    }),
  };
}

function attachSolutions(tasks: ArcTask[], solutions: unknown, source: string): void {
  if (!isPlainObject(solutions)) {
    throw new Error(`${source}: expected an object {task_id: [test_output_grid, ...]}, got ${describe(solutions)}`);
  }
  const byId = new Map(tasks.map((task) => [task.id, task]));
  for (const [id, grids] of Object.entries(solutions)) {
    const task = byId.get(id);
    if (task === undefined) throw new Error(`${source}: task ${id} has a solution but is not in the challenges file; pass the matching pair of files`);
    if (!Array.isArray(grids) || grids.length !== task.test.length) {
      throw new Error(`${source}: task ${id} needs ${task.test.length} solution grid(s), one per test input, got ${describe(grids)}`);
    }
    grids.forEach((grid, i) => {
      task.test[i].output = checkGrid(grid, `${source}: task ${id}: solution ${i}`);
    });
  }
}

/**
 * A grid must be a rectangular list of rows of integers 0–9, 1 to 30 cells a side. Every error names the grid
 * (`where`: the file, task id, pair and side) and what the file must hold instead.
 */
export function checkGrid(value: unknown, where: string): Grid {
  if (!Array.isArray(value) || value.length === 0) {
    throw new Error(`${where}: a grid must be a non-empty array of rows, got ${describe(value)}; write it as rows of colours, e.g. [[0, 1], [2, 0]]`);
  }
  const notRow = value.findIndex((row) => !Array.isArray(row));
  if (notRow >= 0) {
    throw new Error(`${where}: row ${notRow} is ${describe(value[notRow])}, not an array of cells; a grid is an array of rows, e.g. [[0, 1], [2, 0]]`);
  }
  const rows = value as unknown[][];
  const cols = rows[0].length;
  if (cols === 0) throw new Error(`${where}: rows must not be empty (row 0 has no cells); every row needs 1 to ${MAX_GRID_SIDE} cells`);
  if (rows.length > MAX_GRID_SIDE || cols > MAX_GRID_SIDE) {
    throw new Error(`${where}: grid is ${rows.length}×${cols}; ARC grids are at most ${MAX_GRID_SIDE}×${MAX_GRID_SIDE}: crop or drop the task`);
  }
  rows.forEach((row, i) => {
    if (row.length !== cols) {
      throw new Error(`${where}: row ${i} has ${row.length} cells but row 0 has ${cols}; grids must be rectangular: give every row ${cols} cells`);
    }
    row.forEach((cell, j) => {
      if (!Number.isInteger(cell) || (cell as number) < 0 || (cell as number) > 9) {
        throw new Error(`${where}: cell [${i}][${j}] is ${jsonSnippet(cell)}; colours are integers 0–9 (0 the background): write it as one`);
      }
    });
  });
  return rows as number[][];
}

function readJson(path: string, what: string): { value: unknown; text: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${path} (${what}): ${(error as Error).message}`);
  }
  try {
    return { value: JSON.parse(text), text };
  } catch (error) {
    throw new Error(`${path} is not valid JSON (${what}): ${(error as Error).message}`);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  return value === undefined ? 'nothing' : jsonSnippet(value, 60);
}
