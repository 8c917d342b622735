// The E-step on a Redis queue (src/seal/queue) under load, on a redis-server of its own (a free port).
//
// 1. Workers: a round of `--jobs` small jobs over 1, 2 and 4 local `seal worker` processes (`--workers`).
//    A job is `--slots` (default 1) real inner loops of the knowledge domain on the bundled tiny model,
//    made small so that the queue, not the model, is what is measured: a person of the tiny world with
//    their passage cut to its first sentence (the self-edit, the one training text, ~10 tokens) and one
//    question; the inner loop is one epoch (one AdamW step of a rank-1 LoRA on q_proj), then one greedy
//    answer token, graded by exact match — ~50 ms on a worker. Reported: jobs per minute, the time a job
//    evaluates on its worker, and with one worker the queue's overhead per job — the coordinator's wall
//    time per job less the worker's evaluation (Redis round trips, taking the job, the worker's checks and
//    the model's content hash, the result's trip back and its bookkeeping). Workers are warmed up first
//    (pipelines compiled, the model loaded). Also Redis's memory at its peak during the round (INFO
//    memory, sampled every 100 ms, above its level before the round).
// 2. Coordinator only: rounds of growing size (a quarter, half, all and twice `--jobs`) of jobs with the
//    payloads ARC and SQuAD produce (an ARC task of 3 demonstrations of 15×15 grids; a SQuAD passage with
//    its rendered training texts and 5 questions), served by stub workers in another process that check
//    each job as a real worker does and answer at once: enqueue and collect time per job, the
//    coordinator's CPU time per job and its memory (RSS, heap) at the round's peak, and Redis's peak memory.
//
// `npm run bench -- queue [--jobs 500] [--slots 1] [--workers 1,2,4] [--only workers|coordinator]`: the
// full size takes a few minutes on 2 cores; `--jobs 50` is a quick check. Runs only when named.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { DEMO, WORLD_FORMAT, exactValue, personPassage } from '../src/demo/demo.ts';
import { readTinyRecord } from '../src/demo/pretrain.ts';
import { generateWorld } from '../src/demo/world.ts';
import { loadTokenizer } from '../src/io/tokenizer.ts';
import type { ArcTask } from '../src/seal/arc/arc-data.ts';
import { type IndexedPassage, type InnerLoopConfig, KnowledgeDomain, type KnowledgeFormat, SEAL_INNER_LOOP } from '../src/seal/knowledge/domain.ts';
import type { Domain, InnerLoopUnit } from '../src/seal/loop.ts';
import type { Policy } from '../src/seal/policy.ts';
import { redisConnection, redisMemory } from '../src/seal/queue/connection.ts';
import { InnerLoopQueue } from '../src/seal/queue/coordinator.ts';
import { type JobDomain, knowledgeJobs } from '../src/seal/queue/domains.ts';
import { InnerLoopWorker } from '../src/seal/queue/worker.ts';
import type { JsonValue } from '../src/seal/run-dir.ts';
import { startRedis } from '../test/helpers/redis.ts';
import { type BenchOptions, note, report, round } from './lib.ts';

export const standalone = true;

const ROOT = join(import.meta.dirname, '..');
const MODEL = join(ROOT, 'weights', 'seal-tiny');
const STUB_ENV = 'SEAL_BENCH_QUEUE_STUB_WORKER';
/** The tiny world's format with the self-edit as the one training text. */
const SMALL_FORMAT: KnowledgeFormat = { ...WORLD_FORMAT, trainSequences: (selfEdit) => [selfEdit] };

interface Args {
  jobs: number;
  slots: number;
  workers: number[];
  only: 'workers' | 'coordinator' | null;
}

function parseArgs(words: string[]): Args {
  const a: Args = { jobs: 500, slots: 1, workers: [1, 2, 4], only: null };
  for (let i = 0; i < words.length; i++) {
    const [flag, value] = [words[i], words[i + 1]];
    if (flag === '--jobs') a.jobs = Number(value);
    else if (flag === '--slots') a.slots = Number(value);
    else if (flag === '--workers') a.workers = value.split(',').map(Number);
    else if (flag === '--only') a.only = value as Args['only'];
    else throw new Error(`bench queue: unknown argument ${flag} (--jobs N, --slots S, --workers 1,2,4, --only workers|coordinator)`);
    i++;
  }
  if (!(a.jobs >= 1 && a.slots >= 1 && a.workers.every((n) => n >= 1))) throw new Error('bench queue: --jobs, --slots and --workers must be positive');
  return a;
}

/** The peak of `sample()` while `during` runs, sampled every 100 ms. */
async function peakDuring<T>(sample: () => Promise<number> | number, during: Promise<T>): Promise<{ value: T; peak: number }> {
  let peak = await sample();
  let done = false;
  const sampler = (async () => {
    while (!done) {
      peak = Math.max(peak, await sample());
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  try {
    return { value: await during, peak };
  } finally {
    done = true;
    await sampler;
  }
}

const MiB = (bytes: number) => bytes / (1 << 20);

function startWorker(url: string, name: string, stub = false): { child: ChildProcess; ready: Promise<void> } {
  const child = stub
    ? spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'queue.ts')], {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, [STUB_ENV]: url, SEAL_BENCH_WORKER_NAME: name },
      })
    : spawn(process.execPath, [join(ROOT, 'bin', 'seal.js'), 'worker', '--queue', url, '--name', name, '--allow-path', ROOT], {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
  let stderr = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      stderr += d;
      if (stderr.includes(`worker ${name}: ready`)) resolve();
    });
    child.on('exit', (code) => reject(new Error(`worker ${name} exited (${code}): ${stderr}`)));
  });
  return { child, ready };
}

async function stopWorkers(workers: ChildProcess[]): Promise<void> {
  for (const w of workers) w.kill('SIGTERM');
  await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode !== null || w.signalCode !== null ? r(null) : w.once('exit', r)))));
  workers.length = 0;
}

/** Part 1: real inner loops on the tiny model, over 1, 2, 4 worker processes. */
async function withWorkers(opts: BenchOptions, a: Args, url: string, admin: Redis): Promise<void> {
  const world = generateWorld(readTinyRecord(MODEL).world);
  const tokenizer = await loadTokenizer(MODEL);
  // Small jobs: a person's passage cut to its first sentence, one of their questions, no companions; an
  // inner loop of one epoch (one optimizer step of a rank-1 LoRA on q_proj over those few tokens), then
  // one greedy answer token, graded. What is measured is the queue around jobs that cost little.
  const people = world.eval.map(personPassage).map((p) => ({ ...p, context: `${p.context.split('. ')[0]}.`, questions: p.questions.slice(0, 1) }));
  const inner: InnerLoopConfig = { ...DEMO.inner, lora: { r: 1, alpha: 2, dropout: 0, targets: ['q_proj'] }, epochs: 1, answerTokens: 1 };
  const domain = new KnowledgeDomain(tokenizer, SMALL_FORMAT, inner, exactValue, () => []);
  const policy = { dir: MODEL } as Policy; // the coordinator needs only the policy's folder
  // `count` jobs of `slots` units: each unit a person, their first sentence as the self-edit.
  const units = (tag: string, count: number): InnerLoopUnit<IndexedPassage>[] =>
    Array.from({ length: count * a.slots }, (_, i) => {
      const index = i % people.length;
      const passage = people[index];
      return {
        key: `${tag}/p${index}/e0/s${i}`,
        context: { index, passage },
        contextId: `p${index}`,
        selfEditIndex: 0,
        seedIndex: i,
        selfEdit: passage.context,
        seed: i,
      };
    });
  const queue = await InnerLoopQueue.open(url, { origin: ROOT });
  const workers: ChildProcess[] = [];
  try {
    const runner = queue.runner(knowledgeJobs('exact-value'));
    const timedRun = async (tag: string, count: number) => {
      let workerSeconds = 0;
      const started = performance.now();
      await runner(
        policy,
        domain,
        units(tag, count),
        a.slots,
        (done, _r, seconds) => (workerSeconds += seconds * done.length),
        () => {},
      );
      return { wall: (performance.now() - started) / 1000, workerSeconds };
    };
    for (const n of a.workers) {
      await stopWorkers(workers);
      const started = Array.from({ length: n }, (_, k) => startWorker(url, `bench-${n}-${k + 1}`));
      workers.push(...started.map((w) => w.child));
      await Promise.all(started.map((w) => w.ready));
      // Warm-up: a job per worker (each compiles its pipelines and loads the model).
      await timedRun(`warm${n}`, n);
      const base = (await redisMemory(admin)).used;
      const { value, peak } = await peakDuring(async () => (await redisMemory(admin)).used, timedRun(`timed${n}`, a.jobs));
      const { wall, workerSeconds } = value;
      const perJob = wall / a.jobs;
      const evaluating = workerSeconds / a.jobs;
      report(
        opts,
        {
          bench: 'queue',
          part: 'workers',
          workers: n,
          jobs: a.jobs,
          slots: a.slots,
          seconds: wall,
          jobs_per_minute: (60 * a.jobs) / wall,
          job_seconds: evaluating,
          overhead_s: n === 1 ? perJob - evaluating : null,
          redis_peak_mib: MiB(peak - base),
        },
        `${n} worker${n > 1 ? 's' : ' '}  ${a.jobs} jobs of ${a.slots} inner loop${a.slots > 1 ? 's' : ''} in ${round(wall)} s: ${round((60 * a.jobs) / wall)} jobs/min; ` +
          `a job evaluates in ${round(evaluating)} s` +
          (n === 1 ? `, queue overhead ${round(1000 * (perJob - evaluating))} ms per job` : '') +
          `; Redis peak +${round(MiB(peak - base))} MiB`,
      );
    }
    note(opts, "Local workers share this machine's GPU (lavapipe: its CPU cores): more workers add throughput only where the device has room to spare.");
  } finally {
    await stopWorkers(workers);
    await queue.close();
  }
}

/** Payloads as the two domains produce them (the sizes matter here, not the contents). */
function payload(kind: 'arc' | 'squad', i: number): { spec: JobDomain<unknown>; context: JsonValue; selfEdit: string } {
  const rng = (k: number) => (i * 7919 + k * 104729) % 10;
  if (kind === 'arc') {
    const grid = (k: number) => Array.from({ length: 15 }, (_, r) => Array.from({ length: 15 }, (_, c) => rng(k + r * 15 + c)));
    const task: ArcTask = {
      id: `t${i}`,
      train: [0, 1, 2].map((k) => ({ input: grid(1000 * k), output: grid(1000 * k + 500) })),
      test: [{ input: grid(9000) }],
    };
    const selfEdit = JSON.stringify({ data_generation: { use_basic_augmentations: true, use_size_augmentations: false }, training: { epochs: 2 } });
    return {
      spec: { describe: (_d, us) => ({ spec: { kind: 'arc', answerTokens: 256, answerBatch: 8 }, contexts: us.map((u) => u.context as JsonValue) }) },
      context: task as unknown as JsonValue,
      selfEdit,
    };
  }
  const words = (n: number, k: number) => Array.from({ length: n }, (_, w) => `w${(i * 31 + k * 17 + w) % 997}`).join(' ');
  const passage = {
    title: `Passage ${i}`,
    context: words(180, 1), // ~1 KB, a SQuAD paragraph
    texts: [0, 1, 2, 3, 4].map((k) => words(100, 10 + k)), // the self-edit's implications and the passage
    questions: [0, 1, 2, 3, 4].map((k) => ({
      question: `${words(10, 20 + k)}?`,
      answer: words(2, 30 + k),
      prompt: words(40, 40 + k),
      graded: words(10, 50 + k),
    })),
  };
  return {
    spec: {
      describe: (_d, us) => ({ spec: { kind: 'knowledge', inner: SEAL_INNER_LOOP, grader: 'containment' }, contexts: us.map((u) => u.context as JsonValue) }),
    },
    context: passage as unknown as JsonValue,
    selfEdit: words(400, 60),
  };
}

/** Part 2: the coordinator's own cost per job as rounds grow, with stub workers in another process. */
async function coordinatorOnly(opts: BenchOptions, a: Args, url: string, admin: Redis): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-queue-model-'));
  writeFileSync(join(dir, 'config.json'), '{}');
  const policy = { dir } as Policy;
  const domain = { evaluateMany: async () => [] } as unknown as Domain<unknown>;
  const workers: ChildProcess[] = [];
  const started = [1, 2].map((k) => startWorker(url, `stub-${k}`, true));
  workers.push(...started.map((w) => w.child));
  await Promise.all(started.map((w) => w.ready));
  const queue = await InnerLoopQueue.open(url, { origin: dir, sweepMs: 5000 });
  try {
    const sizes = [...new Set([Math.ceil(a.jobs / 4), Math.ceil(a.jobs / 2), a.jobs, 2 * a.jobs])];
    for (const kind of ['arc', 'squad'] as const) {
      for (const [r, size] of sizes.entries()) {
        const made = Array.from({ length: size }, (_, i) => payload(kind, i));
        const units: InnerLoopUnit<unknown>[] = made.map((p, i) => ({
          key: `${kind}${r}/c${i}/e0/s0`,
          context: p.context,
          contextId: `c${i}`,
          selfEditIndex: 0,
          seedIndex: 0,
          selfEdit: p.selfEdit,
          seed: i,
        }));
        const bytes = Buffer.byteLength(JSON.stringify(made[0].context)) + made[0].selfEdit.length;
        global.gc?.();
        const mem0 = process.memoryUsage();
        const cpu0 = process.cpuUsage();
        const base = (await redisMemory(admin)).used;
        let firstRecord = 0;
        const t0 = performance.now();
        const round$ = queue.runner(made[0].spec)(
          policy,
          domain,
          units,
          1,
          () => {
            firstRecord ||= performance.now();
          },
          () => {},
        );
        let rssPeak = mem0.rss;
        let heapPeak = mem0.heapUsed;
        // With --expose-gc (NODE_OPTIONS), also what the round holds: the heap after a collection.
        let retainedPeak = mem0.heapUsed;
        const { peak } = await peakDuring(async () => {
          const m = process.memoryUsage();
          rssPeak = Math.max(rssPeak, m.rss);
          heapPeak = Math.max(heapPeak, m.heapUsed);
          if (global.gc) {
            global.gc();
            retainedPeak = Math.max(retainedPeak, process.memoryUsage().heapUsed);
          }
          return (await redisMemory(admin)).used;
        }, round$);
        const wall = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(cpu0);
        const cpuMs = (cpu.user + cpu.system) / 1000;
        report(
          opts,
          {
            bench: 'queue',
            part: 'coordinator',
            payload: kind,
            unit_bytes: bytes,
            jobs: size,
            seconds: wall,
            ms_per_job: (1000 * wall) / size,
            first_result_ms: firstRecord ? firstRecord - t0 : null,
            cpu_ms_per_job: cpuMs / size,
            rss_peak_mib: MiB(rssPeak - mem0.rss),
            heap_peak_mib: MiB(heapPeak - mem0.heapUsed),
            heap_retained_peak_mib: global.gc ? MiB(retainedPeak - mem0.heapUsed) : null,
            redis_peak_mib: MiB(peak - base),
          },
          `coordinator  ${kind} (${round(bytes / 1024)} KiB a unit), ${size} jobs: ${round((1000 * wall) / size)} ms/job wall, ` +
            `${round(cpuMs / size)} ms/job CPU; memory +${round(MiB(rssPeak - mem0.rss))} MiB RSS, +${round(MiB(heapPeak - mem0.heapUsed))} MiB heap` +
            `${global.gc ? ` (+${round(MiB(retainedPeak - mem0.heapUsed))} MiB after a collection)` : ''}; ` +
            `Redis peak +${round(MiB(peak - base))} MiB`,
        );
      }
    }
    note(opts, 'Coordinator-only rounds: stub workers (another process) check each job and answer at once, so the time is the queue machinery.');
  } finally {
    await stopWorkers(workers);
    await queue.close();
  }
}

export async function run(opts: BenchOptions): Promise<void> {
  const a = parseArgs(opts.args);
  const redis = await startRedis({ args: ['--maxmemory-policy', 'noeviction'] });
  const admin = new Redis(redisConnection(redis.url) as object);
  try {
    if (a.only !== 'coordinator') await withWorkers(opts, a, redis.url, admin);
    if (a.only !== 'workers') await coordinatorOnly(opts, a, redis.url, admin);
  } finally {
    admin.disconnect();
    await redis.stop();
  }
}

// A stub worker process for the coordinator-only part: every job checked as a real worker checks it, then
// answered at once.
if (process.env[STUB_ENV]) {
  const name = process.env.SEAL_BENCH_WORKER_NAME ?? 'stub';
  const worker = await InnerLoopWorker.start({
    url: process.env[STUB_ENV],
    name,
    concurrency: 8,
    grader: async () => {
      throw new Error('stub workers grade nothing');
    },
    evaluate: async ({ data }) => data.units.map(() => ({ score: 0.5, details: null })),
    log: (m) => {
      if (m.includes(': ready') || !m.includes(': job ')) process.stderr.write(`${m}\n`);
    },
  });
  process.on('SIGTERM', () => void worker.close().then(() => process.exit(0)));
}
