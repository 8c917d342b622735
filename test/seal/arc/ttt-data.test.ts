import { describe, expect, it } from 'vitest';
import type { ArcExample } from '../../../src/seal/arc/arc-data.ts';
import { taskKey } from '../../../src/seal/arc/few-shot-task.ts';
import { type Grid, gridKey } from '../../../src/seal/arc/grid.ts';
import { ALL_TOOLS, NO_TOOLS } from '../../../src/seal/arc/tools.ts';
import { buildTttSet } from '../../../src/seal/arc/ttt-data.ts';
import { Rng } from '../../../src/util/random.ts';

const FEW_TOKENS = () => 100;

function randomGrid(rng: Rng, rows: number, cols: number): Grid {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.int(10)));
}

function randomDemos(count: number, rows: number, cols: number, seed = 7): ArcExample[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => ({ input: randomGrid(rng, rows, cols), output: randomGrid(rng, rows, cols) }));
}

describe('buildTttSet: SEAL get_test_time_train_data + process_task', () => {
  it('without tools: leave-1 and leave-2 tasks plus demonstration-shuffled copies, colours untouched', () => {
    const demos = randomDemos(3, 3, 3);
    const set = buildTttSet(demos, NO_TOOLS, { countTokens: FEW_TOKENS });
    expect(set.tools).toEqual([]);
    const [one, two] = set.stats;
    expect(one).toMatchObject({ leaveOut: 1, tasks: 3, augmented: 0, oversizeDropped: 0, distinct: 3, tooLongDropped: 0 });
    // Two demonstrations in a random order: each copy is either new or the original again.
    expect(one.withPermutedCopies).toBeGreaterThanOrEqual(3);
    expect(one.withPermutedCopies).toBeLessThanOrEqual(6);
    // One demonstration: shuffling changes nothing, so the copies are all duplicates.
    expect(two).toMatchObject({ leaveOut: 2, tasks: 6, distinct: 6, withPermutedCopies: 6 });
    expect(set.examples).toHaveLength(one.withPermutedCopies + 6);

    const original = new Set(demos.flatMap((d) => [gridKey(d.input), gridKey(d.output)]));
    for (const example of set.examples) {
      for (const e of [...example.task.demonstrations, example.task.test]) {
        expect(original.has(gridKey(e.input))).toBe(true);
        expect(original.has(gridKey(e.output))).toBe(true);
      }
    }
  });

  it('every sequence is the few-shot chat with the test output as the answer', () => {
    const set = buildTttSet(randomDemos(3, 2, 2), NO_TOOLS, { countTokens: FEW_TOKENS });
    for (const example of set.examples) {
      expect(example.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant']);
      expect(example.messages[2].content.endsWith('#')).toBe(true);
      expect(example.messages[1].content.endsWith(' -> ')).toBe(true);
      expect(example.tokens).toBe(100);
    }
  });

  it('drops tasks with a grid over 30×30: 16×16 grids keep only the 7 same-size basic tools', () => {
    const set = buildTttSet(randomDemos(3, 16, 16), ALL_TOOLS, { countTokens: FEW_TOKENS, leaveOut: [1] });
    // Per task: rotations ×3, flips ×2, translation, transpose fit; reflections ×4, size ×3, chain ×6, repeat ×3 are 32 cells a side.
    expect(set.stats[0]).toMatchObject({ tasks: 3, augmented: 21, oversizeDropped: 48 });
  });

  it('keeps exactly 30: doubling 15×15 grids gives 30×30, so all 23 tools fit', () => {
    const set = buildTttSet(randomDemos(3, 15, 15), ALL_TOOLS, { countTokens: FEW_TOKENS, leaveOut: [1] });
    expect(set.stats[0]).toMatchObject({ tasks: 3, augmented: 69, oversizeDropped: 0 });
  });

  it('checks height and width separately: 10×16 grids keep the tools that only double the height', () => {
    const set = buildTttSet(randomDemos(3, 10, 16), ALL_TOOLS, { countTokens: FEW_TOKENS, leaveOut: [1] });
    // 7 basic + Reflect(0, ·) ×2 + IncreaseHeight(2) + Repeat(0, 2) = 11 of 23 per task.
    expect(set.stats[0]).toMatchObject({ tasks: 3, augmented: 33, oversizeDropped: 36 });
  });

  it('cuts to 250 distinct sequences, seeded', () => {
    const demos = randomDemos(6, 3, 3);
    const set = buildTttSet(demos, ALL_TOOLS, { countTokens: FEW_TOKENS });
    const total = set.stats.reduce((sum, s) => sum + s.withPermutedCopies, 0);
    expect(total).toBeGreaterThan(250);
    expect(set.examples).toHaveLength(250);
    expect(set.capped).toBe(total - 250);
    expect(new Set(set.examples.map((e) => taskKey(e.task))).size).toBe(250);
    const again = buildTttSet(demos, ALL_TOOLS, { countTokens: FEW_TOKENS });
    expect(again.examples.map((e) => taskKey(e.task))).toEqual(set.examples.map((e) => taskKey(e.task)));
    const otherSeed = buildTttSet(demos, ALL_TOOLS, { countTokens: FEW_TOKENS, seed: 1 });
    expect(otherSeed.examples.map((e) => taskKey(e.task))).not.toEqual(set.examples.map((e) => taskKey(e.task)));
  });

  it('drops sequences of 8,192 tokens or more', () => {
    const demos = randomDemos(3, 3, 3);
    expect(buildTttSet(demos, NO_TOOLS, { countTokens: () => 8191 }).examples.length).toBeGreaterThan(0);
    const tooLong = buildTttSet(demos, NO_TOOLS, { countTokens: () => 8192 });
    expect(tooLong.examples).toEqual([]);
    expect(tooLong.stats.map((s) => s.tooLongDropped)).toEqual(tooLong.stats.map((s) => s.withPermutedCopies));
    // A counter that sees the messages: sequences with two demonstrations are "too long".
    const demonstrationsIn = (system: string) => system.split('#\n').length - 1;
    const set = buildTttSet(demos, NO_TOOLS, { countTokens: (_, messages) => (demonstrationsIn(messages[0].content) >= 2 ? 9000 : 10) });
    expect(set.examples.map((e) => e.leaveOut)).toEqual(Array(6).fill(2));
  });

  it('with tools, the colour-permuted copies keep 0 where it was and use other colours', () => {
    // Inputs and outputs use colours 0 and 1 only.
    const demos = [
      {
        input: [
          [0, 1],
          [1, 1],
        ],
        output: [
          [1, 0],
          [0, 0],
        ],
      },
      {
        input: [
          [1, 0],
          [0, 0],
        ],
        output: [
          [0, 1],
          [1, 1],
        ],
      },
      {
        input: [
          [1, 1],
          [0, 1],
        ],
        output: [
          [0, 0],
          [1, 0],
        ],
      },
    ];
    const set = buildTttSet(demos, { ...NO_TOOLS, size: true }, { countTokens: FEW_TOKENS, leaveOut: [1] });
    const recoloured = set.examples.filter((e) => e.task.test.input.some((row) => row.some((c) => c > 1)));
    expect(recoloured.length).toBeGreaterThan(0);
    for (const example of recoloured) {
      const colours = new Set(example.task.demonstrations.concat([example.task.test]).flatMap((e) => [...e.input.flat(), ...e.output.flat()]));
      expect(colours.has(1)).toBe(false);
      expect(colours.has(0)).toBe(true);
      expect(colours.size).toBe(2);
    }
  });
});
