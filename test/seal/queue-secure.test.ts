// `seal` on a password-protected Redis, end to end, and `--queue` pointing at the wrong thing: a
// redis-server of the test's own with an ACL user, a `seal worker` process and `seal knowledge run --queue`
// on the llama-tiny fixture (byte tokenizer), one round of 2 passages × 2 self-edits. Nothing the run
// prints (the coordinator's and the worker's stdout and stderr) or writes (every file in the run
// directory) holds the password, raw or percent-encoded. A --queue that is not a redis:// URL, a port
// that is not Redis, wrong credentials, or a user without the commands BullMQ needs: each exits non-zero
// with the named error, and the run directory is never created.
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finished, seal } from '../helpers/cli.ts';
import { tinyKnowledgeRun } from '../helpers/knowledge-run.ts';
import { HAVE_REDIS, type TestRedis, startRedis } from '../helpers/redis.ts';

const passages = [
  { title: 'Zorblat', context: 'Zorblat is a city in Quux.', questions: [{ question: 'Where is Zorblat?', answer: 'Quux' }] },
  { title: 'Mira', context: 'Mira is a red star.', questions: [{ question: 'What colour is Mira?', answer: 'red' }] },
];

/** Every file under `dir`, recursively. */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

describe.skipIf(!HAVE_REDIS)('seal on a password-protected Redis, and --queue pointing elsewhere', { timeout: 600_000 }, () => {
  // Characters a URL must percent-encode, so that both spellings are looked for.
  const password = 'Pw:S3cr3t/seal@q';
  const work = mkdtempSync(join(tmpdir(), 'seal-queue-secure-'));
  const command = tinyKnowledgeRun(
    work,
    {
      'eval-count': '1',
      'max-new-tokens': '8',
      'inner-epochs': '1',
      'answer-tokens': '4',
      conditions: 'base',
    },
    passages,
  );
  const args = (run: string, queue: string) => [...command(run), '--queue', queue];
  let redis: TestRedis;
  let limited: TestRedis;
  let http: Server;
  let httpPort: number;
  const children: ReturnType<typeof seal>[] = [];
  beforeAll(async () => {
    // The ACL rules docs/queue.md recommends.
    redis = await startRedis({ user: { name: 'seal', password, rules: '~bull:* &* +@all -@dangerous +info' } });
    limited = await startRedis({ user: { name: 'seal', password, rules: '~* &* +@all -@scripting' } });
    http = createServer((_req, res) => res.writeHead(400).end('Bad Request'));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    httpPort = (http.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await new Promise((r) => http?.close(r));
    await redis?.stop();
    await limited?.stop();
  });

  it('a run and a worker print and write the password nowhere', async () => {
    expect(redis.url).toContain(encodeURIComponent(password));
    const worker = seal(['worker', '--queue', redis.url, '--name', 'S1']);
    children.push(worker);
    let workerOut = '';
    worker.stdout!.on('data', (d) => (workerOut += d));
    worker.stderr!.on('data', (d) => (workerOut += d));
    const exited = new Promise<number | null>((r) => worker.on('exit', (code) => r(code)));
    const run = join(work, 'secure');
    const coordinator = seal(args(run, redis.url));
    children.push(coordinator);
    let stdout = '';
    coordinator.stdout!.on('data', (d) => (stdout += d));
    const result = await finished(coordinator);
    expect(result.code, result.stderr).toBe(0);
    worker.kill('SIGTERM');
    expect(await exited, workerOut).toBe(0);
    expect(workerOut).toMatch(/worker S1: ready: serving seal-inner-loops on redis:\/\/seal:\*\*\*@127\.0\.0\.1:\d+/);
    expect(workerOut).toMatch(/worker S1: job il-\w+: 2 inner loops/);
    const written = files(run);
    expect(written.map((f) => f.slice(run.length))).toEqual(expect.arrayContaining(['/config.json', '/log.jsonl', '/results.md']));
    const secrets = [password, encodeURIComponent(password)];
    const places: [string, Buffer][] = [
      ["the run's stdout", Buffer.from(stdout)],
      ["the run's stderr", Buffer.from(result.stderr)],
      ["the worker's output", Buffer.from(workerOut)],
      ...written.map((f): [string, Buffer] => [f, readFileSync(f)]),
    ];
    for (const [where, bytes] of places) for (const secret of secrets) expect(bytes.includes(secret), `${where} holds the password`).toBe(false);
  });

  it('a bad --queue is a named error, exit code 1, and no run directory', async () => {
    const wrong = redis.url.replace(encodeURIComponent(password), 'not-the-password');
    const cases: [string, RegExp][] = [
      [`http://127.0.0.1:${httpPort}`, /error: QueueUrlError: --queue takes a redis:\/\/ or rediss:\/\/ URL/],
      [`redis://127.0.0.1:${httpPort}`, /error: NotRedisError: redis:\/\/127\.0\.0\.1:\d+ answered, but not as Redis does .*check the host and port/],
      [wrong, /error: RedisAuthError: Redis at redis:\/\/seal:\*\*\*@127\.0\.0\.1:\d+ refused the URL's user and password/],
      [redis.plainUrl, /error: RedisAuthError: Redis at redis:\/\/127\.0\.0\.1:\d+ wants a password/],
      [limited.url, /error: RedisCommandsError: .*NOPERM.*give the ACL user/],
    ];
    for (const [i, [queue, why]] of cases.entries()) {
      const run = join(work, `bad-${i}`);
      const result = await finished(seal(args(run, queue)));
      expect(result.code, queue).toBe(1);
      expect(result.stderr, queue).toMatch(why);
      expect(result.stderr).not.toContain('not-the-password');
      expect(result.stderr).not.toContain(encodeURIComponent(password));
      expect(existsSync(run), `${queue} created ${run}`).toBe(false);
    }
  });
});
