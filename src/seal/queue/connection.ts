// `--queue redis://[user:password@]host[:port][/db]` (rediss:// for TLS) as BullMQ's connection options.
import type { ConnectionOptions } from 'bullmq';

export function redisConnection(url: string): ConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--queue takes a Redis URL such as redis://127.0.0.1:6379, got "${url}"`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`--queue takes a redis:// or rediss:// URL, got "${url}"`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new Error(`--queue ${url}: the database (the path) must be a number, got "${u.pathname.slice(1)}"`);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    db,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** Waits for `ready`, or fails after `seconds` naming the URL (ioredis would otherwise retry forever, silently). */
export async function reachable(ready: Promise<unknown>, url: string, seconds = 15): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`cannot reach Redis at ${url} within ${seconds} s: start one (redis-server --port <port>) or check --queue`)),
      seconds * 1000,
    );
  });
  try {
    await Promise.race([ready, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
