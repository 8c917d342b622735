// A throwaway redis-server for the queue tests: 127.0.0.1, a free port, a temporary directory, no
// persistence unless asked; started by a test file's setup and stopped (and its directory removed) by
// its teardown. Options give it a password (requirepass) or an ACL user, AOF persistence, or any other
// redis-server arguments; `kill` (SIGKILL) and `restart` (same port and directory) stage its faults.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const HAVE_REDIS = spawnSync('redis-server', ['--version']).status === 0;
if (!HAVE_REDIS) console.warn('SKIPPING queue tests: redis-server is not installed (bash scripts/setup.sh installs it as root)');

export interface RedisOptions {
  /** requirepass: the default user needs this password. */
  password?: string;
  /** An ACL user (the default user is then switched off): its name, password, and rules (default "~* &* +@all"). */
  user?: { name: string; password: string; rules?: string };
  /** AOF persistence, fsync'd at every write: a kill -9 loses nothing. */
  appendonly?: boolean;
  /** More redis-server arguments, e.g. ['--maxmemory', '2mb']. */
  args?: string[];
}

export interface TestRedis {
  /** With the credentials, as --queue takes it. */
  url: string;
  /** Without credentials. */
  plainUrl: string;
  port: number;
  /** The secret a test must never find in output or files (the password, or '' without one). */
  secret: string;
  /** kill -9. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory (an AOF there is replayed); `options` replace the first ones. */
  restart(options?: RedisOptions): Promise<void>;
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

function serverArgs(port: number, dir: string, o: RedisOptions): string[] {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
  args.push(...(o.appendonly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']));
  if (o.password) args.push('--requirepass', o.password);
  if (o.user) {
    // redis-server takes config directives as arguments; `user` lines define ACL users.
    args.push('--user', 'default', 'off', '--user', o.user.name, 'on', `>${o.user.password}`, ...(o.user.rules ?? '~* &* +@all').split(' '));
  }
  return [...args, ...(o.args ?? [])];
}

function urlOf(port: number, o: RedisOptions): string {
  if (o.user) return `redis://${encodeURIComponent(o.user.name)}:${encodeURIComponent(o.user.password)}@127.0.0.1:${port}`;
  if (o.password) return `redis://:${encodeURIComponent(o.password)}@127.0.0.1:${port}`;
  return `redis://127.0.0.1:${port}`;
}

export async function startRedis(options: RedisOptions = {}): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'seal-redis-'));
  // Another process may take the port between our probe and redis binding it: try a few.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    let child = spawn('redis-server', serverArgs(port, dir, options), { stdio: ['ignore', 'pipe', 'pipe'] });
    if (!(await ready(child))) continue;
    let current = options;
    const exit = async (signal: NodeJS.Signals) => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill(signal);
        await exited;
      }
    };
    return {
      url: urlOf(port, options),
      plainUrl: `redis://127.0.0.1:${port}`,
      port,
      secret: options.user?.password ?? options.password ?? '',
      kill: () => exit('SIGKILL'),
      restart: async (next) => {
        await exit('SIGKILL');
        current = next ?? current;
        // The port was ours a moment ago; retry briefly while the kernel lets it go.
        for (let i = 0; i < 20; i++) {
          child = spawn('redis-server', serverArgs(port, dir, current), { stdio: ['ignore', 'pipe', 'pipe'] });
          if (await ready(child)) return;
          await new Promise((r) => setTimeout(r, 250));
        }
        throw new Error(`redis-server did not start again on port ${port}`);
      },
      stop: async () => {
        await exit('SIGTERM');
        rmSync(dir, { recursive: true, force: true });
      },
    };
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
