import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findArcTask, loadArcTasks, parseArcTasks } from '../../../src/seal/arc/arc-data.ts';
import { TASK_6150A2BD } from '../../helpers/arc-task.ts';
import { HAVE_ARC, TRAINING_CHALLENGES, TRAINING_SOLUTIONS } from './shared-arc.ts';

const good = {
  t1: { train: [{ input: [[1, 2]], output: [[2, 1]] }], test: [{ input: [[3, 4]] }, { input: [[0, 0]] }] },
};

describe('loadArcTasks: the file order', () => {
  it('keeps all-digit task ids where the file has them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'arc-order-'));
    const task = { train: [{ input: [[1]], output: [[2]] }], test: [{ input: [[1]] }] };
    const file = join(dir, 'challenges.json');
    // Written by hand: JSON.stringify of an object would itself put 59341089 first.
    const one = JSON.stringify(task);
    writeFileSync(file, `{"ff00aa11": ${one}, "59341089": ${one}, "00d62c1b": ${one}}`);
    expect(loadArcTasks(file).map((t) => t.id)).toEqual(['ff00aa11', '59341089', '00d62c1b']);
    rmSync(dir, { recursive: true });
  });
});

describe('parseArcTasks: validation with errors that name the task', () => {
  it('reads the ARC Prize layout and attaches solutions per test input', () => {
    const [task] = parseArcTasks(good, 'c.json', { t1: [[[4, 3]], [[0, 0]]] }, 's.json');
    expect(task).toEqual({
      id: 't1',
      train: [{ input: [[1, 2]], output: [[2, 1]] }],
      test: [
        { input: [[3, 4]], output: [[4, 3]] },
        { input: [[0, 0]], output: [[0, 0]] },
      ],
    });
  });

  it('leaves outputs unset without solutions', () => {
    expect(parseArcTasks(good, 'c.json')[0].test[0]).toEqual({ input: [[3, 4]] });
  });

  const bad: [string, unknown, RegExp][] = [
    [
      'ragged rows',
      { t9: { train: [{ input: [[1, 2], [3]], output: [[1]] }], test: [{ input: [[1]] }] } },
      /task t9: train\[0\]\.input: row 1 has 1 cells but row 0 has 2/,
    ],
    [
      'a colour above 9',
      { t9: { train: [{ input: [[1]], output: [[10]] }], test: [{ input: [[1]] }] } },
      /task t9: train\[0\]\.output: cell \[0\]\[0\] is 10; colours are integers 0–9/,
    ],
    ['a fractional colour', { t9: { train: [{ input: [[1.5]], output: [[1]] }], test: [{ input: [[1]] }] } }, /cell \[0\]\[0\] is 1\.5/],
    ['a string cell', { t9: { train: [{ input: [['1']], output: [[1]] }], test: [{ input: [[1]] }] } }, /cell \[0\]\[0\] is "1"/],
    [
      'an empty grid',
      { t9: { train: [{ input: [], output: [[1]] }], test: [{ input: [[1]] }] } },
      /task t9: train\[0\]\.input: a grid must be a non-empty array of rows/,
    ],
    ['an empty row', { t9: { train: [{ input: [[]], output: [[1]] }], test: [{ input: [[1]] }] } }, /rows must not be empty/],
    [
      'a grid over 30×30',
      { t9: { train: [{ input: Array(31).fill([1]), output: [[1]] }], test: [{ input: [[1]] }] } },
      /grid is 31×1; ARC grids are at most 30×30/,
    ],
    ['no demonstrations', { t9: { train: [], test: [{ input: [[1]] }] } }, /task t9: "train" must be a non-empty array/],
    ['no test', { t9: { train: [{ input: [[1]], output: [[1]] }] } }, /task t9: "test" must be a non-empty array/],
    ['a list at the top', [1, 2], /c\.json: expected an object \{task_id: \{train, test\}\}/],
  ];
  for (const [what, data, message] of bad) {
    it(`rejects ${what}`, () => {
      expect(() => parseArcTasks(data, 'c.json')).toThrow(message);
    });
  }

  it('rejects solutions that do not match the challenges', () => {
    expect(() => parseArcTasks(good, 'c.json', { t1: [[[1]]] }, 's.json')).toThrow(/s\.json: task t1 needs 2 solution grid\(s\)/);
    expect(() => parseArcTasks(good, 'c.json', { zz: [[[1]]] }, 's.json')).toThrow(/task zz has a solution but is not in the challenges file/);
    expect(() => parseArcTasks(good, 'c.json', { t1: [[[1]], [[1, 2], [1]]] }, 's.json')).toThrow(/s\.json: task t1: solution 1: row 1/);
  });

  it('findArcTask names a missing id', () => {
    expect(() => findArcTask(parseArcTasks(good, 'c.json'), 'nope')).toThrow(/no ARC task "nope" among the 1 loaded/);
  });

  it('loadArcTasks names an unreadable file', () => {
    expect(() => loadArcTasks('/nonexistent/c.json')).toThrow(/cannot read \/nonexistent\/c\.json \(an ARC challenges file\)/);
  });
});

describe.skipIf(!HAVE_ARC)('the shared ARC-AGI-1 training set', () => {
  it('loads all 400 tasks with solutions; 6150a2bd as in the file', () => {
    const tasks = loadArcTasks(TRAINING_CHALLENGES, TRAINING_SOLUTIONS);
    expect(tasks).toHaveLength(400);
    const task = findArcTask(tasks, '6150a2bd');
    expect(task.train).toHaveLength(2);
    expect(task.train[0]).toEqual(TASK_6150A2BD.train[0]);
    expect(task.test).toEqual(TASK_6150A2BD.test);
  });
});
