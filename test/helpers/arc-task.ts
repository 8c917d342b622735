// ARC task 6150a2bd (rotate by 180°) as in ARC-AGI-1's training set, with its test output: the example the
// SEAL paper prints, shared by the ARC tests that need a small real task without ../shared.
import type { ArcTask } from '../../src/seal/arc/arc-data.ts';

export const TASK_6150A2BD: ArcTask = {
  id: '6150a2bd',
  train: [
    {
      input: [
        [3, 3, 8],
        [3, 7, 0],
        [5, 0, 0],
      ],
      output: [
        [0, 0, 5],
        [0, 7, 3],
        [8, 3, 3],
      ],
    },
    {
      input: [
        [5, 5, 2],
        [1, 0, 0],
        [0, 0, 0],
      ],
      output: [
        [0, 0, 0],
        [0, 0, 1],
        [2, 5, 5],
      ],
    },
  ],
  test: [
    {
      input: [
        [6, 3, 5],
        [6, 8, 0],
        [4, 0, 0],
      ],
      output: [
        [0, 0, 4],
        [0, 8, 6],
        [5, 3, 6],
      ],
    },
  ],
};
