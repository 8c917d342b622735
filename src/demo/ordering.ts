// The claim the demo tests, as the paper's Table 2 orders its rows, checked pair by pair within each seed:
//   base < passage < round-0 (own implications) < final round,  and  final round > equal-token control.
// The ARC demo's, as the paper's Table 1 orders its rows (arcOrderingPairs):
//   icl < round-0 < final round ≤ best (the per-task best configuration).
// A gap holds when its mean over seeds exceeds twice the sample standard deviation of its per-seed values.
import { meanStd } from '../seal/knowledge/scoring.ts';

export interface Gap {
  higher: string;
  lower: string;
  /** higher − lower, seed by seed. */
  perSeed: number[];
  mean: number;
  std: number;
  holds: boolean;
  /** The gap's spread one adapter at a time, and what it implies for the evaluation's size (gapPower). */
  power?: GapPower;
}

export interface GapPower {
  /** Std of higher − lower over every (seed, adapter) pair: one adapter's noise. */
  adapterStd: number;
  adaptersPerSeed: number;
  /** Adapters a seed for the seed mean's std, adapterStd/√n, to fall under mean/2: (2·adapterStd/mean)². */
  adaptersNeeded: number;
}

/** The pairs (higher, lower) of the ordering for a run of `rounds` ReST-EM rounds and its control. */
export function orderingPairs(rounds: number, control: string): [string, string][] {
  const final = `round-${rounds}`;
  return [
    ['passage', 'base'],
    ['round-0', 'passage'],
    [final, 'round-0'],
    [final, control],
  ];
}

/** The ARC demo's pairs (higher, lower): icl < round-0 < final round ≤ best. */
export function arcOrderingPairs(rounds: number): [string, string][] {
  const final = `round-${rounds}`;
  return [
    ['round-0', 'icl'],
    [final, 'round-0'],
    ['best', final],
  ];
}

export function pairedGaps(perSeed: Record<string, number[]>, pairs: [string, string][]): Gap[] {
  return pairs.map(([higher, lower]) => {
    const a = perSeed[higher];
    const b = perSeed[lower];
    if (!a || !b || a.length !== b.length) throw new Error(`ordering: no paired seeds for ${higher} and ${lower}`);
    const diffs = a.map((v, s) => v - b[s]);
    const { mean, std } = meanStd(diffs);
    return { higher, lower, perSeed: diffs, mean, std, holds: diffs.length >= 2 && mean > 2 * std };
  });
}

/**
 * How many adapters a seed each gap would need to hold, from its spread adapter by adapter: `accuracy` maps
 * a condition to its accuracy per (seed, adapter) key. A seed's mean over n adapters has std adapterStd/√n
 * (adapters are trained independently), so the gap clears twice that once n > (2·adapterStd/mean)².
 */
export function gapPower(gaps: Gap[], accuracy: Record<string, Map<string, number>>): Gap[] {
  return gaps.map((g) => {
    const a = accuracy[g.higher];
    const b = accuracy[g.lower];
    const keys = [...(a?.keys() ?? [])].filter((k) => b?.has(k));
    if (keys.length < 2) return g;
    const adapterStd = meanStd(keys.map((k) => a.get(k)! - b.get(k)!)).std;
    const adaptersNeeded = g.mean > 0 ? Math.ceil(((2 * adapterStd) / g.mean) ** 2) : Number.POSITIVE_INFINITY;
    return { ...g, power: { adapterStd, adaptersPerSeed: keys.length / g.perSeed.length, adaptersNeeded } };
  });
}

/** The gaps as markdown; `unit` names what a seed averages over (the knowledge demo's adapters, ARC's tasks). */
export function gapTable(gaps: Gap[], unit = 'adapter'): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}`;
  const power = gaps.some((g) => g.power);
  const needed = (g: Gap) =>
    g.power ? ` ${pct(g.power.adapterStd)} | ${g.power.adaptersPerSeed} / ${Number.isFinite(g.power.adaptersNeeded) ? g.power.adaptersNeeded : '—'} |` : ' | |';
  return [
    `| gap (paired within seed) | per seed (points) | mean ± std | holds (mean > 2·std) |${power ? ` std per ${unit} | ${unit}s a seed: run / to hold |` : ''}`,
    `| --- | --- | ---: | :---: |${power ? ' ---: | ---: |' : ''}`,
    ...gaps.map(
      (g) =>
        `| ${g.higher} − ${g.lower} | ${g.perSeed.map(pct).join(', ')} | ${pct(g.mean)} ± ${pct(g.std)} | ${g.holds ? 'yes' : '**no**'} |${power ? needed(g) : ''}`,
    ),
    '',
  ].join('\n');
}
