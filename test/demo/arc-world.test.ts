// The generated ARC world: deterministic per seed, every family's tasks obey that family (checked against a
// reference written here another way: index arithmetic and cell-by-cell simulation), tasks survive SEAL's
// files and grid text, and splits hold families out as asked.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ALL_FAMILIES,
  ARC_WORLD_FILES,
  type ArcWorld,
  COMPOSITION_FAMILIES,
  HELD_OUT_COMPOSITIONS,
  MAX_OUTPUT_SIDE,
  PRIMITIVE_FAMILIES,
  arcPrizeJson,
  generateArcWorld,
  heldOutSplit,
  parseFamily,
  structuralTransform,
  writeArcWorld,
} from '../../src/demo/arc-world.ts';
import { type ArcTask, findArcTask, loadArcTasks, parseArcTasks } from '../../src/seal/arc/arc-data.ts';
import type { Grid } from '../../src/seal/arc/grid.ts';
import { formatExample, formatGrid, parseGridAnswer } from '../../src/seal/arc/grid-text.ts';
import { renderArcTask } from '../../src/seal/arc/render.ts';
import { INCREASE_HEIGHT_2, TRANSPOSE, flip, repeat, rotate, sameForBoth } from '../../src/seal/arc/tools.ts';
import { ARC_DIR, HAVE_ARC, TRAINING_CHALLENGES, TRAINING_SOLUTIONS } from '../seal/arc/shared-arc.ts';

// ---------------------------------------------------------------- reference transforms

type G = number[][];
const H = (g: Grid) => g.length;
const W = (g: Grid) => g[0].length;
const make = (rows: number, cols: number, cell: (i: number, j: number) => number): G =>
  Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => cell(i, j)));
const column = (g: Grid, j: number) => g.map((row) => row[j]);

/** Lets every non-empty cell fall one step at a time into an empty neighbour until nothing moves. */
function settle(g: Grid, di: number, dj: number): G {
  const out = g.map((row) => [...row]);
  for (let moved = true; moved; ) {
    moved = false;
    for (let i = 0; i < H(out); i++) {
      for (let j = 0; j < W(out); j++) {
        const [ni, nj] = [i + di, j + dj];
        if (ni < 0 || nj < 0 || ni >= H(out) || nj >= W(out)) continue;
        if (out[i][j] !== 0 && out[ni][nj] === 0) {
          [out[ni][nj], out[i][j]] = [out[i][j], 0];
          moved = true;
        }
      }
    }
  }
  return out;
}

const REFERENCE: Record<string, (g: Grid) => G> = {
  // Counter-clockwise: the last column becomes the first row.
  'rotate-90': (g) => Array.from({ length: W(g) }, (_, k) => column(g, W(g) - 1 - k)),
  'rotate-180': (g) => [...g].reverse().map((row) => [...row].reverse()),
  'rotate-270': (g) => Array.from({ length: W(g) }, (_, k) => column(g, k).reverse()),
  'flip-up-down': (g) => make(H(g), W(g), (i, j) => g[H(g) - 1 - i][j]),
  'flip-left-right': (g) => make(H(g), W(g), (i, j) => g[i][W(g) - 1 - j]),
  transpose: (g) => make(W(g), H(g), (i, j) => g[j][i]),
  'gravity-down': (g) => settle(g, 1, 0),
  'gravity-left': (g) => settle(g, 0, -1),
  'shift-right-wrap': (g) => make(H(g), W(g), (i, j) => g[i][(j + W(g) - 1) % W(g)]),
  'shift-down': (g) => make(H(g), W(g), (i, j) => (i === 0 ? 0 : g[i - 1][j])),
  'upscale-2': (g) => make(2 * H(g), 2 * W(g), (i, j) => g[i >> 1][j >> 1]),
  'tile-2x1': (g) => make(2 * H(g), W(g), (i, j) => g[i % H(g)][j]),
  'tile-1x2': (g) => make(H(g), 2 * W(g), (i, j) => g[i][j % W(g)]),
  'tile-2x2': (g) => make(2 * H(g), 2 * W(g), (i, j) => g[i % H(g)][j % W(g)]),
};

function reference(world: ArcWorld, id: string): (g: Grid) => G {
  const info = world.meta.tasks[id];
  const map = (g: Grid) => g.map((row) => row.map((c) => info.colourMap?.[String(c)] ?? c));
  return (g) => info.parts.reduce<G>((x, part) => (part === 'colour-map' ? map(x) : REFERENCE[part](x)), g as G);
}

const allTasks = (world: ArcWorld) => [...world.train, ...world.eval];
const grids = (task: ArcTask): Grid[] => [...task.train.flatMap((p) => [p.input, p.output]), ...task.test.flatMap((p) => [p.input, p.output!])];

// One world holding every family three times over, shared by the tests that only read it.
const EVERY_FAMILY = generateArcWorld({ seed: 11, trainTasks: 2 * ALL_FAMILIES.length, evalTasks: ALL_FAMILIES.length });

// ---------------------------------------------------------------- tests

describe('the catalogue', () => {
  it('has 15 primitives and 78 compositions of two kinds', () => {
    expect(PRIMITIVE_FAMILIES).toHaveLength(15);
    expect(COMPOSITION_FAMILIES).toHaveLength(78);
    expect(new Set(ALL_FAMILIES).size).toBe(93);
    for (const name of COMPOSITION_FAMILIES) expect(new Set(parseFamily(name).kinds).size).toBe(2);
  });

  it("the generator's transforms equal the reference on hand-made and generated grids", () => {
    const g = [
      [1, 2, 0],
      [0, 3, 4],
    ];
    expect(structuralTransform('rotate-90')(g)).toEqual([
      [0, 4],
      [2, 3],
      [1, 0],
    ]);
    expect(structuralTransform('gravity-down')(g)).toEqual([
      [0, 2, 0],
      [1, 3, 4],
    ]);
    expect(structuralTransform('gravity-left')([[0, 5, 0, 6]])).toEqual([[5, 6, 0, 0]]);
    expect(structuralTransform('shift-down')(g)).toEqual([
      [0, 0, 0],
      [1, 2, 0],
    ]);
    for (const name of PRIMITIVE_FAMILIES.filter((f) => f !== 'colour-map')) {
      for (const grid of EVERY_FAMILY.train.slice(0, 20).flatMap(grids)) {
        expect(structuralTransform(name)(grid), name).toEqual(REFERENCE[name](grid));
      }
    }
  });

  it('refuses unknown families, two parts of one kind, three parts, and empty lists, naming the fix', () => {
    expect(() => generateArcWorld({ seed: 0, trainTasks: 1, evalTasks: 0, families: ['rotate-45'] })).toThrow(
      /unknown family "rotate-45"; a family is one of rotate-90/,
    );
    expect(() => parseFamily('rotate-90+flip-up-down')).toThrow(/joins two geometric parts; a composition takes parts of two different kinds/);
    expect(() => parseFamily('rotate-90+gravity-down+upscale-2')).toThrow(/unknown family/);
    expect(() => generateArcWorld({ seed: 0, trainTasks: 1, evalTasks: 1, families: { train: ['transpose'], eval: [] } })).toThrow(
      /the eval family list is empty/,
    );
    expect(() => generateArcWorld({ seed: 0, trainTasks: -1, evalTasks: 0 })).toThrow(/trainTasks must be a whole number ≥ 0/);
  });

  it('accepts a composition in the other order by name', () => {
    const world = generateArcWorld({ seed: 3, trainTasks: 4, evalTasks: 0, families: ['gravity-down+rotate-90'] });
    for (const task of world.train) {
      for (const p of [...task.train, ...task.test]) expect(p.output).toEqual(REFERENCE['rotate-90'](REFERENCE['gravity-down'](p.input)));
    }
  });
});

describe('generateArcWorld', () => {
  it('is deterministic per seed, differs across seeds, and keeps earlier tasks when asked for more', () => {
    const a = generateArcWorld({ seed: 5, trainTasks: 12, evalTasks: 6 });
    expect(generateArcWorld({ seed: 5, trainTasks: 12, evalTasks: 6 })).toEqual(a);
    const other = generateArcWorld({ seed: 6, trainTasks: 12, evalTasks: 6 });
    expect(other.train.map((t) => t.id)).not.toEqual(a.train.map((t) => t.id));
    expect(other.train[0].train).not.toEqual(a.train[0].train);
    const more = generateArcWorld({ seed: 5, trainTasks: 20, evalTasks: 3 });
    expect(more.train.slice(0, 12)).toEqual(a.train);
    expect(more.eval).toEqual(a.eval.slice(0, 3));
  });

  it('makes valid tasks of every family: shapes, colours, demonstrations, ids', () => {
    const ids = allTasks(EVERY_FAMILY).map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(Object.keys(EVERY_FAMILY.meta.tasks)).toEqual(ids);
    for (const task of allTasks(EVERY_FAMILY)) {
      expect(task.id).toMatch(/^[0-9a-f]{8}$/);
      expect(task.train.length).toBeGreaterThanOrEqual(2);
      expect(task.train.length).toBeLessThanOrEqual(4);
      expect(task.test).toHaveLength(1);
      for (const p of [...task.train, ...task.test]) {
        for (const side of [p.input.length, p.input[0].length]) expect(side >= 3 && side <= 7).toBe(true);
        expect(p.output!.length).toBeLessThanOrEqual(MAX_OUTPUT_SIDE);
        expect(p.output![0].length).toBeLessThanOrEqual(MAX_OUTPUT_SIDE);
        expect(p.output).not.toEqual(p.input);
      }
      const inputColours = new Set([...task.train, ...task.test].flatMap((p) => p.input.flat()).filter((c) => c !== 0));
      const demoColours = new Set(task.train.flatMap((p) => p.input.flat()));
      expect(task.test[0].input.flat().every((c) => demoColours.has(c))).toBe(true);
      expect(inputColours.size).toBeGreaterThanOrEqual(2);
      expect(inputColours.size).toBeLessThanOrEqual(5);
      // The loader's own checks (rectangular, integers 0–9) accept every grid.
      expect(parseArcTasks({ [task.id]: task }, 'world')[0]).toEqual(task);
    }
  });

  it("every pair's output is the family's transform of its input (the reference, with the task's colour map)", () => {
    const seen = new Set<string>();
    for (const task of allTasks(EVERY_FAMILY)) {
      const info = EVERY_FAMILY.meta.tasks[task.id];
      seen.add(info.family);
      expect(info.parts.join('+')).toBe(info.family);
      const f = reference(EVERY_FAMILY, task.id);
      for (const p of [...task.train, ...task.test]) expect(p.output, `${task.id} (${info.family})`).toEqual(f(p.input));
    }
    expect([...seen].sort()).toEqual([...ALL_FAMILIES].sort());
  });

  it('composition tasks equal the composed parts, and their test needs both parts', () => {
    let compositions = 0;
    for (const task of allTasks(EVERY_FAMILY)) {
      const info = EVERY_FAMILY.meta.tasks[task.id];
      if (info.parts.length !== 2) continue;
      compositions++;
      const [a, b] = info.parts.map((part) => (part === 'colour-map' ? (g: Grid) => g.map((row) => row.map((c) => info.colourMap![c] ?? c)) : REFERENCE[part]));
      const { input, output } = task.test[0];
      expect(output).toEqual(b(a(input)));
      expect(output).not.toEqual(a(input));
      expect(output).not.toEqual(b(input));
    }
    expect(compositions).toBe(3 * COMPOSITION_FAMILIES.length);
  });

  it('colour maps change colours the demonstrations show and the test uses, merging none', () => {
    const mapped = allTasks(EVERY_FAMILY).filter((t) => EVERY_FAMILY.meta.tasks[t.id].parts.includes('colour-map'));
    // colour-map itself and its 14 compositions (6 geometric, 4 move, 4 size), three tasks each.
    expect(mapped.length).toBe(3 * 15);
    for (const task of mapped) {
      const map = EVERY_FAMILY.meta.tasks[task.id].colourMap!;
      const changed = Object.keys(map).map(Number);
      expect(changed.length).toBeGreaterThanOrEqual(1);
      expect(changed.length).toBeLessThanOrEqual(3);
      const demoColours = new Set(task.train.flatMap((p) => p.input.flat()));
      for (const c of changed) {
        expect(demoColours.has(c)).toBe(true);
        expect(map[c]).not.toBe(c);
        expect(map[c]).toBeGreaterThanOrEqual(1);
      }
      expect(task.test[0].input.flat().some((c) => changed.includes(c))).toBe(true);
      // No two colours of the task's inputs end up the same.
      const used = [...new Set([...task.train, ...task.test].flatMap((p) => p.input.flat()))];
      const image = used.map((c) => map[c] ?? c);
      expect(new Set(image).size).toBe(image.length);
    }
  });

  it('demonstrations rule out every other structural family that would answer the test differently', () => {
    const structural = ALL_FAMILIES.filter((f) => !f.includes('colour-map'));
    for (const task of allTasks(EVERY_FAMILY)) {
      for (const family of structural) {
        const parts = family.split('+');
        const f = (g: Grid) => parts.reduce<G>((x, part) => REFERENCE[part](x), g as G);
        const fits = task.train.every((p) => JSON.stringify(f(p.input)) === JSON.stringify(p.output));
        if (fits) expect(f(task.test[0].input), `${task.id} (${EVERY_FAMILY.meta.tasks[task.id].family}) also fits ${family}`).toEqual(task.test[0].output);
      }
    }
  });

  it('deals families in rounds, so every family gets its share', () => {
    const families = ['rotate-90', 'gravity-down', 'colour-map', 'tile-2x2+colour-map'];
    const world = generateArcWorld({ seed: 9, trainTasks: 8, evalTasks: 5, families });
    const count = (tasks: ArcTask[]) => tasks.map((t) => world.meta.tasks[t.id].family).sort();
    expect(count(world.train)).toEqual([...families, ...families].sort());
    expect(new Set(count(world.eval.slice(0, 4)))).toEqual(new Set(families));
  });

  it('heldOutSplit: evaluation tasks are compositions no training task has, of parts training has', () => {
    const split = heldOutSplit();
    expect(split.eval).toEqual([...HELD_OUT_COMPOSITIONS]);
    expect(split.train.filter((f) => split.eval.includes(f))).toEqual([]);
    const trainParts = new Set(split.train.flatMap((f) => f.split('+')));
    for (const f of split.eval) for (const part of f.split('+')) expect(trainParts.has(part)).toBe(true);
    const world = generateArcWorld({ seed: 2, trainTasks: 30, evalTasks: 12, families: split });
    for (const t of world.train) expect(split.eval).not.toContain(world.meta.tasks[t.id].family);
    for (const t of world.eval) expect(split.eval).toContain(world.meta.tasks[t.id].family);
    expect(world.meta.tasks[world.eval[0].id].split).toBe('evaluation');
    expect(() => heldOutSplit(['nope'])).toThrow(/unknown family "nope"/);
  });
});

describe('SEAL files and grid text', () => {
  const dir = mkdtempSync(join(tmpdir(), 'arc-world-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const world = generateArcWorld({ seed: 4, trainTasks: 10, evalTasks: 5 });

  it("writes SEAL's file pair per split and the metadata apart; our loader reads them back equal", async () => {
    const paths = await writeArcWorld(world, join(dir, 'world'));
    expect(readdirSync(join(dir, 'world')).sort()).toEqual(Object.values(ARC_WORLD_FILES).sort());
    expect(loadArcTasks(paths.trainChallenges, paths.trainSolutions)).toEqual(world.train);
    expect(loadArcTasks(paths.evalChallenges, paths.evalSolutions)).toEqual(world.eval);
    expect(JSON.parse(readFileSync(paths.meta, 'utf8'))).toEqual(world.meta);
    // Every family's tasks, in order, through the same texts.
    const every = arcPrizeJson(allTasks(EVERY_FAMILY));
    expect(parseArcTasks(JSON.parse(every.challenges), 'c', JSON.parse(every.solutions), 's')).toEqual(allTasks(EVERY_FAMILY));
    // Without solutions, the test outputs are not in the challenges file; no family name is in either task file.
    expect(loadArcTasks(paths.evalChallenges).every((t) => t.test.every((p) => p.output === undefined))).toBe(true);
    for (const path of [paths.trainChallenges, paths.trainSolutions, paths.evalChallenges, paths.evalSolutions]) {
      const text = readFileSync(path, 'utf8');
      for (const family of PRIMITIVE_FAMILIES) expect(text).not.toContain(family);
    }
  });

  it('writes the Kaggle files byte for byte as they are (a task of the shared ARC data, when present)', () => {
    const task: ArcTask = { id: '0a1b2c3d', train: [{ input: [[1, 0]], output: [[0, 1]] }], test: [{ input: [[2, 0]], output: [[0, 2]] }] };
    expect(arcPrizeJson([task, { ...task, id: 'ffffffff' }])).toEqual({
      challenges:
        '{"0a1b2c3d": {"test": [{"input": [[2, 0]]}], "train": [{"input": [[1, 0]], "output": [[0, 1]]}]}, ' +
        '"ffffffff": {"test": [{"input": [[2, 0]]}], "train": [{"input": [[1, 0]], "output": [[0, 1]]}]}}',
      solutions: '{"0a1b2c3d": [[[0, 2]]], "ffffffff": [[[0, 2]]]}',
    });
    expect(() => arcPrizeJson([{ ...task, test: [{ input: [[1]] }] }])).toThrow(/task 0a1b2c3d test 0 has no output/);
  });

  it.skipIf(!HAVE_ARC)(`matches the text of ${ARC_DIR}'s training files task by task`, () => {
    const challenges = readFileSync(TRAINING_CHALLENGES, 'utf8');
    const solutions = readFileSync(TRAINING_SOLUTIONS, 'utf8');
    const tasks = loadArcTasks(TRAINING_CHALLENGES, TRAINING_SOLUTIONS);
    for (const id of ['007bbfb7', '6150a2bd', 'ff805c23']) {
      const ours = arcPrizeJson([findArcTask(tasks, id)]);
      expect(challenges).toContain(ours.challenges.slice(1, -1));
      expect(solutions).toContain(ours.solutions.slice(1, -1));
    }
  });

  it("round-trips every grid through SEAL's grid text", () => {
    for (const task of allTasks(EVERY_FAMILY)) for (const grid of grids(task)) expect(parseGridAnswer(`${formatGrid(grid)}#`)).toEqual(grid);
  });

  it('renders a known small task as SEAL does', () => {
    const input = [
      [1, 2, 0],
      [0, 3, 4],
    ];
    const text = formatExample({ input, output: structuralTransform('rotate-90')(input) });
    expect(text).toBe('[[1 2 0]\n [0 3 4]] -> [[0 4]\n [2 3]\n [1 0]]#');
  });

  it("a world task goes through SEAL's dry run (policy prompt, test-time training, inference queries)", () => {
    const task = world.eval[0];
    const text = renderArcTask(task, undefined, { limit: 2 });
    expect(text).toContain(`### Policy prompt (self-edit generation), task ${task.id}`);
    const rows = (g: Grid) => g.map((row) => row.join(' ')).join('\n');
    // The policy prompt shows every demonstration as rows of digits, and not the test input.
    for (const p of task.train) expect(text).toContain(`Input:\n${rows(p.input)}\n\nOutput:\n${rows(p.output)}\n`);
    expect(text).not.toContain(`Input:\n${rows(task.test[0].input)}\n`);
    // The inference queries ask for the test input as a numpy-printed grid.
    expect(text).toContain(`${formatGrid(task.test[0].input)} -> `);
  });
});

describe("SEAL's augmentation tools change what some tasks mean (notes/arc-world.md)", () => {
  const world = generateArcWorld({ seed: 3, trainTasks: 4 * PRIMITIVE_FAMILIES.length, evalTasks: 0, families: PRIMITIVE_FAMILIES });
  /** Whether every pair of every task of `family`, with `transform` applied to both grids, is a pair of `becomes`. */
  const turnsInto = (family: string, transform: Parameters<typeof sameForBoth>[1], becomes: string) => {
    const tool = sameForBoth('basic', transform);
    return world.train
      .filter((t) => world.meta.tasks[t.id].family === family)
      .every((t) =>
        [...t.train, ...t.test].every((p) => {
          const { input, output } = tool.apply({ input: p.input, output: p.output! });
          const f = becomes === family ? reference(world, t.id) : REFERENCE[becomes];
          const expected = f(input);
          return JSON.stringify(expected) === JSON.stringify(output);
        }),
      );
  };

  it('a flip or transpose on both grids turns rotate-90 into rotate-270; rotations keep it', () => {
    expect(turnsInto('rotate-90', flip(0), 'rotate-270')).toBe(true);
    expect(turnsInto('rotate-90', TRANSPOSE, 'rotate-270')).toBe(true);
    expect(turnsInto('rotate-90', rotate(180), 'rotate-90')).toBe(true);
    expect(turnsInto('rotate-90', INCREASE_HEIGHT_2, 'rotate-90')).toBe(false);
  });

  it('a rotation turns gravity-left into gravity-down and tile-2x1 into tile-1x2', () => {
    expect(turnsInto('gravity-left', rotate(90), 'gravity-down')).toBe(true);
    expect(turnsInto('tile-2x1', rotate(90), 'tile-1x2')).toBe(true);
    expect(turnsInto('gravity-down', flip(0), 'gravity-down')).toBe(false);
  });

  it('every tool keeps colour-map and upscale-2 tasks what they are', () => {
    for (const transform of [rotate(90), flip(1), TRANSPOSE, INCREASE_HEIGHT_2, repeat(0), repeat(2)]) {
      expect(turnsInto('colour-map', transform, 'colour-map'), transform.name).toBe(true);
      expect(turnsInto('upscale-2', transform, 'upscale-2'), transform.name).toBe(true);
    }
  });
});

describe('input sides (minSide, maxSide)', () => {
  it('keeps every input within the side asked for, records it, and refuses sides outside 3–7', () => {
    const world = generateArcWorld({ seed: 5, trainTasks: 93, evalTasks: 0, maxSide: 4 });
    for (const task of world.train) {
      for (const pair of [...task.train, ...task.test]) expect(Math.max(pair.input.length, pair.input[0].length)).toBeLessThanOrEqual(4);
    }
    expect(world.meta.maxSide).toBe(4);
    expect(generateArcWorld({ seed: 5, trainTasks: 1, evalTasks: 0 }).meta.maxSide).toBeUndefined();
    expect(() => generateArcWorld({ seed: 5, trainTasks: 1, evalTasks: 0, maxSide: 2 })).toThrow(/maxSide/);
    expect(() => generateArcWorld({ seed: 5, trainTasks: 1, evalTasks: 0, maxSide: 8 })).toThrow(/maxSide/);
  });

  it('minSide = maxSide gives one input size to every task of every family', () => {
    const world = generateArcWorld({ seed: 6, trainTasks: 93, evalTasks: 0, minSide: 4, maxSide: 4 });
    for (const task of world.train) {
      for (const pair of [...task.train, ...task.test]) expect([pair.input.length, pair.input[0].length]).toEqual([4, 4]);
    }
    expect([world.meta.minSide, world.meta.maxSide]).toEqual([4, 4]);
    expect(() => generateArcWorld({ seed: 5, trainTasks: 1, evalTasks: 0, minSide: 5, maxSide: 4 })).toThrow(/minSide/);
  });
});

describe('density', () => {
  it('dense worlds leave few background cells, record the range, and refuse an empty or inverted one', () => {
    // Colour families only: moves need empty cells, so dense grids would be redrawn for them until they fail.
    const families = ['colour-map', 'rotate-90', 'flip-left-right+colour-map'];
    const share = (w: ReturnType<typeof generateArcWorld>) => {
      const cells = w.train.flatMap((t) => t.train.flatMap((p) => p.input.flat()));
      return cells.filter((c) => c !== 0).length / cells.length;
    };
    const dense = generateArcWorld({ seed: 7, trainTasks: 60, evalTasks: 0, families, density: { min: 0.8, max: 0.9 } });
    const sparse = generateArcWorld({ seed: 7, trainTasks: 60, evalTasks: 0, families });
    // 60 tasks of ≥ 3 inputs of ≥ 9 cells: the share sits within a few points of its range.
    expect(share(dense)).toBeGreaterThan(0.78);
    expect(share(dense)).toBeLessThan(0.92);
    expect(share(sparse)).toBeLessThan(0.72);
    expect(dense.meta.density).toEqual({ min: 0.8, max: 0.9 });
    expect(sparse.meta.density).toBeUndefined();
    for (const density of [
      { min: 0, max: 0.5 },
      { min: 0.6, max: 0.5 },
      { min: 0.5, max: 1.2 },
    ]) {
      expect(() => generateArcWorld({ seed: 7, trainTasks: 1, evalTasks: 0, families, density })).toThrow(/density/);
    }
  });
});
