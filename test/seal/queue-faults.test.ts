// The queue against a real redis-server of the test's own, without a model: the coordinator
// (InnerLoopQueue's runner, as restEm calls it) and in-process workers (InnerLoopWorker) whose inner loop
// is a stub that scores a unit by a hash of its key and seed, after a short sleep. So a round of 10 jobs
// takes a few seconds, and what is recorded can be compared, unit by unit, with an undisturbed round's.
//
// - What a worker takes: every job's data is checked (schema, version, size) before anything runs, and a
//   bad job fails for good (no retries) with a named error while the worker goes on; folders outside
//   --allow-path are refused, symbolic links included; a folder with another model is refused by hash.
// - What --queue reaches: a Redis with a password, a wrong or missing one, a user without scripting, a
//   port that is not Redis, a scheme that is not redis: — each a named error.
// - Redis's faults mid-round: kill -9 and a restart from its AOF; a restart with every job lost; an
//   outage of OUTAGE_SECONDS; maxmemory reached. Each round ends recording exactly the undisturbed
//   round's results, each unit once — or, at maxmemory, stops with a RedisMemoryError having recorded
//   only right results.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArcTask } from '../../src/seal/arc/arc-data.ts';
import type { Domain, InnerLoopUnit } from '../../src/seal/loop.ts';
import type { Policy } from '../../src/seal/policy.ts';
import { checkRedis, insecureWarning, redactUrl, redisConnection } from '../../src/seal/queue/connection.ts';
import { InnerLoopQueue } from '../../src/seal/queue/coordinator.ts';
import type { JobDomain } from '../../src/seal/queue/domains.ts';
import { type InnerLoopJobData, JOB_VERSION, QUEUE_NAME, jobId } from '../../src/seal/queue/job.ts';
import { checkJob } from '../../src/seal/queue/job-schema.ts';
import { modelHash } from '../../src/seal/queue/model-hash.ts';
import { InnerLoopWorker, type InnerLoopWorkerOptions } from '../../src/seal/queue/worker.ts';
import type { JsonValue } from '../../src/seal/run-dir.ts';
import { HAVE_REDIS, type RedisOptions, type TestRedis, startRedis } from '../helpers/redis.ts';

/** How long Redis stays away in the outage test (seconds). */
const OUTAGE_SECONDS = Number(process.env.SEAL_TEST_OUTAGE_SECONDS ?? 3);

const work = mkdtempSync(join(tmpdir(), 'seal-queue-faults-'));
const origin = join(work, 'run');
const modelDir = join(work, 'model');
mkdirSync(modelDir, { recursive: true });
writeFileSync(join(modelDir, 'config.json'), '{"tiny":true}');
const otherModel = join(work, 'other-model');
mkdirSync(otherModel, { recursive: true });
writeFileSync(join(otherModel, 'config.json'), '{"other":true}');

const score = (key: string, seed: number) => createHash('sha256').update(`${key}#${seed}`).digest()[0] / 255;
const task = (i: number): ArcTask => ({ id: `t${i}`, train: [{ input: [[1]], output: [[2]] }], test: [{ input: [[i % 10]] }] });
const units = (n: number, round = 1): InnerLoopUnit<ArcTask>[] =>
  Array.from({ length: n }, (_, i) => ({
    key: `r${round}/t${i}/e0/s0`,
    context: task(i),
    contextId: `t${i}`,
    selfEditIndex: 0,
    seedIndex: 0,
    selfEdit: `{"n":${i}}`,
    seed: i,
  }));
const arcLike: JobDomain<ArcTask> = {
  describe: (_d, us) => ({ spec: { kind: 'arc', answerTokens: 8, answerBatch: 2 }, contexts: us.map((u) => u.context as unknown as JsonValue) }),
};
const domain = { evaluateMany: async () => [] } as unknown as Domain<ArcTask>;
const policy = { dir: modelDir } as Policy;

interface Logged {
  lines: string[];
  log: (m: string) => void;
}
const logger = (): Logged => {
  const lines: string[] = [];
  return { lines, log: (m) => lines.push(m) };
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, test: () => boolean, seconds = 60): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A worker whose inner loop is a stub: `ms` of sleep, then each unit's hash score. */
function stubWorker(url: string, name: string, extra: Partial<InnerLoopWorkerOptions> = {}, ms = 300): Promise<InnerLoopWorker> {
  return InnerLoopWorker.start({
    url,
    name,
    grader: async () => {
      throw new Error('no grader in these tests');
    },
    lockDurationMs: 3000,
    stalledIntervalMs: 1000,
    maxStalledCount: 10,
    evaluate: async ({ data }) => {
      await sleep(ms);
      return data.units.map((u) => ({ score: score(u.key, u.seed), details: { seed: u.seed } }));
    },
    ...extra,
  });
}

/** A round of `n` units, 2 a job, on `queue`: its records by key (a key recorded twice fails the test). */
function round(queue: InnerLoopQueue, n: number, onRecord: (count: number) => void = () => {}) {
  const records = new Map<string, number>();
  const done = queue.runner(arcLike)(
    policy,
    domain,
    units(n),
    2,
    (chunk, results) => {
      chunk.forEach((u, i) => {
        if (records.has(u.key)) throw new Error(`${u.key} recorded twice`);
        records.set(u.key, results[i].score);
      });
      onRecord(records.size);
    },
    () => {},
  );
  return { records, done };
}

const expected = (n: number) => new Map(units(n).map((u) => [u.key, score(u.key, u.seed)]));

async function jobData(over: Partial<InnerLoopJobData> = {}): Promise<InnerLoopJobData> {
  return {
    version: JOB_VERSION,
    origin,
    model: { dir: modelDir, hash: await modelHash(modelDir) },
    domain: { kind: 'arc', answerTokens: 8, answerBatch: 2 },
    wide: false,
    units: [{ key: 'r1/t0/e0/s0', seed: 0, selfEdit: '{}', context: task(0) as unknown as JsonValue }],
    ...over,
  };
}

describe('job data a worker checks before it runs anything', () => {
  it('takes a well-formed job, and names the field of a malformed one', async () => {
    const good = await jobData();
    expect(checkJob('j', good)).toBe(good);
    const bad = (patch: (d: Record<string, unknown>) => void) => {
      const d = JSON.parse(JSON.stringify(good));
      patch(d);
      return () => checkJob('j', d);
    };
    expect(bad((d) => (d.version = 99))).toThrow(/JobVersionError: job j has version 99/);
    expect(bad((d) => delete d.units)).toThrow(/InvalidJobError: job j: the data.units is missing/);
    expect(bad((d) => ((d.units as { seed: unknown }[])[0].seed = 1.5))).toThrow(/units\[0\]\.seed must be an integer/);
    expect(bad((d) => (d.model = { dir: 'relative/model', hash: good.model.hash }))).toThrow(/model\.dir must be an absolute path/);
    expect(bad((d) => (d.model = { dir: modelDir, hash: 'abc' }))).toThrow(/model\.hash must be a SHA-256/);
    expect(bad((d) => (d.domain = { kind: 'shell', command: 'rm -rf /' }))).toThrow(/domain.command is not a field|domain\.kind must be/);
    expect(bad((d) => ((d.units as { context: unknown }[])[0].context = { id: 't', train: [], test: [{ input: [[12]] }] }))).toThrow(
      /colours are integers 0–9/,
    );
    expect(bad((d) => (d.extra = 1))).toThrow(/the data\.extra is not a field of this job version/);
    expect(bad((d) => (d.units as unknown[]).push((d.units as unknown[])[0]))).toThrow(/one unit when wide is false/);
    const big = { ...good, units: [{ ...good.units[0], selfEdit: 'x'.repeat(5000) }] };
    expect(() => checkJob('j', big, { maxBytes: 4096, maxUnits: 10 })).toThrow(
      /InvalidJobError: job j: the data is \d+ bytes as JSON; this worker takes at most 4096/,
    );
  });
});

describe.skipIf(!HAVE_REDIS)('the queue on a real redis-server, faults included (stub inner loops)', { timeout: 180_000 }, () => {
  const started: TestRedis[] = [];
  const closers: (() => Promise<unknown>)[] = [];
  const redisFor = async (options: RedisOptions = {}) => {
    const r = await startRedis(options);
    started.push(r);
    return r;
  };
  const open = async (url: string, log: Logged, sweepMs = 500) => {
    const q = await InnerLoopQueue.open(url, { origin, log: log.log, sweepMs, backoffMs: 200 });
    closers.push(() => q.close());
    return q;
  };
  const workerOn = async (url: string, name: string, extra: Partial<InnerLoopWorkerOptions> = {}, ms?: number) => {
    const w = await stubWorker(url, name, extra, ms);
    closers.push(() => w.close(true));
    return w;
  };
  afterAll(async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
    for (const r of started) await r.stop();
  });

  describe('what a worker takes', () => {
    const wlog = logger();
    /** A Redis of its own, and a Queue to add jobs by hand (as anyone who can write to it could). */
    const fresh = async () => {
      const redis = await redisFor();
      const queue = new Queue(QUEUE_NAME, { connection: redisConnection(redis.url) });
      closers.push(() => queue.close());
      const add = (data: unknown, id: string) => queue.add('arc', data, { jobId: id, attempts: 3, backoff: { type: 'fixed', delay: 100 } });
      const finished = async (job: Job) => {
        for (let i = 0; i < 400; i++) {
          const state = await queue.getJobState(job.id!);
          if (state === 'completed' || state === 'failed') return { state, job: (await queue.getJob(job.id!))! };
          await sleep(50);
        }
        throw new Error(`job ${job.id} did not finish`);
      };
      return { redis, add, finished };
    };

    it('fails a malformed, a foreign-version, an oversized or an altered job for good, and goes on to the next', async () => {
      const { redis, add, finished } = await fresh();
      await workerOn(redis.url, 'W1', { log: wlog.log, limits: { maxBytes: 64 * 1024 } });
      const good = await jobData();
      const cases: [unknown, string, RegExp][] = [
        [{ ...good, units: [{ ...good.units[0], seed: 'x' }] }, 'il-malformed', /InvalidJobError: job il-malformed: units\[0\]\.seed must be a finite number/],
        [{ ...good, version: 0 }, 'il-old', /JobVersionError: job il-old has version 0/],
        [{ ...good, units: [{ ...good.units[0], selfEdit: 'x'.repeat(100_000) }] }, 'il-big', /InvalidJobError: job il-big: the data is \d+ bytes/],
        [good, 'il-0000000000000000000000000000000000000000', /data hashes to il-/],
        ['not even an object', 'il-string', /InvalidJobError: job il-string: the data must be an object/],
      ];
      for (const [data, id, why] of cases) {
        const { state, job } = await finished(await add(data, id));
        expect(state, id).toBe('failed');
        expect(job.failedReason, id).toMatch(why);
        expect(job.attemptsMade, `${id}: not retried`).toBe(1);
      }
      const { state, job } = await finished(await add(good, jobId(good)));
      expect(state).toBe('completed');
      expect(job.returnvalue.results[0].score).toBe(score('r1/t0/e0/s0', 0));
    });

    it('opens model folders only under --allow-path (symbolic links resolved), and refuses another model by its hash', async () => {
      const { redis, add, finished } = await fresh();
      const allowed = join(work, 'allowed');
      mkdirSync(allowed, { recursive: true });
      symlinkSync(otherModel, join(allowed, 'link-out'));
      const strict = await workerOn(redis.url, 'W2', { log: wlog.log, allowPaths: [allowed] });
      const outside = await jobData({ model: { dir: otherModel, hash: await modelHash(otherModel) } });
      const viaLink = await jobData({ model: { dir: join(allowed, 'link-out'), hash: await modelHash(otherModel) } });
      for (const data of [outside, viaLink]) {
        const { state, job } = await finished(await add(data, jobId(data)));
        expect(state).toBe('failed');
        expect(job.failedReason).toMatch(/PathNotAllowedError: job il-\w+ names the model folder .* outside the folders this worker may open/);
        expect(job.attemptsMade).toBe(1);
      }
      await strict.close();
      // Without --allow-path: the job's own run directory and model folder, and no judge elsewhere.
      await workerOn(redis.url, 'W3', { log: wlog.log });
      const judged = await jobData({
        domain: {
          kind: 'knowledge',
          grader: `judge:${otherModel}`,
          inner: {
            lora: { r: 2, alpha: 4, dropout: 0, targets: ['q_proj'] },
            lr: 1e-3,
            epochs: 1,
            batchSize: 1,
            gradAccum: 1,
            schedule: 'linear',
            warmupSteps: 0,
            maxGradNorm: 1,
            answerTokens: 4,
          },
        },
        units: [{ key: 'r1/p0/e0/s0', seed: 0, selfEdit: 'x', context: { title: 'T', context: 'C', texts: ['t'], questions: [] } }],
      });
      let r = await finished(await add(judged, jobId(judged)));
      expect(r.job.failedReason).toMatch(/PathNotAllowedError: job il-\w+ names the judge model .*other-model.*pass --allow-path/);
      // Another model at the named folder: refused by content hash, and retried (another worker may see the right one).
      const wrongHash = await jobData({ model: { dir: modelDir, hash: await modelHash(otherModel) } });
      r = await finished(await add(wrongHash, jobId(wrongHash)));
      expect(r.job.failedReason).toMatch(/holds another model than the coordinator's/);
      expect(r.job.attemptsMade).toBe(3);
    });
  });

  describe('what --queue reaches', () => {
    let http: Server;
    let httpPort: number;
    beforeAll(async () => {
      http = createServer((_req, res) => res.writeHead(400).end('Bad Request'));
      await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
      httpPort = (http.address() as { port: number }).port;
      closers.push(() => new Promise((r) => http.close(r)));
    });

    it('a password in the URL reaches a requirepass Redis and an ACL user; the password is never shown', async () => {
      const secret = 'S3cr3t-pa55word';
      const withPass = await redisFor({ password: secret });
      await checkRedis(withPass.url);
      const acl = await redisFor({ user: { name: 'seal', password: secret } });
      await checkRedis(acl.url);
      expect(redactUrl(acl.url)).toBe(`redis://seal:***@127.0.0.1:${acl.port}`);
      expect(redactUrl('redis://u:p@[bad')).toBe('redis://***@[bad');
      const wrong = acl.url.replace(secret, 'nope');
      await expect(checkRedis(wrong)).rejects.toThrow(/^RedisAuthError: Redis at redis:\/\/seal:\*\*\*@127\.0\.0\.1:\d+ refused the URL's user and password/);
      await expect(checkRedis(withPass.plainUrl)).rejects.toThrow(/^RedisAuthError: .* wants a password .*redis:\/\/:password@host:port/);
      for (const url of [wrong, withPass.plainUrl]) {
        const e = await checkRedis(url).catch((x: Error) => x);
        expect(String((e as Error).message)).not.toContain(secret);
      }
    });

    it('names a Redis without the commands BullMQ needs, a port that is not Redis, a URL that is not redis://', async () => {
      const limited = await redisFor({ user: { name: 'ro', password: 'pw', rules: '~* &* +@all -@scripting' } });
      await expect(checkRedis(limited.url)).rejects.toThrow(/^RedisCommandsError: .*NOPERM.*scripting \(EVAL, EVALSHA\)/);
      await expect(checkRedis(`redis://127.0.0.1:${httpPort}`)).rejects.toThrow(/^NotRedisError: redis:\/\/127\.0\.0\.1:\d+ answered, but not as Redis does/);
      await expect(checkRedis(`http://127.0.0.1:${httpPort}`)).rejects.toThrow(/^QueueUrlError: --queue takes a redis:\/\/ or rediss:\/\/ URL/);
      await expect(checkRedis('http://u:hunter2@h:1')).rejects.toThrow(/got "http:\/\/u:\*\*\*@h:1\/"/);
    });

    it('warns by name of a Redis on another machine without a password, not of a local one or one with a password', () => {
      expect(insecureWarning('redis://10.0.0.5:6379', 'worker W')).toMatch(
        /^warning: worker W connects to Redis at redis:\/\/10\.0\.0\.5:6379 without authentication/,
      );
      expect(insecureWarning('redis://127.0.0.1:6379', 'worker W')).toBeNull();
      expect(insecureWarning('redis://localhost', 'worker W')).toBeNull();
      expect(insecureWarning('redis://[::1]:6379', 'worker W')).toBeNull();
      expect(insecureWarning('rediss://seal:pw@10.0.0.5:6380', 'the coordinator')).toBeNull();
      // A password over plain redis://: fine on a private network, a warning naming TLS elsewhere (never the password).
      for (const host of ['10.0.0.5', '172.20.1.1', '192.168.1.9', 'redis', 'redis.svc.cluster.local', '[fd00::5]'])
        expect(insecureWarning(`redis://seal:pw@${host}:6379`, 'worker W'), host).toBeNull();
      for (const host of ['203.0.113.7', '172.32.0.1', 'redis.example.org', '[2001:db8::1]']) {
        const warning = insecureWarning(`redis://seal:hunter2@${host}:6379`, 'the coordinator');
        expect(warning, host).toMatch(
          /^warning: the coordinator sends the Redis password and every job in clear text \(redis:\/\/, no TLS\) to redis:\/\/seal:\*\*\*@/,
        );
        expect(warning).toMatch(/over TLS \(tls-port\) and use rediss:\/\//);
        expect(warning).not.toContain('hunter2');
        expect(insecureWarning(`rediss://seal:hunter2@${host}:6380`, 'the coordinator')).toBeNull();
      }
    });
  });

  describe("Redis's faults mid-round: the round records exactly the undisturbed round's results", () => {
    const N = 20; // 10 jobs of 2

    it('undisturbed', async () => {
      const redis = await redisFor();
      await workerOn(redis.url, 'U1');
      await workerOn(redis.url, 'U2');
      const { records, done } = round(await open(redis.url, logger()), N);
      await done;
      expect(records).toEqual(expected(N));
    });

    it('kill -9 of Redis mid-round, restarted from its AOF', async () => {
      const redis = await redisFor({ appendonly: true });
      const clog = logger();
      await workerOn(redis.url, 'A1');
      await workerOn(redis.url, 'A2');
      let killed: Promise<void> | null = null;
      const { records, done } = round(await open(redis.url, clog), N, (count) => {
        if (count >= 4 && !killed) killed = redis.kill().then(() => sleep(500).then(() => redis.restart()));
      });
      await done;
      expect(killed).not.toBeNull();
      expect(records).toEqual(expected(N));
    });

    it('Redis restarted without persistence (every job lost): the pending jobs are enqueued again', async () => {
      const redis = await redisFor();
      const clog = logger();
      await workerOn(redis.url, 'B1');
      await workerOn(redis.url, 'B2');
      let killed: Promise<void> | null = null;
      const { records, done } = round(await open(redis.url, clog), N, (count) => {
        if (count >= 4 && !killed) killed = redis.kill().then(() => redis.restart());
      });
      await done;
      expect(records).toEqual(expected(N));
      expect(clog.lines.join('\n')).toMatch(/pending jobs? of this round vanished from Redis .*: enqueued again/);
    });

    it(`Redis unreachable for ${OUTAGE_SECONDS} s: coordinator and workers say so, wait, and go on`, async () => {
      const redis = await redisFor({ appendonly: true });
      const clog = logger();
      const wlog = logger();
      await workerOn(redis.url, 'C1', { log: wlog.log });
      await workerOn(redis.url, 'C2', { log: wlog.log });
      let outage: Promise<void> | null = null;
      const { records, done } = round(await open(redis.url, clog), N, (count) => {
        if (count >= 4 && !outage) outage = redis.kill().then(() => sleep(OUTAGE_SECONDS * 1000).then(() => redis.restart()));
      });
      await done;
      expect(records).toEqual(expected(N));
      const c = clog.lines.join('\n');
      expect(c).toMatch(/Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable .*; waiting for it/);
      expect(c).toMatch(/Redis is back after \d+ s/);
      const w = wlog.lines.join('\n');
      expect(w).toMatch(/worker C\d: Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable .*; waiting for it/);
      await until('the workers to see Redis back', () => /worker C\d: Redis is back after \d+ s/.test(wlog.lines.join('\n')), 15);
    });

    it('Redis away longer than --redis-timeout: the round stops with a RedisUnreachableError saying that a re-run resumes', async () => {
      const redis = await redisFor({ appendonly: true });

      const clog = logger();
      await workerOn(redis.url, 'E1');
      const q = await InnerLoopQueue.open(redis.url, { origin, log: clog.log, sweepMs: 500, backoffMs: 200, redisTimeoutS: 2 });
      let killedAt = 0;
      const { records, done } = round(q, N, (count) => {
        if (count >= 4 && !killedAt) {
          killedAt = Date.now();
          void redis.kill();
        }
      });
      await expect(done).rejects.toThrow(
        /^RedisUnreachableError: Redis at redis:\/\/127\.0\.0\.1:\d+ has been unreachable for 2 s \(--redis-timeout\): stopping\. The results recorded so far are kept .* re-run the same command and the run resumes/,
      );
      const waited = (Date.now() - killedAt) / 1000;
      expect(waited).toBeGreaterThanOrEqual(2);
      expect(waited).toBeLessThan(15);
      expect(clog.lines.join('\n')).toMatch(/is unreachable .*; waiting for it \(up to 2 s, --redis-timeout\)/);
      // What was recorded is right; closing does not wait for the absent Redis.
      const all = expected(N);
      for (const [k, v] of records) expect(v).toBe(all.get(k));
      const t0 = Date.now();
      await q.close();
      expect(Date.now() - t0).toBeLessThan(10_000);
      // Back from its AOF: the rest of the round (as a resumed run asks) completes on a new coordinator.
      await redis.restart();
      const rest = units(N).filter((u) => !records.has(u.key));
      const again = new Map(records);
      await (await open(redis.url, logger())).runner(arcLike)(
        policy,
        domain,
        rest,
        2,
        (chunk, results) => chunk.forEach((u, i) => again.set(u.key, results[i].score)),
        () => {},
      );
      expect(again).toEqual(all);
    });

    it('Redis at its maxmemory: a RedisMemoryError that says what to change; what was recorded is right, and a re-run completes', async () => {
      const redis = await redisFor();
      const admin = new Redis(redisConnection(redis.url) as object);
      closers.push(async () => admin.disconnect());
      await workerOn(redis.url, 'D1');
      // Full before the round: nothing is enqueued or recorded.
      await admin.config('SET', 'maxmemory', '1');
      await expect(open(redis.url, logger())).rejects.toThrow(/^RedisMemoryError: .*maxmemory.*CONFIG SET maxmemory.*noeviction/);
      await admin.config('SET', 'maxmemory', '0');
      // Full mid-round.
      const q = await open(redis.url, logger());
      let filled: Promise<unknown> | null = null;
      const first = round(q, N, (count) => {
        if (count >= 4 && !filled) filled = admin.config('SET', 'maxmemory', '1');
      });
      await expect(first.done).rejects.toThrow(/^RedisMemoryError: Redis at redis:\/\/127\.0\.0\.1:\d+ is at its maxmemory/);
      const all = expected(N);
      expect(first.records.size).toBeGreaterThanOrEqual(4);
      for (const [k, v] of first.records) expect(v).toBe(all.get(k));
      // Room again: the same round (less what was recorded, as a resumed run asks) completes.
      await admin.config('SET', 'maxmemory', '0');
      const rest = units(N).filter((u) => !first.records.has(u.key));
      const second = new Map(first.records);
      await q.runner(arcLike)(
        policy,
        domain,
        rest,
        2,
        (chunk, results) => chunk.forEach((u, i) => second.set(u.key, results[i].score)),
        () => {},
      );
      expect(second).toEqual(all);
    });
  });
});
