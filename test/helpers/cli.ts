// Running `seal` as a child process in end-to-end tests, killing it mid-run, and reading its run log.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');

/** `seal <args>` as a child process; `env` adds to this process's environment. */
export function seal(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [join(ROOT, 'bin', 'seal.js'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
}

export function finished(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdout!.resume();
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
}

const lines = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean).length : 0);

/** Kills `child` with SIGKILL once the run's log has at least `records` lines (or it exits first). */
export function killAfter(child: ChildProcess, run: string, records: number): Promise<void> {
  return new Promise((resolve) => {
    const poll = setInterval(() => {
      if (lines(join(run, 'log.jsonl')) >= records || child.exitCode !== null) {
        clearInterval(poll);
        child.kill('SIGKILL');
        resolve();
      }
    }, 20);
  });
}

/** The run log without what legitimately differs between runs: wall-clock times, and the run's own path. */
export function logOf(run: string): Record<string, unknown>[] {
  const text = readFileSync(join(run, 'log.jsonl'), 'utf8').split(run).join('<run>');
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const { at, seconds, ...rest } = JSON.parse(line);
      return rest;
    });
}
