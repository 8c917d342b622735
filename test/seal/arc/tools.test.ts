import { describe, expect, it } from 'vitest';
import type { Grid } from '../../../src/seal/arc/grid.ts';
import {
  ALL_TOOLS,
  INCREASE_HEIGHT_2,
  INCREASE_RESOLUTION_2,
  INCREASE_WIDTH_2,
  NO_TOOLS,
  TRANSPOSE,
  chain,
  flip,
  reflect,
  repeat,
  rotate,
  randomTranslateXY,
  selectTools,
  translate,
} from '../../../src/seal/arc/tools.ts';
import { RandomState } from '../../../src/util/mt19937.ts';

const rs = (seed: number) => RandomState.create(seed);

// A 2×3 grid: non-square, so every axis mix-up shows.
const G: Grid = [
  [1, 2, 3],
  [4, 5, 6],
];

describe('grid transforms, against hand-worked grids (numpy semantics)', () => {
  const cases: [string, ReturnType<typeof rotate>, number[][]][] = [
    [
      'Rotate(90): a quarter turn counter-clockwise (np.rot90)',
      rotate(90),
      [
        [3, 6],
        [2, 5],
        [1, 4],
      ],
    ],
    [
      'Rotate(270): a quarter turn clockwise',
      rotate(270),
      [
        [4, 1],
        [5, 2],
        [6, 3],
      ],
    ],
    [
      'Rotate(180)',
      rotate(180),
      [
        [6, 5, 4],
        [3, 2, 1],
      ],
    ],
    [
      'Flip(0): up-down',
      flip(0),
      [
        [4, 5, 6],
        [1, 2, 3],
      ],
    ],
    [
      'Flip(1): left-right',
      flip(1),
      [
        [3, 2, 1],
        [6, 5, 4],
      ],
    ],
    [
      'Transpose()',
      TRANSPOSE,
      [
        [1, 4],
        [2, 5],
        [3, 6],
      ],
    ],
    [
      'Reflect(0, reverse=True): mirror image above',
      reflect(0, true),
      [
        [4, 5, 6],
        [1, 2, 3],
        [1, 2, 3],
        [4, 5, 6],
      ],
    ],
    [
      'Reflect(0, reverse=False): mirror image below',
      reflect(0, false),
      [
        [1, 2, 3],
        [4, 5, 6],
        [4, 5, 6],
        [1, 2, 3],
      ],
    ],
    [
      'Reflect(1, reverse=True): mirror image left',
      reflect(1, true),
      [
        [3, 2, 1, 1, 2, 3],
        [6, 5, 4, 4, 5, 6],
      ],
    ],
    [
      'Reflect(1, reverse=False): mirror image right',
      reflect(1, false),
      [
        [1, 2, 3, 3, 2, 1],
        [4, 5, 6, 6, 5, 4],
      ],
    ],
    [
      'IncreaseResolution(2): every cell a 2×2 block',
      INCREASE_RESOLUTION_2,
      [
        [1, 1, 2, 2, 3, 3],
        [1, 1, 2, 2, 3, 3],
        [4, 4, 5, 5, 6, 6],
        [4, 4, 5, 5, 6, 6],
      ],
    ],
    [
      'IncreaseHeight(2): every row twice',
      INCREASE_HEIGHT_2,
      [
        [1, 2, 3],
        [1, 2, 3],
        [4, 5, 6],
        [4, 5, 6],
      ],
    ],
    [
      'IncreaseWidth(2): every column twice',
      INCREASE_WIDTH_2,
      [
        [1, 1, 2, 2, 3, 3],
        [4, 4, 5, 5, 6, 6],
      ],
    ],
    [
      'Repeat(0, 2): tiled vertically',
      repeat(0),
      [
        [1, 2, 3],
        [4, 5, 6],
        [1, 2, 3],
        [4, 5, 6],
      ],
    ],
    [
      'Repeat(1, 2): tiled horizontally',
      repeat(1),
      [
        [1, 2, 3, 1, 2, 3],
        [4, 5, 6, 4, 5, 6],
      ],
    ],
    [
      'Repeat(2, 2): tiled 2×2',
      repeat(2),
      [
        [1, 2, 3, 1, 2, 3],
        [4, 5, 6, 4, 5, 6],
        [1, 2, 3, 1, 2, 3],
        [4, 5, 6, 4, 5, 6],
      ],
    ],
    [
      'Chain([Rotate(90), IncreaseResolution(2)])',
      chain(rotate(90), INCREASE_RESOLUTION_2),
      [
        [3, 3, 6, 6],
        [3, 3, 6, 6],
        [2, 2, 5, 5],
        [2, 2, 5, 5],
        [1, 1, 4, 4],
        [1, 1, 4, 4],
      ],
    ],
    [
      'Chain([Transpose(), IncreaseResolution(2)])',
      chain(TRANSPOSE, INCREASE_RESOLUTION_2),
      [
        [1, 1, 4, 4],
        [1, 1, 4, 4],
        [2, 2, 5, 5],
        [2, 2, 5, 5],
        [3, 3, 6, 6],
        [3, 3, 6, 6],
      ],
    ],
    [
      'Chain([Flip(1), IncreaseResolution(2)])',
      chain(flip(1), INCREASE_RESOLUTION_2),
      [
        [3, 3, 2, 2, 1, 1],
        [3, 3, 2, 2, 1, 1],
        [6, 6, 5, 5, 4, 4],
        [6, 6, 5, 5, 4, 4],
      ],
    ],
  ];

  for (const [title, transform, expected] of cases) {
    it(`${title}: applies, and its inverse gives the grid back`, () => {
      expect(transform.apply(G)).toEqual(expected);
      expect(transform.invert(expected)).toEqual(G);
    });
  }

  it('Rotate(90) and Rotate(270) undo each other on a 3×1 column', () => {
    expect(rotate(90).apply([[7], [8], [9]])).toEqual([[7, 8, 9]]);
    expect(rotate(270).apply([[7], [8], [9]])).toEqual([[9, 8, 7]]);
    expect(rotate(90).invert([[7, 8, 9]])).toEqual([[7], [8], [9]]);
  });

  it('a translation is np.roll: rows down, columns right, wrapping around', () => {
    const A = [
      [1, 2, 3, 4, 5],
      [6, 7, 8, 9, 0],
      [0, 0, 1, 1, 2],
      [3, 3, 4, 4, 5],
    ];
    const shifted = [
      [4, 5, 3, 3, 4],
      [4, 5, 1, 2, 3],
      [9, 0, 6, 7, 8],
      [1, 2, 0, 0, 1],
    ];
    expect(translate(1, 2).apply(A)).toEqual(shifted);
    expect(translate(1, 2).invert(shifted)).toEqual(A);
    expect(translate(1, 0).apply(G)).toEqual([
      [4, 5, 6],
      [1, 2, 3],
    ]);
    expect(translate(0, 0).apply(G)).toEqual(G);
  });

  it('inverses refuse grids that no input could have produced', () => {
    expect(
      INCREASE_RESOLUTION_2.invert([
        [1, 2],
        [3, 4],
      ]),
    ).toBeNull();
    expect(INCREASE_RESOLUTION_2.invert([[1, 1, 2]])).toBeNull();
    expect(INCREASE_HEIGHT_2.invert([[1], [1], [2]])).toBeNull();
    expect(reflect(0, false).invert([[1], [2], [3]])).toBeNull();
    expect(reflect(1, false).invert([[1, 2, 1, 2]])).toBeNull();
    expect(repeat(1).invert([[1, 2, 3, 4]])).toBeNull();
    expect(
      repeat(2).invert([
        [1, 1],
        [1, 2],
      ]),
    ).toBeNull();
    expect(
      chain(rotate(90), INCREASE_RESOLUTION_2).invert([
        [1, 2],
        [3, 4],
      ]),
    ).toBeNull();
  });
});

describe('selectTools: SEAL get_augmenters', () => {
  it('lists the 23 tools in SEAL order under SEAL names', () => {
    const tools = selectTools(ALL_TOOLS, rs(0));
    expect(tools.map((tool) => tool.name)).toEqual([
      'Rotate(90)',
      'Rotate(270)',
      'Rotate(180)',
      'Flip(0)',
      'Flip(1)',
      'Reflect(0, reverse=True)',
      'Reflect(1, reverse=True)',
      'Reflect(0, reverse=False)',
      'Reflect(1, reverse=False)',
      'RandomTranslateXY()',
      'Transpose()',
      'IncreaseResolution(2)',
      'IncreaseHeight(2)',
      'IncreaseWidth(2)',
      'Chain([Rotate(90), IncreaseResolution(2)])',
      'Chain([Rotate(270), IncreaseResolution(2)])',
      'Chain([Rotate(180), IncreaseResolution(2)])',
      'Chain([Flip(0), IncreaseResolution(2)])',
      'Chain([Flip(1), IncreaseResolution(2)])',
      'Chain([Transpose(), IncreaseResolution(2)])',
      'Repeat(0, 2)',
      'Repeat(1, 2)',
      'Repeat(2, 2)',
    ]);
    expect(tools.map((tool) => tool.group)).toEqual([
      ...Array(11).fill('basic'),
      ...Array(3).fill('size'),
      ...Array(6).fill('chain'),
      ...Array(3).fill('repeat'),
    ]);
  });

  it('switches groups independently', () => {
    expect(selectTools(NO_TOOLS, rs(0))).toEqual([]);
    expect(selectTools({ ...NO_TOOLS, size: true }, rs(0)).map((t) => t.name)).toEqual(['IncreaseResolution(2)', 'IncreaseHeight(2)', 'IncreaseWidth(2)']);
    expect(selectTools({ ...NO_TOOLS, repeat: true }, rs(0)).map((t) => t.name)).toEqual(['Repeat(0, 2)', 'Repeat(1, 2)', 'Repeat(2, 2)']);
    expect(selectTools({ ...NO_TOOLS, chain: true }, rs(0))).toHaveLength(6);
    expect(selectTools({ ...NO_TOOLS, basic: true }, rs(0))).toHaveLength(11);
  });

  it("draws SEAL's shifts: numpy's RandomState(seed), a copy per example, input then output, randint(0, min(4, side))", () => {
    // Expected shifts from SEAL's code path, run once with numpy 2.4.6: rng = np.random.RandomState(seed);
    // for each example r = copy.deepcopy(rng); input (r.randint(0, min(4, h)), r.randint(0, min(4, w))),
    // then output the same two draws of r, for grid sizes (input, output):
    //   seed 0: (3×3, 3×3) → (0, 1), (0, 1); (10×10, 10×10) → (0, 3), (1, 0); (2×5, 6×1) → (0, 3), (1, 0);
    //           (1×1, 30×30) → (0, 0), (0, 3)
    //   seed 7: (3×3, 3×3) → (0, 1), (2, 0); (10×10, 10×10) → (3, 0), (1, 2)
    // A lone 1 at the top-left of a grid lands at (down, right) after the roll.
    const marker = (h: number, w: number): Grid => Array.from({ length: h }, (_, i) => Array.from({ length: w }, (_, j) => (i === 0 && j === 0 ? 1 : 0)));
    const where = (grid: Grid): [number, number] => {
      const i = grid.findIndex((row) => row.includes(1));
      return [i, grid[i].indexOf(1)];
    };
    const shifts = (seed: number, [hi, wi]: number[], [ho, wo]: number[]) => {
      const tool = randomTranslateXY(rs(seed));
      const out = tool.apply({ input: marker(hi, wi), output: marker(ho, wo) });
      return [where(out.input), where(out.output)];
    };
    expect(shifts(0, [3, 3], [3, 3])).toEqual([
      [0, 1],
      [0, 1],
    ]);
    expect(shifts(0, [10, 10], [10, 10])).toEqual([
      [0, 3],
      [1, 0],
    ]);
    expect(shifts(0, [2, 5], [6, 1])).toEqual([
      [0, 3],
      [1, 0],
    ]);
    expect(shifts(0, [1, 1], [30, 30])).toEqual([
      [0, 0],
      [0, 3],
    ]);
    expect(shifts(7, [3, 3], [3, 3])).toEqual([
      [0, 1],
      [2, 0],
    ]);
    expect(shifts(7, [10, 10], [10, 10])).toEqual([
      [3, 0],
      [1, 2],
    ]);
    // Every example starts from the same state: applying the tool twice gives the same shifts, and the
    // generator handed in is not advanced.
    const rng = rs(0);
    const tool = selectTools({ ...NO_TOOLS, basic: true }, rng).find((t) => t.name === 'RandomTranslateXY()')!;
    const example = { input: marker(10, 10), output: marker(10, 10) };
    expect(tool.apply(example)).toEqual(tool.apply(example));
    expect(rng.randint(0, 4)).toBe(0); // RandomState(0)'s first randint(0, 4), as if untouched
  });
});
