// MT19937, numpy's legacy RandomState and CPython's random against known outputs. The first two lines of
// expected values are Matsumoto & Nishimura's published ones (init_genrand(5489), and mt19937ar.out for
// init_by_array({0x123, 0x234, 0x345, 0x456})); every other expected value was produced once with
// python3 3.11 and numpy 2.4.6 on this machine, by the calls named beside it, and pasted here.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MT19937, PyRandom, RandomState } from '../../src/util/mt19937.ts';

const draws = (g: MT19937, n: number) => Array.from({ length: n }, () => g.nextU32());

describe('MT19937', () => {
  it('gives the published outputs for both seedings', () => {
    expect(draws(MT19937.fromSeed(5489), 5)).toEqual([3499211612, 581869302, 3890346734, 3586334585, 545404204]);
    expect(draws(MT19937.fromArray([0x123, 0x234, 0x345, 0x456]), 5)).toEqual([1067595299, 955945823, 477289528, 4107218783, 4228976476]);
  });

  it('continues correctly across a state regeneration (624 outputs) and clones independently', () => {
    const g = MT19937.fromSeed(1);
    draws(g, 620);
    const copy = g.clone();
    expect(draws(g, 10)).toEqual(draws(copy, 10));
  });
});

describe("numpy's legacy RandomState", () => {
  it('seeds an int through init_genrand and a list through init_by_array', () => {
    // np.random.RandomState(5489).randint(0, 2**32, size=5, dtype=np.uint32) and RandomState([0x123, …])
    const raw = (rs: RandomState) => Array.from({ length: 5 }, () => rs.randint(0, 2 ** 32));
    expect(raw(RandomState.create(5489))).toEqual([3499211612, 581869302, 3890346734, 3586334585, 545404204]);
    expect(raw(RandomState.create([0x123, 0x234, 0x345, 0x456]))).toEqual([1067595299, 955945823, 477289528, 4107218783, 4228976476]);
  });

  it("draws randint's bounded integers as numpy does (randint(0, 1) draws nothing)", () => {
    // rs = np.random.RandomState(0); [int(rs.randint(0, n)) for n in [4, 4, 4, 4, 1, 3, 2, 5, 17, 1000, 4, 4]]
    const rs = RandomState.create(0);
    expect([4, 4, 4, 4, 1, 3, 2, 5, 17, 1000, 4, 4].map((n) => rs.randint(0, n))).toEqual([0, 3, 1, 0, 0, 1, 1, 2, 4, 599, 2, 0]);
    // np.random.RandomState(2**32 - 1): randint(0, n) for n in [4, 3, 2, 7]
    const top = RandomState.create(2 ** 32 - 1);
    expect([4, 3, 2, 7].map((n) => top.randint(0, n))).toEqual([3, 2, 0, 4]);
    expect(() => RandomState.create(2 ** 32)).toThrow(/seed/);
  });

  it('shuffles as numpy does', () => {
    // x = list(range(10)); np.random.RandomState(0).shuffle(x); and the same for 25 items with seed 1234
    expect(RandomState.create(0).shuffle([...Array(10).keys()])).toEqual([2, 8, 4, 9, 1, 6, 7, 3, 0, 5]);
    expect(RandomState.create(1234).shuffle([...Array(25).keys()])).toEqual([
      7, 16, 2, 3, 1, 18, 5, 4, 0, 8, 13, 22, 10, 23, 20, 14, 11, 9, 17, 24, 12, 21, 6, 19, 15,
    ]);
  });
});

describe("CPython's random", () => {
  it("seeds through init_by_array on the integer's 32-bit words", () => {
    // random.seed(0) / random.seed(2**40 + 5); [random.getrandbits(32) for _ in range(3)]
    const bits = (r: PyRandom) => Array.from({ length: 3 }, () => r.getrandbits(32));
    expect(bits(PyRandom.seed(0))).toEqual([3626764237, 1654615998, 3255389356]);
    expect(bits(PyRandom.seed(2 ** 40 + 5))).toEqual([2166296868, 2220160828, 1153647273]);
  });

  it('shuffles and samples as random.shuffle / random.sample do', () => {
    // random.seed(42); x = list(range(10)); random.shuffle(x)
    expect(PyRandom.seed(42).shuffle([...Array(10).keys()])).toEqual([7, 3, 2, 8, 5, 6, 9, 4, 0, 1]);
    // random.seed(43); x = list(range(974)); random.shuffle(x); x[:12]
    expect(
      PyRandom.seed(43)
        .shuffle([...Array(974).keys()])
        .slice(0, 12),
    ).toEqual([689, 286, 904, 643, 244, 893, 54, 177, 645, 299, 491, 911]);
    // random.seed(42); random.sample(range(2067), 8), twice (the set-of-indices branch)
    const r = PyRandom.seed(42);
    const population = [...Array(2067).keys()];
    expect(r.sample(population, 8)).toEqual([456, 102, 1126, 1003, 914, 571, 419, 356]);
    expect(r.sample(population, 8)).toEqual([1728, 130, 122, 383, 895, 952, 108, 814]);
    // random.seed(42); random.sample(range(20), 5) (the pool branch)
    expect(PyRandom.seed(42).sample([...Array(20).keys()], 5)).toEqual([3, 0, 8, 7, 16]);
  });

  const SQUAD = join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'squad');
  it.skipIf(!existsSync(join(SQUAD, 'naive_val.json')))(
    "reproduces SEAL's evaluation order: squad_val.json shuffled with random.seed(42) starts with naive_val.json",
    () => {
      const all = JSON.parse(readFileSync(join(SQUAD, 'squad_val.json'), 'utf8')) as { context: string }[];
      const naive = JSON.parse(readFileSync(join(SQUAD, 'naive_val.json'), 'utf8')) as { context: string }[];
      const shuffled = PyRandom.seed(42).shuffle([...all]);
      expect(shuffled.slice(0, naive.length).map((p) => p.context)).toEqual(naive.map((p) => p.context));
    },
  );
});
