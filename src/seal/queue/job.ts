// An inner-loop job: one chunk of a round's E-step, exactly as the in-process loop would run it (the same
// units, side by side or alone), carrying everything that determines its results — the round's policy
// folder and its content hash, the domain's settings, each unit's data, self-edit and seed. Its id is a
// hash of all that, so a chunk enqueued twice (a coordinator restarted) is one job, and a worker or the
// coordinator can check that a job and its result belong together.
import { createHash } from 'node:crypto';
import type { JsonValue } from '../run-dir.ts';
import type { InnerLoopConfig } from '../knowledge/domain.ts';

/** The BullMQ queue every coordinator enqueues to and every worker serves. */
export const QUEUE_NAME = 'seal-inner-loops';
export const JOB_VERSION = 1;

/** How a worker rebuilds the domain (its own data travels with each unit). */
export type DomainSpec =
  /** `grader`: "containment", "exact-value", or "judge:<model folder>". */
  { kind: 'knowledge'; inner: InnerLoopConfig; grader: string } | { kind: 'arc'; answerTokens: number; answerBatch: number };

export interface JobUnit {
  /** The unit's run-log key (r<round>/<context>/e<j>/s<s>). */
  key: string;
  seed: number;
  selfEdit: string;
  /** What the domain needs of the context, as JSON (see domains.ts). */
  context: JsonValue;
}

export interface InnerLoopJobData {
  version: number;
  /** The coordinator's run directory: jobs of different runs never merge. */
  origin: string;
  /** The round's policy: its folder as the coordinator sees it, and the content hash a worker must find there. */
  model: { dir: string; hash: string };
  domain: DomainSpec;
  /** Side by side (the domain's evaluateMany) or the one unit alone, as the in-process loop runs this chunk. */
  wide: boolean;
  units: JobUnit[];
}

export interface InnerLoopJobResult {
  /** The id of the job the worker ran (recomputed from its data). */
  id: string;
  /** The content hash of the policy folder the worker loaded. */
  model: string;
  worker: string;
  /** Wall time of the chunk's evaluation on the worker. */
  seconds: number;
  results: { key: string; score: number; details: JsonValue }[];
}

/** The job's id: a hash of its data (BullMQ ids must not contain ':' nor be all digits). */
export function jobId(data: InnerLoopJobData): string {
  return `il-${createHash('sha256')
    .update(canonicalJson(data as unknown as JsonValue))
    .digest('hex')
    .slice(0, 40)}`;
}

/** JSON with object keys sorted, so equal data hashes equally whatever order it was built in. */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  return `{${Object.keys(value)
    .filter((k) => value[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
    .join(',')}}`;
}

/**
 * Checks a worker's result against the job the coordinator enqueued: the same job, the same policy, one
 * finite score for each unit in order. Returns what is wrong, or null.
 */
export function resultProblem(data: { model: { hash: string }; units: readonly { key: string }[] }, id: string, result: unknown): string | null {
  const r = result as Partial<InnerLoopJobResult> | null;
  if (!r || typeof r !== 'object' || !Array.isArray(r.results)) return 'the result is not an inner-loop job result';
  if (r.id !== id) return `the result is for job ${r.id}`;
  if (r.model !== data.model.hash) return `the worker's policy has content hash ${r.model}, not ${data.model.hash}`;
  if (r.results.length !== data.units.length) return `${r.results.length} results for ${data.units.length} units`;
  for (let i = 0; i < data.units.length; i++) {
    const u = r.results[i];
    if (u?.key !== data.units[i].key) return `result ${i} is for unit ${u?.key}, not ${data.units[i].key}`;
    if (typeof u.score !== 'number' || !Number.isFinite(u.score)) return `unit ${u.key} has score ${u.score}`;
  }
  return null;
}
