// A run directory: everything one SEAL run writes, laid out so that a killed run can be resumed and a
// finished one is not repeated.
//
//   config.json    the run's full configuration; re-running with another config is refused (naming the
//                  keys that differ) unless forced, so a resumed run never mixes settings silently
//   log.jsonl      append-only event log, one JSON record per line, each {kind, key, at, ...}: `key`
//                  names a unit of work (a self-edit, its evaluation under a seed, a round boundary) and
//                  is unique, so resume skips every key already logged; each append is fsynced, so a kill
//                  loses at most the unit in flight, and a line torn by the kill is cut off on reopen
//   adapters/      LoRA adapters the run keeps
//   models/        model checkpoints the run keeps (e.g. after each round's SFT)
//   summary.json   the results, written atomically
//   done           written last: a finished run re-run does nothing
//   lock           the pid of the process using the directory, so two processes never write one log
import { appendFileSync, closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicallySync } from '../io/atomic-write.ts';
import type { RecordKind, RecordOf, SealRecord } from './records.ts';

export interface RunRecord {
  /** What happened: "self-edit", "evaluation", "round-start", … */
  kind: string;
  /** Which unit of work: unique within the run, stable across restarts (e.g. "r1/p17/e3/seed2"). */
  key: string;
  [field: string]: unknown;
}

export interface OpenRunOptions {
  /** Accept a config that differs from the one on disk: it replaces it, and the change is logged. */
  force?: boolean;
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const LOG = 'log.jsonl';
const CONFIG = 'config.json';
const SUMMARY = 'summary.json';
const DONE = 'done';
const LOCK = 'lock';

export class RunDir {
  readonly adaptersDir: string;
  readonly modelsDir: string;
  /** Bytes of a torn last log line that opening cut off (0 when the log ended cleanly). */
  readonly tornBytes: number;
  private readonly byKey = new Map<string, RunRecord>();
  private readonly ordered: RunRecord[] = [];
  private fd: number | null;

  private constructor(
    readonly dir: string,
    readonly config: Record<string, JsonValue>,
    tornBytes: number,
    records: RunRecord[],
  ) {
    this.adaptersDir = join(dir, 'adapters');
    this.modelsDir = join(dir, 'models');
    this.tornBytes = tornBytes;
    for (const record of records) this.remember(record);
    this.fd = openSync(join(dir, LOG), 'a');
  }

  /**
   * Opens (or creates) the run directory for `config`. Throws when the directory holds a run with another
   * config (unless `force`), when another live process holds it, or when the log is corrupt before its end.
   */
  static open(dir: string, config: Record<string, JsonValue>, options: OpenRunOptions = {}): RunDir {
    if (config === null || typeof config !== 'object' || Array.isArray(config)) {
      throw new Error(`RunDir.open(${dir}): config must be a JSON object (the run's full configuration)`);
    }
    mkdirSync(join(dir, 'adapters'), { recursive: true });
    mkdirSync(join(dir, 'models'), { recursive: true });
    takeLock(dir);
    try {
      const configChange = reconcileConfig(dir, config, options.force ?? false);
      const { records, tornBytes } = recoverLog(join(dir, LOG));
      const run = new RunDir(dir, config, tornBytes, records);
      if (configChange.length > 0) {
        run.append({ kind: 'config-forced', key: `config-forced/${Date.now()}`, changes: configChange as unknown as JsonValue });
      }
      return run;
    } catch (e) {
      releaseLock(dir);
      throw e;
    }
  }

  /** Whether the unit of work `key` was completed (logged) by this or an earlier process. */
  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /** The record logged under `key`; given a kind (records.ts), typed as it, and an error if it is another. */
  get<K extends RecordKind>(key: string, kind: K): RecordOf<K> | undefined;
  get(key: string): RunRecord | undefined;
  get(key: string, kind?: string): RunRecord | undefined {
    const record = this.byKey.get(key);
    if (record && kind !== undefined && record.kind !== kind) {
      throw new Error(`run log ${join(this.dir, LOG)}: key "${key}" holds a "${record.kind}" record where a "${kind}" one belongs`);
    }
    return record;
  }

  /** Every logged record in log order, optionally only those of one kind (typed as it, records.ts). */
  records<K extends RecordKind>(kind: K): RecordOf<K>[];
  records(kind?: string): RunRecord[];
  records(kind?: string): RunRecord[] {
    return kind === undefined ? this.ordered : this.ordered.filter((r) => r.kind === kind);
  }

  /** Logs a completed unit of work of a SEAL run (append, its fields checked against records.ts by tsc). */
  log(record: SealRecord): void {
    this.append(record);
  }

  /** Several units of work finished together (appendMany). */
  logMany(records: SealRecord[]): void {
    this.appendMany(records);
  }

  /**
   * A unit of work that ends in one "evaluation" record: skipped when `key` is logged, else `work` runs and
   * its fields are logged under `key` with the seconds it took.
   */
  async evaluationUnit(key: string, work: () => Promise<Record<string, JsonValue>>): Promise<void> {
    if (this.has(key)) return;
    traceUnitStart([key]);
    const started = performance.now();
    const fields = await work();
    this.append({ kind: 'evaluation', key, ...fields, seconds: (performance.now() - started) / 1000 });
  }

  /**
   * Logs a completed unit of work: one line, appended and fsynced before returning. Adds `at` (ISO time)
   * unless given. A key may be logged once only; check has(key) before doing the work.
   */
  append(record: RunRecord): RunRecord {
    return this.appendMany([record])[0];
  }

  /**
   * Logs several units finished together (a chunk of inner loops) in one write and one fsync, so a
   * killed process leaves all of them logged or none (a power cut can still tear the last line).
   */
  appendMany(records: RunRecord[]): RunRecord[] {
    if (this.fd === null) throw new Error(`run directory ${this.dir} is closed; open it again to append`);
    const keys = new Set<string>();
    const full = records.map((record) => {
      if (typeof record?.kind !== 'string' || record.kind === '' || typeof record.key !== 'string' || record.key === '') {
        throw new Error(`a run log record needs non-empty string "kind" and "key", got ${JSON.stringify(record)?.slice(0, 120)}`);
      }
      if (this.byKey.has(record.key) || keys.has(record.key)) {
        const kind = this.byKey.get(record.key)?.kind ?? record.kind;
        throw new Error(`run log ${join(this.dir, LOG)} already has key "${record.key}" (kind "${kind}"); check has(key) and skip completed work`);
      }
      keys.add(record.key);
      return { ...record, at: record.at ?? new Date().toISOString() };
    });
    if (full.length === 0) return [];
    writeAll(this.fd, Buffer.from(full.map((r) => `${JSON.stringify(r)}\n`).join(''), 'utf8'));
    fsyncSync(this.fd);
    for (const r of full) this.remember(r);
    return full;
  }

  /** Whether the run finished: its `done` marker exists. */
  isDone(): boolean {
    return existsSync(join(this.dir, DONE));
  }

  writeSummary(summary: JsonValue): void {
    writeFileAtomicallySync(join(this.dir, SUMMARY), `${JSON.stringify(summary, null, 2)}\n`);
  }

  readSummary<T = JsonValue>(): T | undefined {
    const path = join(this.dir, SUMMARY);
    return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : undefined;
  }

  /** Marks the run finished (after its summary is written): a later open sees isDone(). */
  markDone(): void {
    writeFileAtomicallySync(join(this.dir, DONE), `${new Date().toISOString()}\n`);
  }

  /** A path inside the run directory. */
  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  close(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
    releaseLock(this.dir);
  }

  private remember(record: RunRecord): void {
    this.byKey.set(record.key, record);
    this.ordered.push(record);
  }
}

/**
 * Instrumentation for kill campaigns (test/seal/kill-campaign.test.ts): with SEAL_TRACE_UNITS=<file> set,
 * every unit of work appends one line as it starts, the JSON list of the log keys it will write. A unit
 * started but never logged is one a kill made the next process redo. Nothing happens when it is unset.
 */
export function traceUnitStart(keys: string[]): void {
  const path = process.env.SEAL_TRACE_UNITS;
  if (path) appendFileSync(path, `${JSON.stringify(keys)}\n`);
}

function writeAll(fd: number, bytes: Buffer): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

/**
 * Reads the log. Only the last line can be torn (appends are whole lines), so an unterminated tail is cut
 * off, and the file truncated to its last complete line; any other bad line is corruption and an error.
 */
function recoverLog(path: string): { records: RunRecord[]; tornBytes: number } {
  if (!existsSync(path)) return { records: [], tornBytes: 0 };
  const bytes = readFileSync(path);
  const end = bytes.lastIndexOf(0x0a) + 1; // just past the last newline; 0 when there is none
  const tornBytes = bytes.length - end;
  if (tornBytes > 0) {
    const fd = openSync(path, 'r+');
    try {
      ftruncateSync(fd, end);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  const records: RunRecord[] = [];
  const seen = new Set<string>();
  bytes
    .subarray(0, end)
    .toString('utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line === '') return;
      let record: RunRecord;
      try {
        record = JSON.parse(line) as RunRecord;
      } catch (e) {
        throw new Error(
          `${path}: line ${i + 1} is not JSON (${(e as Error).message}); the log is corrupt before its last line — fix or remove that line by hand`,
        );
      }
      if (typeof record?.kind !== 'string' || typeof record.key !== 'string') {
        throw new Error(`${path}: line ${i + 1} lacks string "kind" and "key"; is this a run log?`);
      }
      if (seen.has(record.key)) throw new Error(`${path}: line ${i + 1} repeats key "${record.key}"; the log was edited or written by two processes`);
      seen.add(record.key);
      records.push(record);
    });
  return { records, tornBytes };
}

interface ConfigChange {
  key: string;
  before: JsonValue | undefined;
  after: JsonValue | undefined;
}

function reconcileConfig(dir: string, config: Record<string, JsonValue>, force: boolean): ConfigChange[] {
  const path = join(dir, CONFIG);
  if (!existsSync(path)) {
    writeFileAtomicallySync(path, `${JSON.stringify(config, null, 2)}\n`);
    return [];
  }
  let stored: Record<string, JsonValue>;
  try {
    stored = JSON.parse(readFileSync(path, 'utf8')) as Record<string, JsonValue>;
  } catch (e) {
    throw new Error(`${path} is not valid JSON (${(e as Error).message}); restore it or start a new run directory`);
  }
  // Compare as JSON would store it (an undefined field is no field).
  const changes = diffConfigs(stored, JSON.parse(JSON.stringify(config)) as Record<string, JsonValue>);
  if (changes.length === 0) return [];
  if (!force) {
    const shown = changes.map((c) => `  ${c.key}: ${show(c.before)} → ${show(c.after)}`).join('\n');
    throw new Error(
      `${dir} holds a run with a different config:\n${shown}\n` +
        'Resume with the same config, choose a new run directory, or force the new config (--force) to continue this run under it.',
    );
  }
  writeFileAtomicallySync(path, `${JSON.stringify(config, null, 2)}\n`);
  return changes;
}

/** The differing keys of two configs, nested objects flattened to dotted paths; arrays compare whole. */
export function diffConfigs(before: Record<string, JsonValue>, after: Record<string, JsonValue>, prefix = ''): ConfigChange[] {
  const changes: ConfigChange[] = [];
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  for (const key of keys) {
    const a = before[key];
    const b = after[key];
    const name = prefix + key;
    if (isPlainObject(a) && isPlainObject(b)) changes.push(...diffConfigs(a, b, `${name}.`));
    else if (canonical(a) !== canonical(b)) changes.push({ key: name, before: a, after: b });
  }
  return changes;
}

function isPlainObject(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function canonical(value: JsonValue | undefined): string {
  if (value === undefined) return 'undefined';
  if (isPlainObject(value))
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(',')}}`;
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  return JSON.stringify(value);
}

function show(value: JsonValue | undefined): string {
  if (value === undefined) return '(absent)';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

function takeLock(dir: string): void {
  const path = join(dir, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = Number(readFileSync(path, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
      throw new Error(`run directory ${dir} is in use by process ${pid}; wait for it, stop it, or use another directory`);
    }
    if (pid === process.pid) {
      throw new Error(`run directory ${dir} is already open in this process; close() it before opening it again`);
    }
    rmSync(path, { force: true }); // a lock left by a killed process
  }
  throw new Error(`could not take the lock ${path}; another process keeps taking it`);
}

function releaseLock(dir: string): void {
  const path = join(dir, LOCK);
  try {
    if (Number(readFileSync(path, 'utf8').trim()) === process.pid) rmSync(path, { force: true });
  } catch {
    // Already gone: nothing to release.
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
