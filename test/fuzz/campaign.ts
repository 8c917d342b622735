// Running a fuzz campaign: N seeded cases, each a mutated input fed to a library reader. A case passes when
// the reader either accepts an input the class's validity oracle calls valid (and gives a consistent
// result, which `run` checks), or rejects it with a named error: one of the expected error classes whose
// message names the file (or the field). It fails on a crash (TypeError, RangeError, SyntaxError… thrown
// from inside the reader), on an unnamed error, on a silent success (a corrupt input accepted), on a
// false rejection (a valid input refused) and on a case that spins longer than HANG_MS of CPU time (wall
// time says little on a shared machine; a case stuck waiting forever trips the test's own timeout).
import { expect } from 'vitest';
import { Rng } from '../../src/util/random.ts';
import type { Mutated } from './mutate.ts';

/** CPU time above which a single case counts as a hang (each takes about a millisecond). */
const HANG_MS = 2_000;

/** Built-in error classes that mean the reader itself broke, not the input. */
const CRASHES = [TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError];

/** The reader returned, but what it returned is wrong (thrown by `run`'s own checks). */
export class Inconsistent extends Error {
  override name = 'Inconsistent';
}

export interface CampaignSpec<T> {
  name: string;
  seed: number;
  cases: number;
  /** A mutated input (from the case's own generator). */
  make(rng: Rng, index: number): Mutated<T>;
  /**
   * Whether the input is valid for this class: a valid input must be accepted, an invalid one rejected;
   * null where the class leaves it open (then either outcome passes, if well-formed).
   */
  valid(input: T, index: number): boolean | null;
  /** Feeds the input to the library and checks the result's consistency (throws Inconsistent if not). */
  run(input: T, index: number): Promise<void>;
  /** The error classes this reader may reject with (plain Error counts only with the file named). */
  errors: readonly (new (
    ...args: never[]
  ) => Error)[];
  /** Text every rejection must contain (the file or folder path of the case). */
  names(index: number): string;
}

export interface CampaignStats {
  name: string;
  cases: number;
  accepted: number;
  rejected: number;
  slowestMs: number;
  /** Cases per mutation kind (the kind's first word). */
  kinds: Record<string, number>;
}

export async function runCampaign<T>(spec: CampaignSpec<T>): Promise<CampaignStats> {
  const rng = new Rng(spec.seed);
  const stats: CampaignStats = { name: spec.name, cases: 0, accepted: 0, rejected: 0, slowestMs: 0, kinds: {} };
  const failures: string[] = [];
  for (let i = 0; i < spec.cases; i++) {
    const { value, kinds } = spec.make(rng, i);
    for (const k of kinds) {
      const head = k.split(' ')[0];
      stats.kinds[head] = (stats.kinds[head] ?? 0) + 1;
    }
    const valid = spec.valid(value, i);
    const cpu0 = process.cpuUsage();
    let error: unknown = null;
    try {
      await spec.run(value, i);
    } catch (e) {
      error = e;
    }
    const cpu = process.cpuUsage(cpu0);
    const ms = (cpu.user + cpu.system) / 1000;
    stats.slowestMs = Math.max(stats.slowestMs, ms);
    stats.cases++;
    const where = `${spec.name} case ${i} (seed ${spec.seed}; ${kinds.join(', ')})`;
    const problem = judge(spec, i, valid, error, ms);
    if (problem) failures.push(`${where}: ${problem}`);
    else if (error) stats.rejected++;
    else stats.accepted++;
    if (failures.length >= 10) break;
  }
  expect(failures, `${spec.name}: ${failures.length} failing case(s)`).toEqual([]);
  console.log(
    `fuzz ${spec.name}: ${stats.cases} cases, ${stats.accepted} accepted as valid, ${stats.rejected} rejected with a named error; ` +
      `slowest ${stats.slowestMs.toFixed(1)} ms of CPU; mutations ${JSON.stringify(stats.kinds)}`,
  );
  return stats;
}

function judge<T>(spec: CampaignSpec<T>, index: number, valid: boolean | null, error: unknown, ms: number): string | null {
  if (ms > HANG_MS) return `spun ${ms.toFixed(0)} ms of CPU time (a hang?)`;
  if (error === null) return valid === false ? 'silent success: the reader accepted an invalid input' : null;
  const e = error as Error;
  const text = `${e?.name}: ${String(e?.message).slice(0, 300)}`;
  if (error instanceof Inconsistent) return `inconsistent result: ${e.message}`;
  if (!(error instanceof Error) || CRASHES.some((C) => error instanceof C)) return `crash: ${text}\n${e?.stack?.split('\n').slice(1, 4).join('\n')}`;
  if (!spec.errors.some((C) => error instanceof C)) return `unexpected error class: ${text}`;
  if (!e.message.includes(spec.names(index))) return `the error does not name ${spec.names(index)}: ${text}`;
  if (valid === true) return `false rejection of a valid input: ${text}`;
  return null;
}

// Helpers for the oracles.

export const isObject = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON.parse that says whether the text parses instead of throwing. */
export function tryParse(text: string): { ok: true; value: any } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}
