// The self-edit's data-generation tools: SEAL's augmenters (few-shot/self-edit.py get_augmenters, built on
// marc's arclib/augmenters.py), in SEAL's order and under SEAL's names. A self-edit switches each of the
// four groups on or off:
//   basic  (11): Rotate 90/270/180, Flip up-down / left-right, Reflect ×4, RandomTranslateXY, Transpose
//   size    (3): IncreaseResolution(2), IncreaseHeight(2), IncreaseWidth(2)
//   chain   (6): Rotate 90/270/180, Flip ×2, Transpose — each followed by IncreaseResolution(2)
//   repeat  (3): Repeat vertically, horizontally, and 2×2
// Every grid transform also knows its inverse, for mapping predictions on a transformed view back.
import type { RandomState } from '../../util/mt19937.ts';
import type { ArcExample } from './arc-data.ts';
import {
  type Grid,
  crop,
  flipLeftRight,
  flipUpDown,
  gridsEqual,
  height,
  repeatCells,
  roll,
  rot90,
  stackHorizontally,
  stackVertically,
  transpose,
  width,
} from './grid.ts';

export interface GridTransform {
  /** SEAL's name for it (the augmenter's str()). */
  readonly name: string;
  apply(grid: Grid): Grid;
  /** The grid this transform maps onto `grid`, or null when `grid` cannot be one of its results. */
  invert(grid: Grid): Grid | null;
}

export type ToolGroup = 'basic' | 'size' | 'chain' | 'repeat';

/**
 * An augmenter applied to every example of a task (demonstrations and test). Inputs and outputs take the
 * same transform, except for the random translation, whose output shift follows its input shift's draws.
 */
export interface Tool {
  readonly name: string;
  readonly group: ToolGroup;
  apply(example: ArcExample): ArcExample;
}

/** The four booleans of a self-edit's `data_generation`. */
export interface ToolSelection {
  basic: boolean;
  size: boolean;
  chain: boolean;
  repeat: boolean;
}

export const NO_TOOLS: ToolSelection = { basic: false, size: false, chain: false, repeat: false };
export const ALL_TOOLS: ToolSelection = { basic: true, size: true, chain: true, repeat: true };

// ---------------------------------------------------------------- grid transforms

/** Rotate(angle): np.rot90 by angle/90 quarter turns counter-clockwise. */
export function rotate(angle: 90 | 180 | 270): GridTransform {
  const turns = (angle / 90) as 1 | 2 | 3;
  return {
    name: `Rotate(${angle})`,
    apply: (grid) => rot90(grid, turns),
    invert: (grid) => rot90(grid, (4 - turns) as 1 | 2 | 3),
  };
}

/** Flip(0) is np.flipud, Flip(1) np.fliplr; each undoes itself. */
export function flip(axis: 0 | 1): GridTransform {
  const apply = axis === 0 ? flipUpDown : flipLeftRight;
  return { name: `Flip(${axis})`, apply, invert: apply };
}

export const TRANSPOSE: GridTransform = { name: 'Transpose()', apply: transpose, invert: transpose };

/**
 * Reflect(axis, reverse): the grid concatenated with its mirror image along `axis` (0: stacked, 1: side
 * by side); reverse puts the mirror image first.
 */
export function reflect(axis: 0 | 1, reverse: boolean): GridTransform {
  const mirror = axis === 0 ? flipUpDown : flipLeftRight;
  const join = axis === 0 ? stackVertically : stackHorizontally;
  return {
    name: `Reflect(${axis}, reverse=${reverse ? 'True' : 'False'})`,
    apply: (grid) => (reverse ? join(mirror(grid), grid) : join(grid, mirror(grid))),
    invert: (grid) => {
      const halves = split(grid, axis, 2);
      if (halves === null) return null;
      const original = reverse ? halves[1] : halves[0];
      return gridsEqual(mirror(original), reverse ? halves[0] : halves[1]) ? original : null;
    },
  };
}

/** np.roll of the grid by (down, right), wrapping around: one draw of RandomTranslateXY. */
export function translate(down: number, right: number): GridTransform {
  return {
    name: `Translate(${down}, ${right})`,
    apply: (grid) => roll(grid, down, right),
    invert: (grid) => roll(grid, -down, -right),
  };
}

/**
 * SEAL's RandomTranslateXY (share_rng): every example works on its own copy of the generator's current
 * state; its input is rolled by randint(0, min(4, height)) rows and randint(0, min(4, width)) columns, then
 * its output by the next two draws of the same copy (randint(0, 1) draws nothing). Examples of the same
 * grid sizes thus get the same shifts, and the caller's generator is not advanced.
 */
export function randomTranslateXY(rng: RandomState): Tool {
  const state = rng.clone();
  const shift = (copy: RandomState, grid: Grid) => {
    const down = copy.randint(0, Math.min(4, height(grid)));
    const right = copy.randint(0, Math.min(4, width(grid)));
    return roll(grid, down, right);
  };
  return {
    name: 'RandomTranslateXY()',
    group: 'basic',
    apply: (example) => {
      const copy = state.clone();
      const input = shift(copy, example.input);
      return { input, output: shift(copy, example.output) };
    },
  };
}

/** IncreaseResolution / IncreaseHeight / IncreaseWidth: np.repeat of every cell, row or column. */
function upscale(name: string, rowFactor: number, colFactor: number): GridTransform {
  return {
    name,
    apply: (grid) => repeatCells(grid, rowFactor, colFactor),
    invert: (grid) => {
      if (height(grid) % rowFactor !== 0 || width(grid) % colFactor !== 0) return null;
      const small = Array.from({ length: height(grid) / rowFactor }, (_, i) =>
        Array.from({ length: width(grid) / colFactor }, (_, j) => grid[i * rowFactor][j * colFactor]),
      );
      return gridsEqual(repeatCells(small, rowFactor, colFactor), grid) ? small : null;
    },
  };
}

export const INCREASE_RESOLUTION_2 = upscale('IncreaseResolution(2)', 2, 2);
export const INCREASE_HEIGHT_2 = upscale('IncreaseHeight(2)', 2, 1);
export const INCREASE_WIDTH_2 = upscale('IncreaseWidth(2)', 1, 2);

/** Repeat(axis, 2): the grid tiled twice vertically (0), horizontally (1), or 2×2 (2). */
export function repeat(axis: 0 | 1 | 2): GridTransform {
  const rows = axis === 1 ? 1 : 2;
  const cols = axis === 0 ? 1 : 2;
  const tile = (grid: Grid) => {
    const column = stackVertically(...Array<Grid>(rows).fill(grid));
    return stackHorizontally(...Array<Grid>(cols).fill(column));
  };
  return {
    name: `Repeat(${axis}, 2)`,
    apply: tile,
    invert: (grid) => {
      if (height(grid) % rows !== 0 || width(grid) % cols !== 0) return null;
      const first = crop(grid, 0, 0, height(grid) / rows, width(grid) / cols);
      return gridsEqual(tile(first), grid) ? first : null;
    },
  };
}

/** Chain([first, then]): `then` applied to the result of `first`. */
export function chain(first: GridTransform, then: GridTransform): GridTransform {
  return {
    name: `Chain([${first.name}, ${then.name}])`,
    apply: (grid) => then.apply(first.apply(grid)),
    invert: (grid) => {
      const middle = then.invert(grid);
      return middle === null ? null : first.invert(middle);
    },
  };
}

// ---------------------------------------------------------------- the tool list

/** A tool that applies one grid transform to inputs and outputs alike. */
export function sameForBoth(group: ToolGroup, transform: GridTransform): Tool {
  return { name: transform.name, group, apply: (e) => ({ input: transform.apply(e.input), output: transform.apply(e.output) }) };
}

/**
 * The tools a selection switches on, in SEAL's order (basic, size, chain, repeat). `rng` is the state the
 * random translation copies for every example: in SEAL's get_test_time_train_data it is
 * np.random.RandomState(seed) untouched (no augmenter before it draws, and it draws from copies), so the
 * same seed gives SEAL's shifts.
 */
export function selectTools(selection: ToolSelection, rng: RandomState): Tool[] {
  const tools: Tool[] = [];
  if (selection.basic) {
    tools.push(
      sameForBoth('basic', rotate(90)),
      sameForBoth('basic', rotate(270)),
      sameForBoth('basic', rotate(180)),
      sameForBoth('basic', flip(0)),
      sameForBoth('basic', flip(1)),
      sameForBoth('basic', reflect(0, true)),
      sameForBoth('basic', reflect(1, true)),
      sameForBoth('basic', reflect(0, false)),
      sameForBoth('basic', reflect(1, false)),
      randomTranslateXY(rng),
      sameForBoth('basic', TRANSPOSE),
    );
  }
  if (selection.size) {
    tools.push(sameForBoth('size', INCREASE_RESOLUTION_2), sameForBoth('size', INCREASE_HEIGHT_2), sameForBoth('size', INCREASE_WIDTH_2));
  }
  if (selection.chain) {
    for (const first of [rotate(90), rotate(270), rotate(180), flip(0), flip(1), TRANSPOSE]) {
      tools.push(sameForBoth('chain', chain(first, INCREASE_RESOLUTION_2)));
    }
  }
  if (selection.repeat) {
    tools.push(sameForBoth('repeat', repeat(0)), sameForBoth('repeat', repeat(1)), sameForBoth('repeat', repeat(2)));
  }
  return tools;
}

/** `parts` equal pieces of `grid` along `axis`, or null when the side does not divide. */
function split(grid: Grid, axis: 0 | 1, parts: number): Grid[] | null {
  const side = axis === 0 ? height(grid) : width(grid);
  if (side % parts !== 0) return null;
  const size = side / parts;
  return Array.from({ length: parts }, (_, p) => (axis === 0 ? crop(grid, p * size, 0, size, width(grid)) : crop(grid, 0, p * size, height(grid), size)));
}
