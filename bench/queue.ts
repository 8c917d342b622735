// The E-step on a Redis queue (src/seal/queue), on the bundled tiny model: jobs per minute with 1 and
// then 2 local `seal worker` processes, and the queue's overhead per job — the coordinator's wall time
// per job with one worker, less the time the worker spent evaluating it (Redis round trips, taking the
// job, the model-hash check, the result's trip back and its bookkeeping).
//
// Each job is the demo's E-step chunk: `slots` inner loops side by side (its groups of people, a
// self-edit each, 10 epochs, token-budget batches). A redis-server of its own runs on a free port.
// Workers are warmed up (pipelines compiled, the model loaded) before the timed jobs.
// `npm run bench -- queue [jobs] [slots]` (default 6 jobs of 4).
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { DEMO, WORLD_FORMAT, exactValue, personPassage } from '../src/demo/demo.ts';
import { readTinyRecord } from '../src/demo/pretrain.ts';
import { TINY_INNER_LOOP } from '../src/demo/recipe.ts';
import { generateWorld } from '../src/demo/world.ts';
import { loadTokenizer } from '../src/io/tokenizer.ts';
import { type IndexedPassage, KnowledgeDomain } from '../src/seal/knowledge/domain.ts';
import type { InnerLoopUnit } from '../src/seal/loop.ts';
import type { Policy } from '../src/seal/policy.ts';
import { InnerLoopQueue } from '../src/seal/queue/coordinator.ts';
import { knowledgeJobs } from '../src/seal/queue/domains.ts';
import { startRedis } from '../test/helpers/redis.ts';
import { type BenchOptions, note, report, round } from './lib.ts';

const ROOT = join(import.meta.dirname, '..');
const MODEL = join(ROOT, 'weights', 'seal-tiny');

function startWorker(url: string, name: string): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'seal.js'), 'worker', '--queue', url, '--name', name], {
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

export async function run(opts: BenchOptions): Promise<void> {
  const jobs = Number(opts.args[0] ?? 6);
  const slots = Number(opts.args[1] ?? 4);
  const world = generateWorld(readTinyRecord(MODEL).world);
  const tokenizer = await loadTokenizer(MODEL);
  const G = TINY_INNER_LOOP.peoplePerAdapter;
  const people = world.eval.map(personPassage);
  // A context's companions: the other people of its group, as in the demo.
  const companions = (c: IndexedPassage) => people.slice(c.index, c.index + G).filter((_, k) => k > 0);
  const domain = new KnowledgeDomain(tokenizer, WORLD_FORMAT, DEMO.inner, exactValue, companions);
  const policy = { dir: MODEL } as Policy; // the coordinator needs only the policy's folder
  // `count` jobs of `slots` units: each unit a group's first person, its passage as the self-edit.
  const units = (tag: string, count: number): InnerLoopUnit<IndexedPassage>[] =>
    Array.from({ length: count * slots }, (_, i) => {
      const index = (i % Math.floor(people.length / G)) * G;
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

  const redis = await startRedis();
  const workers: ChildProcess[] = [];
  const queue = await InnerLoopQueue.open(redis.url, { origin: `bench-queue-${process.pid}` });
  try {
    const runner = queue.runner(knowledgeJobs('exact-value'));
    const timedRun = async (tag: string, count: number) => {
      let workerSeconds = 0;
      const started = performance.now();
      await runner(
        policy,
        domain,
        units(tag, count),
        slots,
        (done, _r, seconds) => (workerSeconds += seconds * done.length),
        () => {},
      );
      return { wall: (performance.now() - started) / 1000, workerSeconds };
    };
    for (const n of [1, 2]) {
      while (workers.length < n) {
        const w = startWorker(redis.url, `bench-${workers.length + 1}`);
        workers.push(w.child);
        await w.ready;
      }
      // Warm-up: a job per worker (each compiles its pipelines and loads the model).
      await timedRun(`warm${n}`, n);
      const { wall, workerSeconds } = await timedRun(`timed${n}`, jobs);
      const perJob = wall / jobs;
      const evaluating = workerSeconds / jobs;
      report(
        opts,
        {
          bench: 'queue',
          workers: n,
          jobs,
          slots,
          seconds: wall,
          jobs_per_minute: (60 * jobs) / wall,
          job_seconds: evaluating,
          overhead_s: n === 1 ? perJob - evaluating : null,
        },
        `${n} worker${n > 1 ? 's' : ' '}  ${jobs} jobs of ${slots} inner loops in ${round(wall)} s: ${round((60 * jobs) / wall)} jobs/min; a job evaluates in ${round(evaluating)} s` +
          (n === 1 ? `, queue overhead ${round(1000 * (perJob - evaluating))} ms per job` : ''),
      );
    }
    note(opts, "Local workers share this machine's GPU (lavapipe: its CPU cores): a second worker adds throughput only where the device has room to spare.");
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.once('exit', r)))));
    await queue.close();
    await redis.stop();
  }
}
