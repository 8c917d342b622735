// The claim the demo tests, as the paper's Table 2 orders its rows, checked pair by pair within each seed:
//   base < passage < round-0 (own implications) < final round,  and  final round > equal-token control.
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

export function gapTable(gaps: Gap[]): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}`;
  return [
    '| gap (paired within seed) | per seed (points) | mean ± std | holds (mean > 2·std) |',
    '| --- | --- | ---: | :---: |',
    ...gaps.map((g) => `| ${g.higher} − ${g.lower} | ${g.perSeed.map(pct).join(', ')} | ${pct(g.mean)} ± ${pct(g.std)} | ${g.holds ? 'yes' : '**no**'} |`),
    '',
  ].join('\n');
}
