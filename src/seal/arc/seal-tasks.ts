// Which ARC tasks SEAL's few-shot code (few-shot/ at commit 4cb1e7d) actually used, derived from its
// scripts rather than from the paper's counts (notes/seal-fidelity.md, point 5):
//
//   few-shot/self-edit.py read_tasks_from_single_file (l. 98–120) splits a task with several test inputs
//   into `<id>-0`, `<id>-1`, … in file order; its main() (l. 442–451) takes the first --n_tasks split
//   tasks, strips `-0` and skips the others: those ids get self-edits and LoRAs.
//   few-shot/eval-self-edits.py (l. 135, 146–150) reads the split tasks, then np.random.seed(0);
//   np.random.shuffle(tasks); tasks[:--num_examples]: only those split tasks are scored, and an id is
//   correct when all of its scored split tasks are (arclib/eval.py evaluate l. 95–131).
//
// With the README's settings (training: --n_tasks 12, --num_examples 11; evaluation: --n_tasks 10,
// --num_examples 9) that gives the 10 training ids SEAL could reward (5bd6f4ac got self-edits but was
// never scored; 8e1813be neither) and the 8 evaluation ids it scored (ce8d95cc without a LoRA).
import { RandomState } from '../../util/mt19937.ts';

/** SEAL's split task names: `<id>-<k>` for each test input k, in file order. */
export function splitTaskNames(tasks: readonly { id: string; test: readonly unknown[] }[]): string[] {
  return tasks.flatMap((t) => t.test.map((_, k) => `${t.id}-${k}`));
}

export interface SealTaskSets {
  /** Ids self-edit.py wrote self-edits (and LoRAs) for. */
  selfEdits: string[];
  /** The split tasks eval-self-edits.py scored, in its shuffled order. */
  scoredSplits: string[];
  /** Ids with a scored split task, in file order. */
  scored: string[];
  /** Ids scored and with self-edits: those that could earn a reward (training) or score (evaluation). */
  rewarded: string[];
}

/**
 * SEAL's sets for a file's tasks, in the order Python reads the file (json.load keeps it; note that
 * loadArcTasks, through JSON.parse, puts all-digit ids such as 59341089 first).
 */
export function sealTaskSets(tasks: readonly { id: string; test: readonly unknown[] }[], nTasks: number, numExamples: number, seed = 0): SealTaskSets {
  const split = splitTaskNames(tasks);
  const selfEdits = split
    .slice(0, nTasks)
    .filter((name) => name.endsWith('-0'))
    .map((name) => name.slice(0, -2));
  const scoredSplits = RandomState.create(seed)
    .shuffle([...split])
    .slice(0, numExamples);
  const idOf = (name: string) => name.slice(0, name.lastIndexOf('-'));
  const scoredIds = new Set(scoredSplits.map(idOf));
  const scored = tasks.map((t) => t.id).filter((id) => scoredIds.has(id));
  return { selfEdits, scoredSplits, scored, rewarded: scored.filter((id) => selfEdits.includes(id)) };
}
