// Redis killed (kill -9) mid-round and restarted from its AOF, end to end through the `seal` command: a
// redis-server of the test's own with AOF (fsync at every write), one `seal worker` process and `seal
// knowledge run --queue` on the llama-tiny fixture (byte tokenizer), a round of 1 passage × 2 self-edits,
// one inner loop a job (2 jobs). The run is made twice: undisturbed, then with Redis killed once the
// worker has taken the round's first job and restarted on the same port and directory a second later.
// The second run must complete and its log.jsonl must equal the first's line by line once only what
// differs on every run is masked: the wall-clock fields (`at`, `seconds`) and the run's own directory.
// (The in-process fault tests in queue-faults.test.ts drive the coordinator with stub inner loops; this
// one covers the processes, their reconnection and the CLI's log.)
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisConnection } from '../../src/seal/queue/connection.ts';
import { QUEUE_NAME } from '../../src/seal/queue/job.ts';
import { finished, seal } from '../helpers/cli.ts';
import { tinyKnowledgeRun } from '../helpers/knowledge-run.ts';
import { HAVE_REDIS, type TestRedis, startRedis } from '../helpers/redis.ts';

/** log.jsonl's lines with only what differs on every run masked: `at`, `seconds`, and the run's own path. */
function maskedLog(run: string): string[] {
  return readFileSync(join(run, 'log.jsonl'), 'utf8')
    .split(run)
    .join('<run>')
    .trim()
    .split('\n')
    .map((line) => JSON.stringify(JSON.parse(line, (key, value) => (key === 'at' || key === 'seconds' ? '<masked>' : value))));
}

describe.skipIf(!HAVE_REDIS)('Redis killed mid-round (kill -9) and restarted from its AOF, through the seal command', { timeout: 300_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'seal-queue-kill-'));
  let redis: TestRedis;
  let worker: ChildProcess;
  let workerErr = '';
  const spawned: ChildProcess[] = [];
  let command: (dir: string) => string[];
  const run = (dir: string) => {
    const child = seal(command(dir));
    spawned.push(child);
    return child;
  };

  beforeAll(async () => {
    redis = await startRedis({ appendonly: true });
    // One round of 1 passage × 2 self-edits, inner loops one at a time (each a job of one unit).
    command = tinyKnowledgeRun(work, {
      'eval-count': '1',
      'passages-per-round': '1',
      'max-new-tokens': '8',
      'inner-epochs': '24',
      'answer-tokens': '4',
      'mstep-batch-size': '1',
      conditions: 'base',
      parallel: '1',
      queue: redis.url,
    });
    worker = seal(['worker', '--queue', redis.url, '--name', 'W']);
    spawned.push(worker);
    worker.stdout!.resume();
    worker.stderr!.on('data', (d) => (workerErr += d));
    await new Promise<void>((resolve, reject) => {
      worker.stderr!.on('data', () => workerErr.includes('worker W: ready') && resolve());
      worker.once('exit', (code) => reject(new Error(`worker exited (${code}): ${workerErr}`)));
    });
  });
  afterAll(async () => {
    for (const child of spawned) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await redis?.stop();
  });

  it('the run completes and logs what an undisturbed run logs, line by line', async () => {
    const undisturbed = join(work, 'undisturbed');
    const first = await finished(run(undisturbed));
    expect(first.code, first.stderr).toBe(0);
    const reference = maskedLog(undisturbed);
    expect(reference.filter((l) => l.includes('"kind":"inner-loop"'))).toHaveLength(2);

    // The worker has taken the second run's first job (its inner loop takes a second or two): kill Redis;
    // the job finishes while Redis is away, its result waits in the worker, and Redis comes back from
    // its AOF a second later.
    const events = new QueueEvents(QUEUE_NAME, { connection: redisConnection(redis.url) });
    events.on('error', () => {});
    await events.waitUntilReady();
    const disturbed = join(work, 'disturbed');
    const sinceStart = workerErr.length;
    const child = run(disturbed);
    const result = finished(child);
    let runErr = '';
    child.stderr!.on('data', (d) => (runErr += d));
    const taken = new Promise<void>((resolve) => events.once('active', () => resolve()));
    await Promise.race([taken, result.then((r) => Promise.reject(new Error(`the run ended before a job was under way:\n${r.stderr}`)))]);
    await events.close(); // before the kill: with Redis away, closing would wait for it
    await redis.kill();
    await new Promise((r) => setTimeout(r, 1000));
    await redis.restart();
    const second = await Promise.race([
      result,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`the run did not finish within 120 s of Redis's restart:\n${runErr}\n--- worker:\n${workerErr}`)), 120_000),
      ),
    ]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable/);
    expect(maskedLog(disturbed)).toEqual(reference);
    // The worker ran both of the round's jobs, in order. (Whether it reports losing Redis depends on the
    // machine's speed: on a quiet one both jobs can end between its reconnects. The in-process fault tests
    // check the workers' messages over a longer outage.)
    expect(workerErr.slice(sinceStart)).toMatch(/job il-\w+: 1 inner loop \(r1\/p0\/e0\/s0…\)[\s\S]*job il-\w+: 1 inner loop \(r1\/p0\/e1\/s0…\)/);
  });
});
