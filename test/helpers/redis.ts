// A throwaway redis-server for the queue tests: 127.0.0.1, a free port, a temporary directory, no
// persistence; started by a test file's setup and stopped (and its directory removed) by its teardown.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const HAVE_REDIS = spawnSync('redis-server', ['--version']).status === 0;
if (!HAVE_REDIS) console.warn('SKIPPING queue tests: redis-server is not installed (bash scripts/setup.sh installs it as root)');

export interface TestRedis {
  url: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startRedis(): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'seal-redis-'));
  // Another process may take the port between our probe and redis binding it: try a few.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (await ready(child)) {
      return {
        url: `redis://127.0.0.1:${port}`,
        stop: async () => {
          if (child.exitCode === null) {
            const exited = new Promise((r) => child.once('exit', r));
            child.kill('SIGTERM');
            await exited;
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error('redis-server did not start on any of 5 free ports');
}

/** True once redis says it accepts connections; false if it exits first (port taken) or takes over 20 s. */
function ready(child: ChildProcess): Promise<boolean> {
  return new Promise((resolve) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(false);
    }, 20_000);
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout!.resume();
        resolve(true);
      }
    });
    child.stderr!.resume();
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}
