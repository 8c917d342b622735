// The ARC tasks SEAL's few-shot code used (seal-tasks.ts), derived from its scripts: self-edit.py's first
// --n_tasks split tasks, eval-self-edits.py's np.random.seed(0) shuffle. Expected orders computed with
// /usr/bin/python3 3.11.2 and numpy (np.random.seed(0); np.random.shuffle(split names)), as in
// notes/seal-fidelity.md point 5.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadArcTasks } from '../../../src/seal/arc/arc-data.ts';
import { PAPER_EVAL_TASKS, PAPER_TRAIN_TASKS, SEAL_REWARDED_TRAIN_TASKS } from '../../../src/seal/arc/experiment.ts';
import { sealTaskSets, splitTaskNames } from '../../../src/seal/arc/seal-tasks.ts';
import { ARC_DIR, HAVE_ARC } from './shared-arc.ts';

// The two filtered files' tasks by id and number of test inputs (few-shot/data in SEAL, ../shared/data/arc here).
const TRAINING = [
  '44f52bb0',
  '44f52bb0',
  '4be741c5',
  '5582e5ca',
  '5614dbcf',
  '5bd6f4ac',
  '6150a2bd',
  '67e8384a',
  '6d0aefbc',
  '6e02f1e3',
  '8be77c9e',
  '8d5021e8',
  '8e1813be',
];
const EVALUATION = ['358ba94e', '59341089', '66e6c45b', '68b67ca3', '903d1b4a', 'af24b4cc', 'b1fc8b8e', 'b1fc8b8e', 'bc4146bd', 'c7d4e6ad', 'ce8d95cc'];
const tasksOf = (ids: string[]) => [...new Set(ids)].map((id) => ({ id, test: ids.filter((x) => x === id) }));

describe("SEAL's ARC task sets", () => {
  it('training (--n_tasks 12, --num_examples 11): self-edits for 11 ids, 10 rewarded; 44f52bb0 scored on both test inputs', () => {
    const sets = sealTaskSets(tasksOf(TRAINING), 12, 11);
    expect(splitTaskNames(tasksOf(TRAINING)).slice(0, 3)).toEqual(['44f52bb0-0', '44f52bb0-1', '4be741c5-0']);
    expect(sets.scoredSplits).toEqual([
      '6150a2bd-0',
      '8d5021e8-0',
      '5614dbcf-0',
      '8be77c9e-0',
      '4be741c5-0',
      '6d0aefbc-0',
      '44f52bb0-1',
      '67e8384a-0',
      '6e02f1e3-0',
      '5582e5ca-0',
      '44f52bb0-0',
    ]); // dropped: 5bd6f4ac-0, 8e1813be-0
    expect(sets.selfEdits).toEqual(PAPER_TRAIN_TASKS);
    expect(sets.rewarded).toEqual(SEAL_REWARDED_TRAIN_TASKS);
    expect(SEAL_REWARDED_TRAIN_TASKS).toEqual([
      '44f52bb0',
      '4be741c5',
      '5582e5ca',
      '5614dbcf',
      '6150a2bd',
      '67e8384a',
      '6d0aefbc',
      '6e02f1e3',
      '8be77c9e',
      '8d5021e8',
    ]);
  });

  it("evaluation (--n_tasks 10, --num_examples 9): 8 ids scored, the paper's 8; ce8d95cc has no self-edit", () => {
    const sets = sealTaskSets(tasksOf(EVALUATION), 10, 9);
    expect(sets.scoredSplits).toEqual([
      '903d1b4a-0',
      'c7d4e6ad-0',
      '66e6c45b-0',
      'ce8d95cc-0',
      'b1fc8b8e-0',
      '59341089-0',
      'b1fc8b8e-1',
      'bc4146bd-0',
      '68b67ca3-0',
    ]);
    expect(sets.scored).toEqual(PAPER_EVAL_TASKS);
    expect(sets.selfEdits).toEqual(['358ba94e', '59341089', '66e6c45b', '68b67ca3', '903d1b4a', 'af24b4cc', 'b1fc8b8e', 'bc4146bd', 'c7d4e6ad']);
    expect(sets.rewarded).toEqual(PAPER_EVAL_TASKS.filter((id) => id !== 'ce8d95cc'));
  });

  it.skipIf(!HAVE_ARC)('the shared filtered files hold exactly those split tasks', () => {
    // Sorted: JSON.parse puts an all-digit key (59341089) before the others, so loadArcTasks does not keep
    // the evaluation file's order there; SEAL's Python reads 358ba94e first.
    const names = (file: string) => splitTaskNames(loadArcTasks(resolve(ARC_DIR, file))).sort();
    expect(names('arc-agi_training_challenges_filtered_1B_training_set.json')).toEqual(splitTaskNames(tasksOf(TRAINING)));
    expect(names('arc-agi_evaluation_challenges_filtered_1B_eval_set.json')).toEqual(splitTaskNames(tasksOf(EVALUATION)));
  });
});
