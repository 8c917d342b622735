// `--queue redis://[user:password@]host[:port][/db]` (rediss:// for TLS) as BullMQ's connection options,
// the URL as it may be shown (`redactUrl`: the password masked, everywhere), and the check both ends run
// before they touch Redis (`checkRedis`): that the URL reaches a Redis, that it takes the credentials,
// that it runs the commands BullMQ needs and has room to write — each failure a named error that says
// what to change.
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { QUEUE_NAME } from './job.ts';

/** What a shown URL's password becomes. */
const MASK = '***';

/**
 * The URL with its password (and any `password=`/`token=` query value) masked, for messages and logs. A
 * string that does not parse as a URL has whatever sits between `//` and `@` masked, user included.
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url.replace(/\/\/[^/]*@/, `//${MASK}@`);
  }
  if (u.password) u.password = MASK;
  for (const key of [...u.searchParams.keys()]) if (/pass|token|secret|key/i.test(key)) u.searchParams.set(key, MASK);
  return u.toString();
}

export function redisConnection(url: string): ConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new QueueUrlError(`--queue takes a Redis URL such as redis://127.0.0.1:6379, got "${redactUrl(url)}"`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new QueueUrlError(`--queue takes a redis:// or rediss:// URL (such as redis://127.0.0.1:6379), got "${redactUrl(url)}"`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0)
    throw new QueueUrlError(`--queue ${redactUrl(url)}: the database (the path) must be a number, got "${u.pathname.slice(1)}"`);
  return {
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    db,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** True for 127.0.0.0/8, ::1 and localhost: a Redis only this machine reaches. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h === '::1' || h === '0:0:0:0:0:0:0:1';
}

/**
 * True for addresses of private networks: RFC 1918 (10/8, 172.16/12, 192.168/16), link-local (169.254/16,
 * fe80::/10), carrier-grade NAT (100.64/10), IPv6 unique local (fc00::/7), and host names that name no
 * public host (one label, or .local, .internal, .lan, .home.arpa). Other names are taken as public.
 */
export function isPrivate(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (isLoopback(h)) return true;
  if (isIP(h) === 4) {
    const [a, b] = h.split('.').map(Number);
    return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
  }
  if (isIP(h) === 6) return /^f[cd]/.test(h) || /^fe[89ab]/.test(h);
  return !h.includes('.') || /\.(local|internal|lan|home\.arpa)$/.test(h);
}

/**
 * The warning for a Redis on another machine reached without a password, or with one in clear text over
 * plain redis:// to an address outside private networks (null when there is nothing to warn about):
 * anyone who reaches such a Redis can read every job and enqueue their own, and anyone on the way can
 * read a password sent without TLS.
 */
export function insecureWarning(url: string, who: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null; // redisConnection names the problem
  }
  if (isLoopback(u.hostname)) return null;
  if (!u.password) {
    return (
      `warning: ${who} connects to Redis at ${redactUrl(url)} without authentication: whoever reaches ${u.hostname} can read the jobs and enqueue ` +
      'their own. Give Redis a password (requirepass, or an ACL user) and put it in the URL (redis://user:password@host:port); see docs/queue.md'
    );
  }
  if (u.protocol === 'redis:' && !isPrivate(u.hostname)) {
    return (
      `warning: ${who} sends the Redis password and every job in clear text (redis://, no TLS) to ${redactUrl(url)}, outside a private ` +
      'network: whoever is on the way can read them. Serve Redis over TLS (tls-port) and use rediss://; see docs/queue.md'
    );
  }
  return null;
}

/** The queue's errors, by name (`name` is the class's; the message starts with it and says what to change). */
export class QueueConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
    this.message = `${this.name}: ${message}`;
  }
}
/** --queue is not a Redis URL. */
export class QueueUrlError extends QueueConnectionError {}
/** Nothing answers at the URL's host and port (or not in time). */
export class RedisUnreachableError extends QueueConnectionError {}
/** Something answers, but not as Redis does (an HTTP server, TLS on one side only). */
export class NotRedisError extends QueueConnectionError {}
/** Redis refused the credentials, or wants some. */
export class RedisAuthError extends QueueConnectionError {}
/** The Redis (its version, its renamed commands, the ACL user's permissions) lacks a command BullMQ needs. */
export class RedisCommandsError extends QueueConnectionError {}
/** Redis is at its maxmemory and refuses writes. */
export class RedisMemoryError extends QueueConnectionError {}

/** The oldest Redis BullMQ 5+ runs on. */
const MIN_REDIS = [6, 2];

/** Whether an error means that Redis cannot be reached right now (worth waiting for), rather than that it refused. */
export function isConnectionLoss(e: unknown): boolean {
  const m = String((e as Error)?.message ?? e);
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|Connection is closed|Reached the max retries per request|enableOfflineQueue|LOADING|Stream isn't writeable|connect ETIMEDOUT|Socket closed/i.test(
    m,
  );
}

/** The Redis error `e` as one of the named errors, or null when it is none of them. */
export function classifyRedisError(e: unknown, url: string): QueueConnectionError | null {
  if (e instanceof QueueConnectionError) return e;
  const m = String((e as Error)?.message ?? e);
  const shown = redactUrl(url);
  if (/^OOM|maxmemory/i.test(m)) return memoryError(shown, m);
  if (/WRONGPASS|NOAUTH|invalid password|invalid username-password|AUTH failed|Authentication required/i.test(m)) {
    const has = (() => {
      try {
        return Boolean(new URL(url).password);
      } catch {
        return false;
      }
    })();
    return new RedisAuthError(
      has
        ? `Redis at ${shown} refused the URL's user and password (${m}): check them (redis://user:password@host:port; percent-encode @ : / in a password as %40 %3A %2F), and the ACL user's "on" and ">password"`
        : `Redis at ${shown} wants a password (${m}): put it in --queue as redis://:password@host:port, or redis://user:password@host:port for an ACL user`,
    );
  }
  if (/NOPERM|unknown command|ERR unknown|no permissions/i.test(m)) {
    return new RedisCommandsError(
      `Redis at ${shown} does not run a command BullMQ needs (${m}): the queue needs scripting (EVAL, EVALSHA), streams (XADD, XREAD), ` +
        `blocking pops (BZPOPMIN) and the hash, list and sorted-set commands — give the ACL user "+@all ~${QUEUE_NAME}* ~bull:* &*" (or at least ` +
        '"+@read +@write +@scripting +@stream +@blocking +@keyspace +@connection +info +client"), and undo any rename-command of these',
    );
  }
  if (/Protocol error|unexpected|Parse|invalid bulk|expected .* got|ERR_SSL|wrong version number|packet length too long|SSL routines|EPROTO/i.test(m)) {
    const tls = shown.startsWith('rediss:');
    return new NotRedisError(
      `${shown} answered, but not as Redis does (${m}): check the host and port in --queue (an HTTP server? another service?)` +
        (tls ? '; if that Redis takes plain connections, use redis://, not rediss://' : "; if it is Redis's TLS port, use rediss://"),
    );
  }
  return null;
}

function memoryError(shown: string, detail: string): RedisMemoryError {
  return new RedisMemoryError(
    `Redis at ${shown} is at its maxmemory and refuses writes (${detail}): raise maxmemory (redis-cli CONFIG SET maxmemory 4gb, and in redis.conf), ` +
      'or free memory (jobs of runs stopped for good: they expire after a week); keep maxmemory-policy noeviction. Nothing was recorded from a ' +
      'write Redis refused: re-run the same command once Redis has room.',
  );
}

export interface CheckRedisOptions {
  /** How long to try to reach it (default 15 s): a Redis starting up, or coming back. */
  seconds?: number;
}

/**
 * Connects to `url` as BullMQ would, and checks before anything is enqueued or taken: that a Redis answers
 * there, that it takes the credentials, that it has the commands BullMQ needs (version 6.2 or newer,
 * scripting, streams, blocking pops, none renamed or refused by the ACL), and that it has room to write.
 * Throws the named error for the first that fails; leaves nothing in Redis.
 */
export async function checkRedis(url: string, options: CheckRedisOptions = {}): Promise<void> {
  const connection = redisConnection(url) as Record<string, unknown>;
  const shown = redactUrl(url);
  const seconds = options.seconds ?? 15;
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const client = new Redis({
      ...connection,
      lazyConnect: true,
      retryStrategy: () => null, // one try per loop: the loop decides whether to wait
      maxRetriesPerRequest: 0,
      enableOfflineQueue: true,
      connectTimeout: 5000,
      commandTimeout: 5000,
    });
    const errors: Error[] = [];
    client.on('error', (e: Error) => errors.push(e));
    try {
      await client.connect();
      await probe(client, shown);
      return;
    } catch (e) {
      const cause = errors.find((x) => classifyRedisError(x, url)) ?? (e as Error);
      const named = classifyRedisError(cause, url) ?? classifyRedisError(e, url);
      if (named) throw named;
      if (Date.now() >= end) {
        throw new RedisUnreachableError(
          `cannot reach Redis at ${shown} within ${seconds} s (${(e as Error).message}): start one (redis-server; see docs/queue.md), or check the host and port in --queue`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      client.disconnect();
    }
  }
}

async function probe(client: Redis, shown: string): Promise<void> {
  const info = String(await client.info('server'));
  const version = /redis_version:(\S+)/.exec(info)?.[1];
  if (!version) throw new NotRedisError(`${shown} answers INFO without a redis_version: it is not a Redis BullMQ runs on`);
  const [major, minor] = version.split('.').map(Number);
  if (major < MIN_REDIS[0] || (major === MIN_REDIS[0] && minor < MIN_REDIS[1]))
    throw new RedisCommandsError(`Redis at ${shown} is version ${version}; the queue (BullMQ) needs ${MIN_REDIS.join('.')} or newer: upgrade it`);
  // What BullMQ's scripts and its workers do: a script writing a stream, a sorted set and a hash; a
  // blocking pop; a stream read. Under maxmemory the script's writes fail with OOM.
  const key = `bull:${QUEUE_NAME}:seal-check:${process.pid}:${Date.now()}`;
  await client.eval(
    "redis.call('XADD', KEYS[1] .. ':s', 'MAXLEN', '1', '*', 'p', '1'); redis.call('ZADD', KEYS[1] .. ':z', 1, 'p'); " +
      "redis.call('HSET', KEYS[1] .. ':h', 'p', '1'); redis.call('DEL', KEYS[1] .. ':s', KEYS[1] .. ':z', KEYS[1] .. ':h'); return 1",
    1,
    key,
  );
  await client.bzpopmin(`${key}:z`, 0.01);
  await client.xread('COUNT', 1, 'STREAMS', `${key}:s`, '0');
  await client.evalsha('0000000000000000000000000000000000000000', 0).catch((e: Error) => {
    if (!/NOSCRIPT/.test(e.message)) throw e;
  });
  const memory = String(await client.info('memory'));
  const max = Number(/maxmemory:(\d+)/.exec(memory)?.[1] ?? 0);
  const used = Number(/used_memory:(\d+)/.exec(memory)?.[1] ?? 0);
  if (max > 0 && used >= max) throw memoryError(shown, `used_memory ${used} of maxmemory ${max} bytes`);
}

/** Whether a Redis answers PING at `url` now (one try, a second at most). */
export async function answers(url: string): Promise<boolean> {
  const client = new Redis({
    ...(redisConnection(url) as object),
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    commandTimeout: 1000,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** Waits for `ready`, or fails after `seconds` naming the URL (ioredis would otherwise retry forever, silently). */
export async function reachable(ready: Promise<unknown>, url: string, seconds = 15): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new RedisUnreachableError(`cannot reach Redis at ${redactUrl(url)} within ${seconds} s: start one (redis-server --port <port>) or check --queue`),
        ),
      seconds * 1000,
    );
  });
  try {
    await Promise.race([ready, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Memory use of the Redis behind `client` (INFO memory), in bytes; maxmemory 0 means none set. */
export async function redisMemory(client: { info(section: string): Promise<string> }): Promise<{ used: number; peak: number; max: number }> {
  const memory = String(await client.info('memory'));
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(memory)?.[1] ?? 0);
  return { used: field('used_memory'), peak: field('used_memory_peak'), max: field('maxmemory') };
}
