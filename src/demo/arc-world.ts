// A generated few-shot grid world, the ARC counterpart of the knowledge demo's fictional world (world.ts):
// tasks are grid transformations drawn from a few families, written in SEAL's own task format (the ARC
// Prize layout that src/seal/arc/arc-data.ts loads), so that the whole ARC path (self-edits, test-time
// training, voting) runs on them unchanged while every task's rule is known. A fixed seed gives the same
// world on every machine (src/util/random.ts).
//
// Families (name: what it does), four kinds:
//   geometric  rotate-90 / rotate-180 / rotate-270 (counter-clockwise, np.rot90's sense and SEAL's
//              Rotate(90)), flip-up-down (np.flipud, SEAL's Flip(0)), flip-left-right (np.fliplr, Flip(1)),
//              transpose. Named like SEAL's augmenters so that "which tool helps which family" reads directly.
//   move       gravity-down, gravity-left (every non-zero cell falls to the bottom / left edge, cells keeping
//              their order along the column / row); shift-right-wrap (np.roll by one column: the last column
//              comes back at the left); shift-down (one row down without wrap: the bottom row falls off, an
//              empty row comes in at the top).
//   colour     colour-map: 1 to 3 of the task's colours change (a swap, a cycle, or a new colour), one map per
//              task, drawn with it; 0 stays 0 and no two colours of the task merge, so the map is a
//              permutation/substitution of the palette and commutes with every other family (which only
//              move cells or tell empty from non-empty).
//   size       upscale-2 (every cell a 2×2 block, SEAL's IncreaseResolution(2)); tile-RxC (np.tile(grid,
//              (R, C)): tile-2x1 two copies stacked, tile-1x2 side by side, tile-2x2; SEAL's Repeat(0/1/2, 2)).
// A composition `a+b` applies a, then b. The catalogue holds every pair of different kinds in the order
// geometric, move, colour, size (78 pairs). The other order is the same function where a colour map is a
// part (it commutes with everything) and often another one elsewhere (gravity-down+rotate-90 is
// rotate-90+gravity-right; tile-2x1+rotate-90 is rotate-90+tile-1x2): such orders can be asked for by name.
// Two parts of one kind are refused: rotate-90+flip-up-down is transpose under another name, and two size
// parts would pass 14×14.
//
// Sizes and colours: inputs are 3×3 to 7×7, every pair drawn its own height and width (ARC's tasks vary them
// too, and non-square demonstrations tell transpose from the rotations); outputs are at most 14×14 (×2 of
// one size part). 14×14 is far under the 30×30 of ARC and SEAL's renderer (render.ts, grid-text.ts), and
// keeps a task's text short: a 14×14 grid prints in 14 rows of 29 characters, so four demonstrations and a
// test of the largest size stay near 1,500–3,000 Llama-3 tokens (one to two a cell) — under SEAL's
// 8,192-token limit with room for its size augmentations (which double a side, to ≤ 28). Each task draws
// from 3 to 5 colours of 1–9 on background 0, each grid a density of 30–70 % non-empty cells (the density
// option sets another range; dense grids suit a tiny model, notes/arc-tiny-recipe.md): enough empty
// cells for gravity and shifts to move something, enough colours that a cell's origin is readable.
//
// Every task is made so that its rule can be read from its demonstrations (2 to 4, as in ARC) and its test
// needs all of the rule; a draw that fails any check below is thrown away and drawn again:
//  - no demonstration's output equals its input (a symmetric grid under a flip, or a grid already at rest
//    under gravity, shows nothing);
//  - the test output differs from the test input and, for a composition, from each part alone (the test
//    exercises both parts);
//  - every colour of the test input appears in the demonstration inputs; a colour-map task shows every
//    colour it changes there, and its test input holds at least one of them (no map of colours that never
//    appear);
//  - identifiability: every hypothesis of the world (every family of the catalogue and the ones asked for,
//    plus a few near misses: identity, gravity-up/right, shift-right without wrap, shift-down with wrap)
//    that fits all demonstrations gives the same test output. A hypothesis with a colour map fits when some
//    map (0 to 0, non-empty to non-empty) explains the demonstrations cell by cell; it gives a test output
//    only when the demonstrations fix the map for every colour the test needs. So the demonstrations single
//    out the answer within the world, whichever families a learner was trained on.
//
// Splits: `trainTasks` and `evalTasks` tasks (ids like ARC's, 8 hex digits with a letter among them, unique
// over both splits; see taskId), each split drawing from its own family list, so that a split can hold out
// families or compositions (heldOutSplit: the evaluation tasks are compositions no training task has, of
// parts training has seen). Families are dealt in rounds: every run of F tasks (F families) holds each
// family once, in an order shuffled per round, so small worlds stay balanced. Every task draws from its own
// stream, seeded by (seed, split, index): asking for more tasks keeps the ones already made.
//
// Files: writeArcWorld writes each split as SEAL's pair of Kaggle files (arc-agi_{training,evaluation}_
// {challenges,solutions}.json: challenges {id: {test: [{input}], train: [{input, output}]}}, solutions
// {id: [output]}, Python json.dumps spacing), and the family of every task to arc-world_meta.json, apart
// from the task files, so that nothing a model reads names the rule.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArcTask } from '../seal/arc/arc-data.ts';
import {
  type Grid,
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
} from '../seal/arc/grid.ts';
import { Rng } from '../util/random.ts';

export type FamilyKind = 'geometric' | 'move' | 'colour' | 'size';

/** The kinds in the order compositions of the catalogue take them. */
export const KINDS: readonly FamilyKind[] = ['geometric', 'move', 'colour', 'size'];

export const PRIMITIVES: Readonly<Record<FamilyKind, readonly string[]>> = {
  geometric: ['rotate-90', 'rotate-180', 'rotate-270', 'flip-up-down', 'flip-left-right', 'transpose'],
  move: ['gravity-down', 'gravity-left', 'shift-right-wrap', 'shift-down'],
  colour: ['colour-map'],
  size: ['upscale-2', 'tile-2x1', 'tile-1x2', 'tile-2x2'],
};

export const PRIMITIVE_FAMILIES: readonly string[] = KINDS.flatMap((kind) => PRIMITIVES[kind]);

/** Every pair of different kinds, in kind order: `a+b` applies a, then b. */
export const COMPOSITION_FAMILIES: readonly string[] = KINDS.flatMap((first, i) =>
  KINDS.slice(i + 1).flatMap((second) => PRIMITIVES[first].flatMap((a) => PRIMITIVES[second].map((b) => `${a}+${b}`))),
);

export const ALL_FAMILIES: readonly string[] = [...PRIMITIVE_FAMILIES, ...COMPOSITION_FAMILIES];

/** One composition per pair of kinds, held out of training by heldOutSplit. */
export const HELD_OUT_COMPOSITIONS: readonly string[] = [
  'rotate-90+gravity-down',
  'flip-left-right+colour-map',
  'transpose+tile-1x2',
  'gravity-left+colour-map',
  'shift-down+upscale-2',
  'colour-map+tile-2x2',
];

/** Training on every primitive and every composition but the held-out ones; evaluating on those only. */
export function heldOutSplit(heldOut: readonly string[] = HELD_OUT_COMPOSITIONS): { train: string[]; eval: string[] } {
  for (const name of heldOut) parseFamily(name);
  const held = new Set(heldOut);
  return { train: ALL_FAMILIES.filter((f) => !held.has(f)), eval: [...heldOut] };
}

export const MIN_SIDE = 3;
export const MAX_SIDE = 7;
/** Largest output side: one size part doubles at most one 7-cell side. */
export const MAX_OUTPUT_SIDE = 14;
export const MIN_DEMOS = 2;
export const MAX_DEMOS = 4;
export const MIN_COLOURS = 3;
export const MAX_COLOURS = 5;
const MIN_DENSITY = 0.3;
const MAX_DENSITY = 0.7;
/** Draws per task before giving up: every family passes its checks within a few on average. */
const MAX_ATTEMPTS = 500;

export interface ArcWorldOptions {
  seed: number;
  trainTasks: number;
  evalTasks: number;
  /** Families to draw from: one list for both splits, or one per split. Default: ALL_FAMILIES for both. */
  families?: readonly string[] | { train: readonly string[]; eval: readonly string[] };
  /** Largest input side, MIN_SIDE to MAX_SIDE (default MAX_SIDE): smaller grids make shorter texts for a tiny model. */
  maxSide?: number;
  /**
   * Smallest input side, MIN_SIDE to maxSide (default MIN_SIDE). minSide = maxSide gives one input size for the
   * whole world, so a cell and its image sit at a fixed distance in the text of every task of a family.
   */
  minSide?: number;
  /**
   * Share of non-empty cells per grid, drawn uniformly from [min, max] (default 0.3–0.7). Dense grids leave
   * a learner no cheap "all background" answer: a tiny model must copy cells from the input.
   */
  density?: { min: number; max: number };
}

export type ArcWorldSplit = 'training' | 'evaluation';

/** What the world knows about a task and the task files do not say. */
export interface ArcWorldTaskInfo {
  split: ArcWorldSplit;
  family: string;
  /** The primitives applied, in order (one for a primitive family). */
  parts: string[];
  kinds: FamilyKind[];
  /** For a task with a colour map: the colours it changes, old → new (every other colour stays). */
  colourMap?: Record<string, number>;
}

export interface ArcWorldMeta {
  generator: 'seal-webgpu arc-world';
  version: 1;
  seed: number;
  /** Set when the world was drawn with a smaller largest input side than MAX_SIDE. */
  maxSide?: number;
  /** Set when the world was drawn with a larger smallest input side than MIN_SIDE. */
  minSide?: number;
  /** Set when the world was drawn with another density than MIN_DENSITY–MAX_DENSITY. */
  density?: { min: number; max: number };
  families: { train: string[]; eval: string[] };
  /** Per task id, in file order (training tasks, then evaluation tasks). */
  tasks: Record<string, ArcWorldTaskInfo>;
}

export interface ArcWorld {
  /** Tasks as our loader returns them: test outputs attached. */
  train: ArcTask[];
  eval: ArcTask[];
  meta: ArcWorldMeta;
}

export function generateArcWorld(options: ArcWorldOptions): ArcWorld {
  const { seed, trainTasks, evalTasks } = options;
  for (const [name, n] of [
    ['trainTasks', trainTasks],
    ['evalTasks', evalTasks],
  ] as const) {
    if (!Number.isInteger(n) || n < 0) throw new Error(`generateArcWorld: ${name} must be a whole number ≥ 0, got ${n}`);
  }
  if (!Number.isInteger(seed)) throw new Error(`generateArcWorld: seed must be an integer, got ${seed}`);
  const lists = options.families ?? ALL_FAMILIES;
  const families = isList(lists) ? { train: [...lists], eval: [...lists] } : { train: [...lists.train], eval: [...lists.eval] };
  for (const [split, list] of Object.entries(families)) {
    if (list.length === 0) throw new Error(`generateArcWorld: the ${split} family list is empty; name at least one family (see ALL_FAMILIES)`);
    for (const name of list) parseFamily(name);
  }
  const maxSide = options.maxSide ?? MAX_SIDE;
  if (!Number.isInteger(maxSide) || maxSide < MIN_SIDE || maxSide > MAX_SIDE) {
    throw new Error(`generateArcWorld: maxSide must be a whole number from ${MIN_SIDE} to ${MAX_SIDE}, got ${maxSide}`);
  }
  const minSide = options.minSide ?? MIN_SIDE;
  if (!Number.isInteger(minSide) || minSide < MIN_SIDE || minSide > maxSide) {
    throw new Error(`generateArcWorld: minSide must be a whole number from ${MIN_SIDE} to maxSide (${maxSide}), got ${minSide}`);
  }
  const density = options.density ?? { min: MIN_DENSITY, max: MAX_DENSITY };
  if (!(density.min > 0 && density.min <= density.max && density.max <= 1)) {
    throw new Error(`generateArcWorld: density must satisfy 0 < min ≤ max ≤ 1, got ${density.min}–${density.max}`);
  }
  const sides = { min: minSide, max: maxSide, density };
  const hypotheses = worldHypotheses([...families.train, ...families.eval]);
  const meta: ArcWorldMeta = {
    generator: 'seal-webgpu arc-world',
    version: 1,
    seed,
    ...(maxSide === MAX_SIDE ? {} : { maxSide }),
    ...(minSide === MIN_SIDE ? {} : { minSide }),
    ...(options.density ? { density: { ...density } } : {}),
    families,
    tasks: {},
  };
  const ids = new Set<string>();
  const make = (split: ArcWorldSplit, count: number, list: string[]): ArcTask[] => {
    const splitIndex = split === 'training' ? 0 : 1;
    const tasks: ArcTask[] = [];
    let order: string[] = [];
    for (let i = 0; i < count; i++) {
      if (i % list.length === 0) order = new Rng(subSeed(seed, splitIndex, 0, i / list.length)).shuffle([...list]);
      const rng = new Rng(subSeed(seed, splitIndex, 1, i));
      let id = taskId(rng);
      while (ids.has(id)) id = taskId(rng);
      ids.add(id);
      const { task, info } = drawTask(id, parseFamily(order[i % list.length]), rng, hypotheses, split, sides);
      tasks.push(task);
      meta.tasks[id] = info;
    }
    return tasks;
  };
  const train = make('training', trainTasks, families.train);
  const evalSet = make('evaluation', evalTasks, families.eval);
  return { train, eval: evalSet, meta };
}

// ---------------------------------------------------------------- families

interface Family {
  name: string;
  parts: string[];
  kinds: FamilyKind[];
}

const KIND_OF = new Map<string, FamilyKind>(KINDS.flatMap((kind) => PRIMITIVES[kind].map((p) => [p, kind] as const)));

/** A family name checked: a primitive, or `a+b` of two primitives of different kinds. */
export function parseFamily(name: string): Family {
  const parts = name.split('+');
  const unknown = parts.filter((p) => !KIND_OF.has(p));
  if (unknown.length > 0 || parts.length > 2) {
    throw new Error(
      `arc-world: unknown family "${name}"; a family is one of ${PRIMITIVE_FAMILIES.join(', ')}, or two of them of different kinds joined by "+"`,
    );
  }
  const kinds = parts.map((p) => KIND_OF.get(p)!);
  if (kinds.length === 2 && kinds[0] === kinds[1]) {
    throw new Error(`arc-world: family "${name}" joins two ${kinds[0]} parts; a composition takes parts of two different kinds`);
  }
  return { name, parts, kinds };
}

/** The grid function of a primitive that needs no colour map. */
export function structuralTransform(name: string): (grid: Grid) => number[][] {
  const f = STRUCTURAL[name];
  if (f === undefined) throw new Error(`arc-world: "${name}" is not a structural transform`);
  return f;
}

const STRUCTURAL: Record<string, (grid: Grid) => number[][]> = {
  'rotate-90': (g) => rot90(g, 1),
  'rotate-180': (g) => rot90(g, 2),
  'rotate-270': (g) => rot90(g, 3),
  'flip-up-down': flipUpDown,
  'flip-left-right': flipLeftRight,
  transpose,
  'gravity-down': (g) => transpose(gravityRight(transpose(g))),
  'gravity-left': gravityLeft,
  'shift-right-wrap': (g) => roll(g, 0, 1),
  'shift-down': (g) => [g[0].map(() => 0), ...g.slice(0, -1).map((row) => [...row])],
  'upscale-2': (g) => repeatCells(g, 2, 2),
  'tile-2x1': (g) => stackVertically(g, g),
  'tile-1x2': (g) => stackHorizontally(g, g),
  'tile-2x2': (g) => stackVertically(stackHorizontally(g, g), stackHorizontally(g, g)),
  // Near misses, hypotheses only: a task must not be explainable by these either.
  identity: (g) => g.map((row) => [...row]),
  'gravity-up': (g) => transpose(gravityLeft(transpose(g))),
  'gravity-right': gravityRight,
  'shift-right': (g) => g.map((row) => [0, ...row.slice(0, -1)]),
  'shift-down-wrap': (g) => roll(g, 1, 0),
};

const NEAR_MISSES = ['identity', 'gravity-up', 'gravity-right', 'shift-right', 'shift-down-wrap'];

/** Non-empty cells of every row moved to its left end, in their order. */
function gravityLeft(grid: Grid): number[][] {
  return grid.map((row) => {
    const full = row.filter((c) => c !== 0);
    return [...full, ...Array<number>(row.length - full.length).fill(0)];
  });
}

/** Non-empty cells of every row moved to its right end, in their order. */
function gravityRight(grid: Grid): number[][] {
  return grid.map((row) => {
    const full = row.filter((c) => c !== 0);
    return [...Array<number>(row.length - full.length).fill(0), ...full];
  });
}

/** A colour map as a table of 10 entries (index: old colour). */
export function applyColourMap(grid: Grid, table: readonly number[]): number[][] {
  return grid.map((row) => row.map((c) => table[c]));
}

/** The task's transform: the parts applied in order, the colour map as drawn for the task. */
function taskTransform(family: Family, table: readonly number[]): (grid: Grid) => number[][] {
  const steps = family.parts.map((p) => (p === 'colour-map' ? (g: Grid) => applyColourMap(g, table) : STRUCTURAL[p]));
  return (grid) =>
    steps.reduce<number[][]>(
      (g, step) => step(g),
      grid.map((row) => [...row]),
    );
}

// ---------------------------------------------------------------- drawing a task

function drawTask(
  id: string,
  family: Family,
  rng: Rng,
  hypotheses: Hypothesis[],
  split: ArcWorldSplit,
  sides: GridShape,
): { task: ArcTask; info: ArcWorldTaskInfo } {
  const hasMap = family.parts.includes('colour-map');
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const palette = rng.shuffle([1, 2, 3, 4, 5, 6, 7, 8, 9]).slice(0, MIN_COLOURS + rng.int(MAX_COLOURS - MIN_COLOURS + 1));
    const { table, changed } = hasMap ? drawColourMap(palette, rng) : { table: IDENTITY_TABLE, changed: [] };
    const apply = taskTransform(family, table);
    const demoCount = MIN_DEMOS + rng.int(MAX_DEMOS - MIN_DEMOS + 1);
    const inputs = Array.from({ length: demoCount + 1 }, () => drawGrid(palette, rng, sides));
    const pairs = inputs.map((input) => ({ input, output: apply(input) }));
    const demos = pairs.slice(0, demoCount);
    const test = pairs[demoCount];
    if (!passesChecks(family, table, changed, demos, test, hypotheses)) continue;
    const info: ArcWorldTaskInfo = { split, family: family.name, parts: family.parts, kinds: family.kinds };
    if (hasMap) info.colourMap = Object.fromEntries(changed.map((c) => [String(c), table[c]]));
    return { task: { id, train: demos, test: [test] }, info };
  }
  throw new Error(
    `arc-world: no task of family ${family.name} passed the checks in ${MAX_ATTEMPTS} draws (task ${id}); this family cannot be made identifiable`,
  );
}

const IDENTITY_TABLE: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

/**
 * 1 to 3 colours of the palette change, each to a colour that is not a palette colour left unchanged
 * (else two colours would merge): among the changed colours themselves (a swap or cycle) or new ones.
 */
function drawColourMap(palette: number[], rng: Rng): { table: number[]; changed: number[] } {
  for (;;) {
    const changed = rng.shuffle([...palette]).slice(0, 1 + rng.int(Math.min(3, palette.length)));
    const kept = new Set(palette.filter((c) => !changed.includes(c)));
    const targets = rng.shuffle([1, 2, 3, 4, 5, 6, 7, 8, 9].filter((c) => !kept.has(c))).slice(0, changed.length);
    if (targets.some((t, i) => t === changed[i])) continue;
    const table = [...IDENTITY_TABLE];
    changed.forEach((c, i) => {
      table[c] = targets[i];
    });
    return { table, changed: [...changed].sort((a, b) => a - b) };
  }
}

/** Input sides and density range of a world's grids. */
interface GridShape {
  min: number;
  max: number;
  density: { min: number; max: number };
}

function drawGrid(palette: number[], rng: Rng, sides: GridShape): number[][] {
  const rows = sides.min + rng.int(sides.max - sides.min + 1);
  const cols = sides.min + rng.int(sides.max - sides.min + 1);
  const density = sides.density.min + (sides.density.max - sides.density.min) * rng.uniform();
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => (rng.uniform() < density ? rng.pick(palette) : 0)));
}

function passesChecks(
  family: Family,
  table: readonly number[],
  changed: number[],
  demos: { input: Grid; output: Grid }[],
  test: { input: Grid; output: Grid },
  hypotheses: Hypothesis[],
): boolean {
  if (demos.some((d) => gridsEqual(d.input, d.output)) || gridsEqual(test.input, test.output)) return false;
  if (test.output.length > MAX_OUTPUT_SIDE || width(test.output) > MAX_OUTPUT_SIDE) return false;
  if (family.parts.length > 1) {
    for (const part of family.parts) {
      if (gridsEqual(taskTransform(parseFamily(part), table)(test.input), test.output)) return false;
    }
  }
  const shown = new Set(demos.flatMap((d) => d.input.flat()));
  if (!test.input.every((row) => row.every((c) => shown.has(c)))) return false;
  if (changed.length > 0) {
    if (!changed.every((c) => shown.has(c))) return false;
    if (!test.input.some((row) => row.some((c) => changed.includes(c)))) return false;
  }
  return hypotheses.every((h) => {
    const answer = predict(h, demos, test.input);
    return answer === 'no fit' || (answer !== null && gridsEqual(answer, test.output));
  });
}

// ---------------------------------------------------------------- identifiability

interface Hypothesis {
  name: string;
  /** The parts other than a colour map, composed. */
  structural: (grid: Grid) => number[][];
  /** Whether a colour map (any, fitted to the demonstrations) follows. */
  colourMap: boolean;
}

function worldHypotheses(asked: string[]): Hypothesis[] {
  const names = [...new Set([...ALL_FAMILIES, ...asked, ...NEAR_MISSES])];
  return names.map((name) => {
    const parts = name.split('+');
    const steps = parts.filter((p) => p !== 'colour-map').map((p) => STRUCTURAL[p]);
    return {
      name,
      structural: (grid) =>
        steps.reduce<number[][]>(
          (g, step) => step(g),
          grid.map((row) => [...row]),
        ),
      colourMap: parts.includes('colour-map'),
    };
  });
}

/**
 * The test output a hypothesis gives after fitting the demonstrations: 'no fit' when it cannot explain
 * them, null when it explains them but leaves the test's answer open (a colour the map was never shown).
 * Colour maps move to the end: they commute with every structural part (0 stays 0, non-empty stays non-empty).
 */
function predict(h: Hypothesis, demos: { input: Grid; output: Grid }[], testInput: Grid): Grid | 'no fit' | null {
  const table = Array<number>(10).fill(-1);
  for (const { input, output } of demos) {
    const mid = h.structural(input);
    if (height(mid) !== height(output) || width(mid) !== width(output)) return 'no fit';
    if (!h.colourMap) {
      if (!gridsEqual(mid, output)) return 'no fit';
      continue;
    }
    for (let i = 0; i < mid.length; i++) {
      for (let j = 0; j < mid[i].length; j++) {
        const from = mid[i][j];
        const to = output[i][j];
        if ((from === 0) !== (to === 0)) return 'no fit';
        if (table[from] === -1) table[from] = to;
        else if (table[from] !== to) return 'no fit';
      }
    }
  }
  const mid = h.structural(testInput);
  if (!h.colourMap) return mid;
  table[0] = 0;
  if (mid.some((row) => row.some((c) => table[c] === -1))) return null;
  return applyColourMap(mid, table);
}

// ---------------------------------------------------------------- ids and seeds

/**
 * 8 hex digits with at least one letter: JavaScript objects put keys that read as array indices (like
 * ARC's "59341089") before all others, so an all-digit id would not keep its place in the file's order.
 */
function taskId(rng: Rng): string {
  for (;;) {
    const id = rng.u32().toString(16).padStart(8, '0');
    if (!/^[0-9]+$/.test(id)) return id;
  }
}

/** A seed for the stream at `path` under `seed`: streams of different paths are unrelated. */
function subSeed(seed: number, ...path: number[]): number {
  let h = seed >>> 0;
  for (const p of path) h = new Rng((h ^ Math.imul(p + 1, 0x9e3779b1)) >>> 0).u32();
  return h;
}

function isList(value: ArcWorldOptions['families']): value is readonly string[] {
  return Array.isArray(value);
}

// ---------------------------------------------------------------- files

/** The file names SEAL's ARC data uses (the ARC Prize 2024 Kaggle layout), and the world's own metadata. */
export const ARC_WORLD_FILES = {
  trainChallenges: 'arc-agi_training_challenges.json',
  trainSolutions: 'arc-agi_training_solutions.json',
  evalChallenges: 'arc-agi_evaluation_challenges.json',
  evalSolutions: 'arc-agi_evaluation_solutions.json',
  meta: 'arc-world_meta.json',
} as const;

/**
 * Tasks as the texts of a challenges file and a solutions file, in the Kaggle files' shape: tasks in order,
 * "test" before "train" in each, Python json.dumps spacing (", " and ": "), no line breaks.
 */
export function arcPrizeJson(tasks: readonly ArcTask[]): { challenges: string; solutions: string } {
  const grid = (g: Grid) => `[${g.map((row) => `[${row.join(', ')}]`).join(', ')}]`;
  const challenges = tasks.map((t) => {
    const test = t.test.map((p) => `{"input": ${grid(p.input)}}`).join(', ');
    const train = t.train.map((p) => `{"input": ${grid(p.input)}, "output": ${grid(p.output)}}`).join(', ');
    return `${JSON.stringify(t.id)}: {"test": [${test}], "train": [${train}]}`;
  });
  const solutions = tasks.map((t) => {
    const outputs = t.test.map((p, i) => {
      if (p.output === undefined) throw new Error(`arcPrizeJson: task ${t.id} test ${i} has no output to write as its solution`);
      return grid(p.output);
    });
    return `${JSON.stringify(t.id)}: [${outputs.join(', ')}]`;
  });
  return { challenges: `{${challenges.join(', ')}}`, solutions: `{${solutions.join(', ')}}` };
}

/** Writes the world into `dir` (made if missing): both splits in SEAL's layout, and the metadata apart. Returns the paths. */
export async function writeArcWorld(world: ArcWorld, dir: string): Promise<Record<keyof typeof ARC_WORLD_FILES, string>> {
  await mkdir(dir, { recursive: true });
  const paths = Object.fromEntries(Object.entries(ARC_WORLD_FILES).map(([key, name]) => [key, join(dir, name)])) as Record<
    keyof typeof ARC_WORLD_FILES,
    string
  >;
  const train = arcPrizeJson(world.train);
  const evalFiles = arcPrizeJson(world.eval);
  await writeFile(paths.trainChallenges, train.challenges);
  await writeFile(paths.trainSolutions, train.solutions);
  await writeFile(paths.evalChallenges, evalFiles.challenges);
  await writeFile(paths.evalSolutions, evalFiles.solutions);
  await writeFile(paths.meta, `${JSON.stringify(world.meta, null, 2)}\n`);
  return paths;
}
