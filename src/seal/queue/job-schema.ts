// What a worker checks of a job before it runs anything: whoever can write to the Redis can enqueue, so a
// job's data is untrusted input. `checkJob` takes the data as BullMQ parsed it and returns it typed, or
// throws a named error that BullMQ does not retry (an UnrecoverableError): the job's version, its size, and
// every field against the job's schema (the domain's settings within the ranges a real run uses, each
// unit's context in its domain's shape). `PathPolicy` then says which folders a job may make the worker
// open (the policy model, a judge model).
import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { UnrecoverableError } from 'bullmq';
import { PROJECTIONS } from '../../model/llama.ts';
import { SCHEDULES } from '../../train/schedule.ts';
import { checkGrid } from '../arc/arc-data.ts';
import { type InnerLoopJobData, JOB_VERSION } from './job.ts';

/** Limits on a job; the defaults are far above what ARC and SQuAD chunks carry (kilobytes a unit). */
export interface JobLimits {
  /** The job's data as JSON (default 16 MiB). */
  maxBytes: number;
  /** Units in one job (default 1024). */
  maxUnits: number;
}

export const DEFAULT_JOB_LIMITS: JobLimits = { maxBytes: 16 * 1024 * 1024, maxUnits: 1024 };

/** A job this worker will not run: the message names the field and what is wrong with it. */
export class InvalidJobError extends UnrecoverableError {
  constructor(message: string) {
    super(`InvalidJobError: ${message}`);
    this.name = 'InvalidJobError';
  }
}

/** A job of another version of seal. */
export class JobVersionError extends UnrecoverableError {
  constructor(message: string) {
    super(`JobVersionError: ${message}`);
    this.name = 'JobVersionError';
  }
}

/** A job that names a folder outside those this worker may open. */
export class PathNotAllowedError extends UnrecoverableError {
  constructor(message: string) {
    super(`PathNotAllowedError: ${message}`);
    this.name = 'PathNotAllowedError';
  }
}

type Obj = Record<string, unknown>;

const MAX_PATH = 4096;
const MAX_TEXT = 1024 * 1024;

function fail(id: string, where: string, what: string, value?: unknown): never {
  const shown = value === undefined ? '' : `, got ${snippet(value)}`;
  throw new InvalidJobError(`job ${id}: ${where} ${what}${shown}`);
}

function snippet(value: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(value) ?? String(value);
  } catch {
    s = String(value);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function object(id: string, where: string, value: unknown, keys: string[], optional: string[] = []): Obj {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(id, where, 'must be an object', value);
  const o = value as Obj;
  for (const k of Object.keys(o)) if (!keys.includes(k) && !optional.includes(k)) fail(id, `${where}.${k}`, 'is not a field of this job version');
  for (const k of keys) if (!(k in o)) fail(id, `${where}.${k}`, 'is missing');
  return o;
}

function string(id: string, where: string, value: unknown, max = MAX_TEXT): string {
  if (typeof value !== 'string') fail(id, where, 'must be a string', value);
  if (value.length > max) fail(id, where, `is ${value.length} characters long; the most is ${max}`);
  if (value.includes('\0')) fail(id, where, 'holds a NUL character');
  return value;
}

function number(id: string, where: string, value: unknown, min: number, max: number, integer = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(id, where, 'must be a finite number', value);
  if (integer && !Number.isInteger(value)) fail(id, where, 'must be an integer', value);
  if (value < min || value > max) fail(id, where, `must be within [${min}, ${max}]`, value);
  return value;
}

function array(id: string, where: string, value: unknown, min: number, max: number): unknown[] {
  if (!Array.isArray(value)) fail(id, where, 'must be an array', value);
  if (value.length < min || value.length > max) fail(id, where, `must have ${min} to ${max} entries, has ${value.length}`);
  return value;
}

function absolutePath(id: string, where: string, value: unknown): string {
  const p = string(id, where, value, MAX_PATH);
  if (!isAbsolute(p)) fail(id, where, 'must be an absolute path', p);
  return p;
}

function innerLoop(id: string, where: string, value: unknown): void {
  const o = object(
    id,
    where,
    value,
    ['lora', 'lr', 'epochs', 'batchSize', 'gradAccum', 'schedule', 'warmupSteps', 'maxGradNorm', 'answerTokens'],
    ['tokensPerBatch'],
  );
  const lora = object(id, `${where}.lora`, o.lora, ['r', 'alpha', 'dropout', 'targets'], ['slots']);
  number(id, `${where}.lora.r`, lora.r, 1, 4096, true);
  number(id, `${where}.lora.alpha`, lora.alpha, Number.MIN_VALUE, 1e6);
  number(id, `${where}.lora.dropout`, lora.dropout, 0, 1);
  if (lora.slots !== undefined) number(id, `${where}.lora.slots`, lora.slots, 1, 4096, true);
  const targets = array(id, `${where}.lora.targets`, lora.targets, 1, PROJECTIONS.length);
  for (const [i, t] of targets.entries())
    if (!(PROJECTIONS as readonly unknown[]).includes(t)) fail(id, `${where}.lora.targets[${i}]`, `must be one of ${PROJECTIONS.join(', ')}`, t);
  number(id, `${where}.lr`, o.lr, Number.MIN_VALUE, 1e308);
  number(id, `${where}.epochs`, o.epochs, Number.MIN_VALUE, 1e4);
  number(id, `${where}.batchSize`, o.batchSize, 1, 1 << 16, true);
  if (o.tokensPerBatch !== undefined) number(id, `${where}.tokensPerBatch`, o.tokensPerBatch, 1, 1 << 24, true);
  number(id, `${where}.gradAccum`, o.gradAccum, 1, 1 << 16, true);
  if (!(SCHEDULES as readonly unknown[]).includes(o.schedule)) fail(id, `${where}.schedule`, `must be one of ${SCHEDULES.join(', ')}`, o.schedule);
  number(id, `${where}.warmupSteps`, o.warmupSteps, 0, 1e9, true);
  number(id, `${where}.maxGradNorm`, o.maxGradNorm, 0, 1e308);
  number(id, `${where}.answerTokens`, o.answerTokens, 1, 1 << 16, true);
}

function knowledgeContext(id: string, where: string, value: unknown): void {
  const p = object(id, where, value, ['title', 'context', 'texts', 'questions']);
  string(id, `${where}.title`, p.title);
  string(id, `${where}.context`, p.context);
  for (const [i, t] of array(id, `${where}.texts`, p.texts, 0, 4096).entries()) string(id, `${where}.texts[${i}]`, t);
  for (const [i, q] of array(id, `${where}.questions`, p.questions, 0, 4096).entries()) {
    const o = object(id, `${where}.questions[${i}]`, q, ['question', 'answer', 'prompt', 'graded']);
    for (const k of ['question', 'answer', 'prompt', 'graded']) string(id, `${where}.questions[${i}].${k}`, o[k]);
  }
}

function grid(id: string, where: string, value: unknown): void {
  try {
    checkGrid(value, where);
  } catch (e) {
    throw new InvalidJobError(`job ${id}: ${(e as Error).message}`);
  }
}

function arcContext(id: string, where: string, value: unknown): void {
  const t = object(id, where, value, ['id', 'train', 'test']);
  string(id, `${where}.id`, t.id, 256);
  for (const [i, e] of array(id, `${where}.train`, t.train, 0, 256).entries()) {
    const o = object(id, `${where}.train[${i}]`, e, ['input', 'output']);
    grid(id, `${where}.train[${i}].input`, o.input);
    grid(id, `${where}.train[${i}].output`, o.output);
  }
  for (const [i, e] of array(id, `${where}.test`, t.test, 1, 256).entries()) {
    const o = object(id, `${where}.test[${i}]`, e, ['input'], ['output']);
    grid(id, `${where}.test[${i}].input`, o.input);
    if (o.output !== undefined) grid(id, `${where}.test[${i}].output`, o.output);
  }
}

/**
 * The job's data, checked: its version first (a job of another seal is named as such), then its size,
 * then every field. Throws InvalidJobError or JobVersionError (both UnrecoverableError: BullMQ fails the
 * job at once and the worker takes the next).
 */
export function checkJob(id: string, data: unknown, limits: JobLimits = DEFAULT_JOB_LIMITS): InnerLoopJobData {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) fail(id, 'the data', 'must be an object', data);
  const version = (data as Obj).version;
  if (version !== JOB_VERSION)
    throw new JobVersionError(`job ${id} has version ${snippet(version)}, this worker runs version ${JOB_VERSION}: run the same seal on every machine`);
  let bytes: number;
  try {
    bytes = Buffer.byteLength(JSON.stringify(data));
  } catch {
    fail(id, 'the data', 'is not JSON');
  }
  if (bytes > limits.maxBytes) fail(id, 'the data', `is ${bytes} bytes as JSON; this worker takes at most ${limits.maxBytes} (--max-job-bytes)`);
  const o = object(id, 'the data', data, ['version', 'origin', 'model', 'domain', 'wide', 'units']);
  absolutePath(id, 'origin', o.origin);
  const model = object(id, 'model', o.model, ['dir', 'hash']);
  absolutePath(id, 'model.dir', model.dir);
  if (typeof model.hash !== 'string' || !/^[0-9a-f]{64}$/.test(model.hash)) fail(id, 'model.hash', 'must be a SHA-256 in hex', model.hash);
  const domain = object(id, 'domain', o.domain, ['kind'], ['inner', 'grader', 'answerTokens', 'answerBatch']);
  let context: (where: string, value: unknown) => void;
  if (domain.kind === 'knowledge') {
    object(id, 'domain', domain, ['kind', 'inner', 'grader']);
    innerLoop(id, 'domain.inner', domain.inner);
    const grader = string(id, 'domain.grader', domain.grader, MAX_PATH + 6);
    if (grader !== 'containment' && grader !== 'exact-value' && !(grader.startsWith('judge:') && isAbsolute(grader.slice(6))))
      fail(id, 'domain.grader', 'must be "containment", "exact-value" or "judge:<absolute folder>"', grader);
    context = (where, value) => knowledgeContext(id, where, value);
  } else if (domain.kind === 'arc') {
    object(id, 'domain', domain, ['kind', 'answerTokens', 'answerBatch']);
    number(id, 'domain.answerTokens', domain.answerTokens, 1, 1 << 16, true);
    number(id, 'domain.answerBatch', domain.answerBatch, 1, 4096, true);
    context = (where, value) => arcContext(id, where, value);
  } else {
    fail(id, 'domain.kind', 'must be "knowledge" or "arc"', domain.kind);
  }
  if (typeof o.wide !== 'boolean') fail(id, 'wide', 'must be true or false', o.wide);
  const units = array(id, 'units', o.units, 1, limits.maxUnits);
  if (!o.wide && units.length !== 1) fail(id, 'units', `must hold one unit when wide is false, holds ${units.length}`);
  for (const [i, u] of units.entries()) {
    const unit = object(id, `units[${i}]`, u, ['key', 'seed', 'selfEdit', 'context']);
    const key = string(id, `units[${i}].key`, unit.key, 512);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
    if (!/^[^\x00-\x1f\x7f]+$/.test(key)) fail(id, `units[${i}].key`, 'must be a run-log key (no control characters)', key);
    number(id, `units[${i}].seed`, unit.seed, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, true);
    string(id, `units[${i}].selfEdit`, unit.selfEdit);
    context(`units[${i}].context`, unit.context);
  }
  return data as InnerLoopJobData;
}

/**
 * The folders a worker may open for its jobs, as this machine sees them. With `--allow-path`, only under
 * those; without, a job may open its own run directory (the policies of later rounds) and the model it
 * names — and nothing else (a judge model needs --allow-path). Every path is resolved through its
 * symbolic links first, so a link inside an allowed folder cannot lead out of it.
 */
export class PathPolicy {
  private readonly roots: string[] | null;

  constructor(allowed: string[] = []) {
    this.roots = allowed.length ? allowed.map((p) => real(resolve(p))) : null;
  }

  get explicit(): boolean {
    return this.roots !== null;
  }

  /** Throws PathNotAllowedError unless `path` (this machine's) is under an allowed folder; `defaults` are the job's own. */
  check(jobId: string, what: string, path: string, defaults: string[]): void {
    const roots = this.roots ?? defaults.map((p) => real(resolve(p)));
    const target = real(resolve(path));
    if (roots.some((root) => within(root, target))) return;
    throw new PathNotAllowedError(
      `job ${jobId} names ${what} ${path}, outside the folders this worker may open (${roots.join(', ')}): ` +
        (this.roots
          ? 'add its folder with --allow-path if the job is yours'
          : 'pass --allow-path with the folders your runs use (a judge model, shared model folders)'),
    );
  }
}

function within(root: string, target: string): boolean {
  const r = relative(root, target);
  return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r));
}

/** The path with its symbolic links resolved; for a path that does not exist, its deepest existing parent's, plus the rest. */
function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    const parent = resolve(path, '..');
    if (parent === path) return path;
    return resolve(real(parent), path.slice(parent.length + (parent.endsWith(sep) ? 0 : 1)));
  }
}
