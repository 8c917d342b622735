// SEAL's E-step on a Redis queue, end to end: a redis-server of the test's own, `seal worker`s in
// separate processes and `seal knowledge run --queue` on the llama-tiny fixture (byte tokenizer), rounds
// of 2 passages × 2 self-edits, 2 inner loops side by side (2 jobs a round; round 2's on the round-1
// policy folder). Every run must log exactly what the in-process run logs, key by key (jobs finish in any
// order), also when a worker is killed mid-job and when the coordinator is killed mid-round (those runs
// stop after round 1, and match the in-process run's records of it).
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisConnection } from '../../src/seal/queue/connection.ts';
import { type InnerLoopJobData, QUEUE_NAME } from '../../src/seal/queue/job.ts';
import { withByteTokenizer } from '../helpers/byte-tokenizer.ts';
import { finished, logOf, seal } from '../helpers/cli.ts';
import { HAVE_REDIS, type TestRedis, startRedis } from '../helpers/redis.ts';
import { FIXTURE } from '../model/fixture.ts';

const passages = [
  {
    title: 'Zorblat',
    context: 'Zorblat is a city in Quux. It was founded in 1820.',
    questions: [
      { question: 'Where is Zorblat?', answer: 'Quux' },
      { question: 'When was it founded?', answer: '1820' },
    ],
  },
  { title: 'Mira', context: 'Mira is a red star. Its moon is Tob.', questions: [{ question: 'What colour is Mira?', answer: 'red' }] },
  { title: 'Plon', context: 'Plon is a blue lake near Tarv.', questions: [{ question: 'What colour is Plon?', answer: 'blue' }] },
  { title: 'Kesh', context: 'Kesh is a poet born in 1901.', questions: [{ question: 'When was Kesh born?', answer: '1901' }] },
];

interface WorkerProcess {
  child: ChildProcess;
  ready: Promise<void>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

/** The run's records by key (jobs finish in any order), without times and the run's own path. */
const byKey = (run: string) => Object.fromEntries(logOf(run).map((r) => [String(r.key), r]));
/** The reference's records a run of only the first round writes. */
const firstRound = (log: Record<string, unknown>) => Object.fromEntries(Object.entries(log).filter(([k]) => k.startsWith('eval/') || k.startsWith('r1/')));

async function until(what: string, test: () => boolean | Promise<boolean>, seconds = 300): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (!(await test())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Each test starts several processes (each starts the GPU engine): minutes on a busy 2-core machine.
describe.skipIf(!HAVE_REDIS)("SEAL's E-step on a Redis queue (worker processes, the tiny fixture)", { timeout: 900_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'seal-queue-'));
  const data = join(work, 'passages.json');
  writeFileSync(data, JSON.stringify(passages));
  const model = withByteTokenizer(FIXTURE);
  // The flags of every run here (each given once: a repeated flag is a usage error).
  const args = (run: string, extra: string[] = [], rounds = 2) => [
    'knowledge',
    'run',
    '--model',
    model,
    '--data',
    data,
    '--eval-data',
    data,
    '--run',
    run,
    '--eval-count',
    '1',
    '--rounds',
    String(rounds),
    '--passages-per-round',
    '2',
    '--samples',
    '2',
    '--seeds',
    '1',
    '--max-new-tokens',
    '16',
    '--inner-epochs',
    '2',
    '--answer-tokens',
    '6',
    '--mstep-epochs',
    '1',
    '--mstep-batch-size',
    '2',
    '--mstep-grad-accum',
    '1',
    '--conditions',
    'base',
    '--parallel',
    '2',
    ...extra,
  ];
  let redis: TestRedis;
  let queue: Queue<InnerLoopJobData>;
  let events: QueueEvents;
  const spawned: ChildProcess[] = [];
  let reference: Record<string, unknown>;
  const start = (argv: string[]) => {
    const child = seal(argv);
    spawned.push(child);
    return child;
  };
  // A run of round 1 only, on the queue.
  const roundOne = (run: string) => start(args(run, ['--queue', redis.url], 1));

  const worker = (name: string, ...extra: string[]): WorkerProcess => {
    const child = start(['worker', '--queue', redis.url, '--name', name, ...extra]);
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.stdout!.resume();
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    const ready = until(`worker ${name} to start`, () => {
      if (child.exitCode !== null) throw new Error(`worker ${name} exited: ${stderr}`);
      return stderr.includes(`worker ${name}: ready`);
    });
    return { child, ready, exit, stderr: () => stderr };
  };
  // SIGTERM a worker only once it is ready: before that it has no handler and the signal kills it (a run
  // can end before a worker started late has finished starting).
  const stop = async (...workers: WorkerProcess[]) => {
    for (const w of workers) await w.ready;
    for (const w of workers) w.child.kill('SIGTERM');
    for (const w of workers) expect(await w.exit, w.stderr()).toEqual({ code: 0, signal: null });
  };
  const firstEvent = (name: 'progress' | 'active', match: (id: string) => boolean = () => true) =>
    new Promise<string>((resolve) => {
      const on = ({ jobId }: { jobId: string }) => {
        if (!match(jobId)) return;
        events.off(name, on);
        resolve(jobId);
      };
      events.on(name, on);
    });

  // An event the test waits for, or a clear failure if the run ends first (rather than waiting out the timeout).
  const beforeExit = <T>(event: Promise<T>, run: Promise<{ code: number | null; stderr: string }>) =>
    Promise.race([event, run.then((r) => Promise.reject(new Error(`the run ended (code ${r.code}) before the awaited job event:\n${r.stderr}`)))]);

  beforeAll(async () => {
    redis = await startRedis();
    queue = new Queue(QUEUE_NAME, { connection: redisConnection(redis.url) });
    events = new QueueEvents(QUEUE_NAME, { connection: redisConnection(redis.url) });
    await events.waitUntilReady();
  });
  afterAll(async () => {
    for (const child of spawned) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await events?.close();
    await queue?.close();
    await redis?.stop();
  });

  it('two workers log what the in-process run logs, key by key; SIGTERM stops them cleanly', async () => {
    const a = worker('A');
    const b = worker('B');
    const inProcess = join(work, 'in-process');
    const local = await finished(start(args(inProcess)));
    expect(local.code, local.stderr).toBe(0);
    reference = byKey(inProcess);
    expect(Object.keys(reference).filter((k) => /\/e\d\/s\d$/.test(k))).toHaveLength(8);

    await Promise.all([a.ready, b.ready]);
    const queued = join(work, 'queued');
    const result = await finished(start(args(queued, ['--queue', redis.url])));
    expect(result.code, result.stderr).toBe(0);
    expect(byKey(queued)).toEqual(reference);
    // Both took jobs (a round's 2 jobs are enqueued together and both workers were waiting).
    expect(a.stderr()).toMatch(/job il-\w+: 2 inner loops/);
    expect(b.stderr()).toMatch(/job il-\w+: 2 inner loops/);
    // Recorded jobs leave Redis.
    expect(await queue.getJobCountByTypes('completed', 'failed', 'wait', 'active', 'delayed')).toBe(0);
    await stop(a, b);
  });

  it('a worker killed mid-job (kill -9) loses nothing: its job stalls and runs again on another worker', async () => {
    // Short locks, so that the lost job comes back within seconds.
    const fast = ['--lock-duration', '6000', '--stalled-interval', '1000', '--max-stalls', '5'];
    const a = worker('A2', ...fast);
    await a.ready;
    const run = join(work, 'worker-killed');
    const coordinator = finished(roundOne(run));
    // A job's first progress: the worker holds it, its model loaded, training under way.
    const victim = await beforeExit(firstEvent('progress'), coordinator);
    a.child.kill('SIGKILL');
    const stalled = firstEvent('active', (id) => id === victim);
    const b = worker('B2', ...fast);
    await stalled; // taken again
    const result = await coordinator;
    expect(result.code, result.stderr).toBe(0);
    expect((await a.exit).signal).toBe('SIGKILL');
    expect(result.stderr).toContain(`job ${victim} stalled`);
    expect(b.stderr()).toContain(`job ${victim}:`);
    expect(byKey(run)).toEqual(firstRound(reference));
    await stop(b);
  });

  it('the coordinator killed mid-round: re-run, it collects the jobs finished meanwhile without running them again', async () => {
    const a = worker('A3');
    const b = worker('B3');
    await Promise.all([a.ready, b.ready]);
    const run = join(work, 'coordinator-killed');
    const first = roundOne(run);
    const firstExit = finished(first);
    // Once a worker has taken a job, the round's jobs are all enqueued: kill the coordinator.
    await beforeExit(firstEvent('active'), firstExit);
    first.kill('SIGKILL');
    expect((await firstExit).signal).toBe('SIGKILL');
    // SIGTERM now: the workers finish the jobs they hold (nothing fails or stalls) and exit.
    await stop(a, b);
    expect(await queue.getJobCounts('active', 'failed')).toEqual({ active: 0, failed: 0 });
    const completed = await queue.getCompleted();
    expect(completed.length).toBeGreaterThan(0);
    const keys = completed.flatMap((j) => j.data.units.map((u) => u.key));

    // With no worker running, the re-run logs those units: from Redis, not run again.
    const second = roundOne(run);
    const secondExit = finished(second);
    const logged = () => new Set(logOf(run).map((r) => String(r.key)));
    await until('the finished jobs to be logged', () => keys.every((k) => logged().has(k)));
    const c = worker('C3');
    const result = await secondExit;
    expect(result.code, result.stderr).toBe(0);
    expect(byKey(run)).toEqual(firstRound(reference));
    await stop(c);
  });

  it('a unit whose loss diverges is logged as failed (score 0) and the round goes on', async () => {
    const a = worker('A4');
    await a.ready;
    const run = join(work, 'diverged');
    // A learning rate of 1e38: the first AdamW step moves every LoRA B entry by ~1e38, the next forward's
    // sums overflow f32 to inf and RMSNorm turns them into inf · 0 = NaN, so the loss is NaN at step 2
    // whichever unit or chunk it is. (1e30 is not enough: the residual stream stays finite, RMSNorm's
    // mean square overflows and scales every row to 0, and the loss settles at a finite log V.)
    const result = await finished(start(args(run, ['--queue', redis.url, '--inner-lr', '1e38'], 1)));
    expect(result.code, result.stderr).toBe(0);
    const log = logOf(run);
    const inner = log.filter((r) => r.kind === 'inner-loop');
    expect(inner).toHaveLength(4);
    for (const r of inner) {
      expect(r.score).toBe(0);
      expect((r.details as { failed: string }).failed).toMatch(/^TrainingDivergedError: The loss became NaN at step 2/);
    }
    expect(log.some((r) => r.kind === 'm-step')).toBe(true);
    await stop(a);
  });
});
