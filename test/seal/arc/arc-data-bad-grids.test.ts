// Bad grids in task files: each is refused on load with an error that names the file, the task id, the pair
// and side (or the solution), where in the grid, and what the file must hold instead.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadArcTasks, parseArcTasks } from '../../../src/seal/arc/arc-data.ts';

const ok = [[1, 0]];
/** A one-task challenges object whose grid at `slot` is `grid`, every other grid fine. */
function taskWith(slot: 'train-input' | 'train-output' | 'test-input' | 'test-output', grid: unknown) {
  const pick = (s: typeof slot) => (s === slot ? grid : ok);
  return {
    ab12cd34: {
      train: [
        { input: ok, output: ok },
        { input: pick('train-input'), output: pick('train-output') },
      ],
      test: slot === 'test-output' ? [{ input: ok, output: grid }] : [{ input: pick('test-input') }],
    },
  };
}

describe('task files with bad grids are refused, naming task, pair, grid and fix', () => {
  const cases: [string, unknown, RegExp][] = [
    [
      'ragged rows',
      [
        [1, 2, 3],
        [4, 5],
      ],
      /row 1 has 2 cells but row 0 has 3; grids must be rectangular: give every row 3 cells/,
    ],
    ['a shorter first row', [[1], [4, 5]], /row 1 has 2 cells but row 0 has 1; grids must be rectangular/],
    ['an empty grid', [], /a grid must be a non-empty array of rows, got \[\]; write it as rows of colours, e\.g\. \[\[0, 1\], \[2, 0\]\]/],
    ['a missing grid', undefined, /a grid must be a non-empty array of rows, got nothing/],
    ['a grid that is not a list', 'grid', /a grid must be a non-empty array of rows, got "grid"/],
    ['empty rows', [[], []], /rows must not be empty \(row 0 has no cells\); every row needs 1 to 30 cells/],
    ['an empty later row', [[1, 2], []], /row 1 has 0 cells but row 0 has 2/],
    ['a row that is not a list', [[1, 2], 3], /row 1 is 3, not an array of cells/],
    ['a colour above 9', [[1, 12]], /cell \[0\]\[1\] is 12; colours are integers 0–9 \(0 the background\): write it as one/],
    ['a negative colour', [[0], [-1]], /cell \[1\]\[0\] is -1; colours are integers 0–9/],
    ['a fractional colour', [[0.5]], /cell \[0\]\[0\] is 0\.5; colours are integers 0–9/],
    ['a null cell', [[null, 1]], /cell \[0\]\[0\] is null; colours are integers 0–9/],
    ['a boolean cell', [[true]], /cell \[0\]\[0\] is true; colours are integers 0–9/],
  ];
  const slots = [
    ['train-input', 'train\\[1\\]\\.input'],
    ['train-output', 'train\\[1\\]\\.output'],
    ['test-input', 'test\\[0\\]\\.input'],
    ['test-output', 'test\\[0\\]\\.output'],
  ] as const;
  for (const [what, grid, message] of cases) {
    for (const [slot, named] of slots) {
      // A test pair without an output is fine: the solution may come from the solutions file.
      if (grid === undefined && slot === 'test-output') continue;
      it(`refuses ${what} as ${slot}`, () => {
        const thrown = () => parseArcTasks(taskWith(slot, grid), 'c.json');
        expect(thrown).toThrow(new RegExp(`^c\\.json: task ab12cd34: ${named}: `));
        expect(thrown).toThrow(message);
      });
    }
  }

  it('refuses a bad grid in a solutions file, naming the task and solution', () => {
    const challenges = { ab12cd34: { train: [{ input: ok, output: ok }], test: [{ input: ok }, { input: ok }] } };
    expect(() => parseArcTasks(challenges, 'c.json', { ab12cd34: [ok, [[1], [2, 3]]] }, 's.json')).toThrow(
      /^s\.json: task ab12cd34: solution 1: row 1 has 2 cells but row 0 has 1; grids must be rectangular/,
    );
    expect(() => parseArcTasks(challenges, 'c.json', { ab12cd34: [[[10]], ok] }, 's.json')).toThrow(
      /^s\.json: task ab12cd34: solution 0: cell \[0\]\[0\] is 10; colours are integers 0–9/,
    );
    expect(() => parseArcTasks(challenges, 'c.json', { ab12cd34: [[], ok] }, 's.json')).toThrow(
      /^s\.json: task ab12cd34: solution 0: a grid must be a non-empty/,
    );
  });

  describe('from files on disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'arc-bad-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('names the file path and the task id', () => {
      const path = join(dir, 'arc-agi_training_challenges.json');
      writeFileSync(path, JSON.stringify({ good0001: taskWith('train-input', ok).ab12cd34, ...taskWith('test-input', [[1, 2], [3]]) }));
      expect(() => loadArcTasks(path)).toThrow(`${path}: task ab12cd34: test[0].input: row 1 has 1 cells but row 0 has 2`);
    });
  });
});
