import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunDir, diffConfigs } from '../../src/seal/run-dir.ts';

const config = { model: 'llama-3.2-1b', lora: { rank: 32, alpha: 64 }, seeds: [0, 1, 2] };
const open: RunDir[] = [];
function openRun(dir: string, cfg: Record<string, unknown> = config, force = false): RunDir {
  const run = RunDir.open(dir, cfg as never, { force });
  open.push(run);
  return run;
}
afterEach(() => {
  for (const run of open.splice(0)) run.close();
});
const freshDir = () => join(mkdtempSync(join(tmpdir(), 'run-dir-')), 'run');

describe('RunDir', () => {
  it('lays out config, log, adapters and models', () => {
    const dir = freshDir();
    const run = openRun(dir);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))).toEqual(config);
    expect(statSync(run.adaptersDir).isDirectory()).toBe(true);
    expect(statSync(run.modelsDir).isDirectory()).toBe(true);
    expect(run.records()).toEqual([]);
  });

  it('appends one JSON line per record and finds it again after reopening', () => {
    const dir = freshDir();
    const run = openRun(dir);
    run.append({ kind: 'self-edit', key: 'r0/p0/e0', text: 'line one\nline two', scores: [0.4, 0.6] });
    run.append({ kind: 'round-end', key: 'r0' });
    const lines = readFileSync(join(dir, 'log.jsonl'), 'utf8').split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(JSON.parse(lines[0])).toMatchObject({ kind: 'self-edit', key: 'r0/p0/e0', text: 'line one\nline two', scores: [0.4, 0.6] });
    expect(typeof JSON.parse(lines[0]).at).toBe('string');
    run.close();

    const again = openRun(dir);
    expect(again.has('r0/p0/e0')).toBe(true);
    expect(again.has('r0/p0/e1')).toBe(false);
    expect(again.get('r0/p0/e0')?.scores).toEqual([0.4, 0.6]);
    expect(again.records('round-end').map((r) => r.key)).toEqual(['r0']);
  });

  it('resume skips the units already logged', () => {
    const dir = freshDir();
    const units = ['a', 'b', 'c', 'd'];
    const done: string[] = [];
    const first = openRun(dir);
    for (const key of units.slice(0, 2)) {
      done.push(key);
      first.append({ kind: 'unit', key });
    }
    first.close(); // as if killed after two units

    const second = openRun(dir);
    for (const key of units) {
      if (second.has(key)) continue;
      done.push(key);
      second.append({ kind: 'unit', key });
    }
    expect(done).toEqual(['a', 'b', 'c', 'd']);
    expect(second.records().map((r) => r.key)).toEqual(units);
  });

  it('refuses a key logged twice', () => {
    const run = openRun(freshDir());
    run.append({ kind: 'unit', key: 'a' });
    expect(() => run.append({ kind: 'unit', key: 'a' })).toThrow(/already has key "a".*check has\(key\)/);
    expect(() => run.append({ kind: '', key: 'b' })).toThrow(/non-empty string "kind" and "key"/);
  });

  it('drops a torn last line and truncates the file to the last complete line', () => {
    const dir = freshDir();
    const run = openRun(dir);
    run.append({ kind: 'unit', key: 'a' });
    run.append({ kind: 'unit', key: 'b' });
    run.close();
    const log = join(dir, 'log.jsonl');
    const complete = readFileSync(log, 'utf8');
    appendFileSync(log, '{"kind":"unit","key":"c","te');

    const again = openRun(dir);
    expect(again.tornBytes).toBe('{"kind":"unit","key":"c","te'.length);
    expect(readFileSync(log, 'utf8')).toBe(complete);
    expect(again.has('c')).toBe(false);
    again.append({ kind: 'unit', key: 'c' });
    expect(
      readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).key),
    ).toEqual(['a', 'b', 'c']);
  });

  it('treats a bad line before the end as corruption, naming the line', () => {
    const dir = freshDir();
    openRun(dir).close();
    writeFileSync(join(dir, 'log.jsonl'), '{"kind":"unit","key":"a"}\nnot json\n{"kind":"unit","key":"b"}\n');
    expect(() => openRun(dir)).toThrow(/line 2 is not JSON/);
    expect(existsSync(join(dir, 'lock'))).toBe(false); // a failed open leaves no lock behind
  });

  it('refuses a different config, naming the differing keys, unless forced', () => {
    const dir = freshDir();
    openRun(dir).close();
    const changed = { ...config, lora: { rank: 16, alpha: 64 }, seeds: [0, 1], epochs: 10 };
    let message = '';
    try {
      openRun(dir, changed);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('different config');
    expect(message).toContain('lora.rank: 32 → 16');
    expect(message).toContain('seeds: [0,1,2] → [0,1]');
    expect(message).toContain('epochs: (absent) → 10');
    expect(message).not.toContain('lora.alpha');
    expect(message).toContain('--force');

    const forced = openRun(dir, changed, true);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))).toEqual(changed);
    expect(forced.records('config-forced')).toHaveLength(1);
    expect(forced.records('config-forced')[0].changes).toContainEqual({ key: 'lora.rank', before: 32, after: 16 });
  });

  it('accepts the same config with keys in another order', () => {
    const dir = freshDir();
    openRun(dir).close();
    expect(() => openRun(dir, { seeds: [0, 1, 2], lora: { alpha: 64, rank: 32 }, model: 'llama-3.2-1b' }).close()).not.toThrow();
    expect(diffConfigs({ a: { b: 1 } }, { a: { b: 1 } })).toEqual([]);
  });

  it('writes the summary atomically and marks a finished run done', () => {
    const dir = freshDir();
    const run = openRun(dir);
    expect(run.isDone()).toBe(false);
    run.writeSummary({ accuracy: 0.47 });
    run.markDone();
    expect(readFileSync(join(dir, 'summary.json'), 'utf8')).toBe('{\n  "accuracy": 0.47\n}\n');
    run.close();
    const again = openRun(dir);
    expect(again.isDone()).toBe(true);
    expect(again.readSummary()).toEqual({ accuracy: 0.47 });
  });

  it('refuses a directory held by a live process, and takes over a dead one', () => {
    const dir = freshDir();
    openRun(dir).close();
    writeFileSync(join(dir, 'lock'), `${process.ppid}\n`); // a live process that is not us
    expect(() => openRun(dir)).toThrow(new RegExp(`in use by process ${process.ppid}`));
    const exited = spawnSync(process.execPath, ['-e', '0']);
    writeFileSync(join(dir, 'lock'), `${exited.pid}\n`);
    expect(() => openRun(dir)).not.toThrow();
  });

  it('survives SIGKILL: every record written before the kill is there, the stale lock is taken over', async () => {
    const dir = freshDir();
    openRun(dir).close();
    // The writer appends records forever, printing each key once its append has returned.
    const child = join(dirname(dir), 'writer.mts'); // .mts: ES module wherever it lies
    writeFileSync(
      child,
      `import { RunDir } from ${JSON.stringify(resolve(import.meta.dirname, '../../src/seal/run-dir.ts'))};\n` +
        `const run = RunDir.open(process.argv[2], ${JSON.stringify(config)});\n` +
        'for (let i = 0; ; i++) {\n' +
        "  run.append({ kind: 'unit', key: `unit-${i}`, payload: 'x'.repeat(2000) });\n" +
        '  process.stdout.write(`unit-${i}\\n`);\n' +
        '  if (i % 50 === 49) await new Promise((r) => setTimeout(r, 1));\n' +
        '}\n',
    );
    const proc = spawn(process.execPath, ['--import', 'tsx', child, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    // Wait for a few acknowledged appends, then kill it mid-loop.
    const acknowledged: string[] = [];
    const exited = new Promise((done) => proc.on('exit', done));
    proc.stdout!.on('data', (chunk: Buffer) => {
      acknowledged.push(...chunk.toString().split('\n').filter(Boolean));
      if (acknowledged.length >= 20 && !proc.killed) proc.kill('SIGKILL');
    });
    await exited;
    expect(acknowledged.length, 'the writer should have logged 20 records before the kill').toBeGreaterThanOrEqual(20);
    const run = openRun(dir);
    for (const key of acknowledged) expect(run.has(key)).toBe(true);
    const keys = run.records().map((r) => r.key);
    expect(keys).toEqual(keys.map((_, i) => `unit-${i}`)); // in order, nothing lost in between
  }, 60_000);
});
