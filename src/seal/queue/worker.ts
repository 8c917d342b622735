// The worker's side of the queue (`seal worker`): takes inner-loop jobs from Redis, checks that the
// policy folder it sees is the coordinator's (content hash), runs the chunk as the in-process loop
// would, and returns the results; BullMQ job progress follows the chunk's training steps. A worker
// killed mid-job loses nothing: its lock lapses, another worker's stalled-job check puts the job back,
// and it runs again (bounded by the job's attempts and maxStalledCount). Inner loops keep their adapters
// in GPU memory only; a worker writes no files, so jobs share nothing mutable.
//
// A job is untrusted input (whoever can write to the Redis can enqueue): before anything runs, its data
// is checked against the job schema and version (job-schema.ts), its id against its data, and the
// folders it names against those this worker may open (--allow-path); a job that fails these fails for
// good (UnrecoverableError) and the worker takes the next. While Redis is unreachable the worker says so
// once, waits, and goes on when it is back.
import { hostname } from 'node:os';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Grader } from '../knowledge/llm-judge.ts';
import type { UnitResult } from '../loop.ts';
import { Policy } from '../policy.ts';
import { answers, checkRedis, classifyRedisError, insecureWarning, isConnectionLoss, reachable, redactUrl, redisConnection } from './connection.ts';
import { workerDomain } from './domains.ts';
import { evaluateIsolating } from './failures.ts';
import { type InnerLoopJobData, type InnerLoopJobResult, QUEUE_NAME, jobId } from './job.ts';
import { DEFAULT_JOB_LIMITS, type JobLimits, PathPolicy, checkJob } from './job-schema.ts';
import { modelHash } from './model-hash.ts';

export interface InnerLoopWorkerOptions {
  url: string;
  /** Jobs at once; each holds its own copy of the policy model. */
  concurrency?: number;
  /** Shown in logs and kept on each job (BullMQ's processedBy); default host-pid. */
  name?: string;
  /** Path prefixes as the coordinator sees them → as this machine does (a shared directory mounted elsewhere). */
  pathMap?: [string, string][];
  /** BullMQ's job lock and stalled-job check (defaults 30 s and 30 s; tests shorten them). */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Stalls (a worker lost mid-job) a job survives before it fails (default 2). */
  maxStalledCount?: number;
  /**
   * Folders (this machine's paths) under which a job may make this worker open a model; default: the
   * job's own run directory and the model folder it names (after pathMap), and nothing else.
   */
  allowPaths?: string[];
  /** Limits on a job's data (default DEFAULT_JOB_LIMITS). */
  limits?: Partial<JobLimits>;
  /** The grader a job names ("containment", "exact-value", "judge:<dir>"). */
  grader: (name: string) => Promise<Grader>;
  /**
   * Runs a checked job's units (default: on the policy loaded from `dir`, as the in-process loop would).
   * Tests replace it to exercise the queue without a model.
   */
  evaluate?: (job: { dir: string; hash: string; data: InnerLoopJobData; onProgress: (fraction: number) => void }) => Promise<UnitResult[]>;
  log?: (message: string) => void;
}

export class InnerLoopWorker {
  readonly name: string;
  private readonly worker: Worker<InnerLoopJobData, InnerLoopJobResult>;
  private readonly pool: PolicyPool;
  private readonly paths: PathPolicy;
  private readonly limits: JobLimits;
  private closing: Promise<void> | null = null;
  /** When Redis stopped answering (null while it answers), and the check for its return. */
  private outage: { since: number; timer: NodeJS.Timeout } | null = null;
  private lastMemoryWarning = 0;

  private constructor(private readonly options: InnerLoopWorkerOptions) {
    this.name = options.name ?? `${hostname()}-${process.pid}`;
    const concurrency = Math.max(1, options.concurrency ?? 1);
    this.pool = new PolicyPool(concurrency);
    this.paths = new PathPolicy(options.allowPaths);
    this.limits = { ...DEFAULT_JOB_LIMITS, ...options.limits };
    this.worker = new Worker<InnerLoopJobData, InnerLoopJobResult>(QUEUE_NAME, (job) => this.process(job), {
      connection: redisConnection(options.url),
      concurrency,
      name: this.name,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: options.stalledIntervalMs ?? 30_000,
      maxStalledCount: options.maxStalledCount ?? 2,
      autorun: false,
    });
    this.worker.on('failed', (job, e) => this.log(`job ${job?.id} failed (attempt ${job?.attemptsMade} of ${job?.opts.attempts ?? 1}): ${e.message}`));
    this.worker.on('error', (e) => this.onError(e));
  }

  /** Checks the Redis (named errors: see connection.ts), connects and starts taking jobs. */
  static async start(options: InnerLoopWorkerOptions): Promise<InnerLoopWorker> {
    await checkRedis(options.url);
    const w = new InnerLoopWorker(options);
    try {
      await reachable(w.worker.waitUntilReady(), options.url);
    } catch (e) {
      await w.worker.close(true);
      throw e;
    }
    const warning = insecureWarning(options.url, `worker ${w.name}`);
    if (warning) (options.log ?? ((m) => process.stderr.write(`${m}\n`)))(warning);
    void w.worker.run();
    w.log(`ready: serving ${QUEUE_NAME} on ${redactUrl(options.url)} (concurrency ${w.worker.opts.concurrency})`);
    return w;
  }

  /** Stops taking jobs; the jobs under way finish first unless `force` (then they stall and run elsewhere). */
  close(force = false): Promise<void> {
    this.endOutage(false);
    if (force) return this.worker.close(true).then(() => this.pool.dispose());
    this.closing ??= this.worker.close().then(() => this.pool.dispose());
    return this.closing;
  }

  /** BullMQ's errors: a lost Redis once (then a note when it is back), a full one by name, the rest as they come. */
  private onError(e: Error): void {
    if (isConnectionLoss(e)) {
      if (this.outage || this.closing) return;
      this.log(
        `Redis at ${redactUrl(this.options.url)} is unreachable (${e.message}); waiting for it — jobs under way go on, results are sent when it is back`,
      );
      const since = Date.now();
      const timer = setInterval(() => {
        void answers(this.options.url).then((up) => up && this.endOutage(true));
      }, 1000);
      timer.unref();
      this.outage = { since, timer };
      return;
    }
    const named = classifyRedisError(e, this.options.url);
    if (named?.name === 'RedisMemoryError') {
      if (Date.now() - this.lastMemoryWarning > 30_000) this.log(named.message);
      this.lastMemoryWarning = Date.now();
      return;
    }
    this.log(`error: ${named?.message ?? e.message}`);
  }

  private endOutage(back: boolean): void {
    if (!this.outage) return;
    clearInterval(this.outage.timer);
    if (back) this.log(`Redis is back after ${((Date.now() - this.outage.since) / 1000).toFixed(0)} s; taking jobs again`);
    this.outage = null;
  }

  private async process(job: Job<InnerLoopJobData, InnerLoopJobResult>): Promise<InnerLoopJobResult> {
    const jobName = String(job.id);
    // Untrusted until checked: version, size, schema; then the id against the data.
    const data = checkJob(jobName, job.data, this.limits);
    const id = jobId(data);
    if (id !== job.id) throw new UnrecoverableError(`job ${job.id}'s data hashes to ${id}: it was altered, or not enqueued by seal`);
    const dir = this.mapPath(data.model.dir);
    const defaults = [this.mapPath(data.origin), dir];
    this.paths.check(id, 'the model folder', dir, defaults);
    const judge = data.domain.kind === 'knowledge' && data.domain.grader.startsWith('judge:') ? this.mapPath(data.domain.grader.slice(6)) : null;
    if (judge) this.paths.check(id, 'the judge model', judge, defaults);
    const hash = await modelHash(dir);
    if (hash !== data.model.hash) {
      throw new Error(
        `${dir} holds another model than the coordinator's ${data.model.dir} (content hash ${hash.slice(0, 12)}…, the coordinator's ${data.model.hash.slice(0, 12)}…): share the folder by path, or map it with --path-map`,
      );
    }
    // Progress at most 5 times a second: each is a Redis round trip and an event to every coordinator.
    let reported = -Infinity;
    const onProgress = (fraction: number) => {
      if (Date.now() - reported < 200) return;
      reported = Date.now();
      job.updateProgress(fraction).catch(() => {});
    };
    const started = performance.now();
    const results = await (this.options.evaluate ?? ((j) => this.evaluate(j.dir, j.hash, j.data, judge, j.onProgress)))({ dir, hash, data, onProgress });
    const seconds = (performance.now() - started) / 1000;
    this.log(`job ${id}: ${data.units.length} inner loop${data.units.length > 1 ? 's' : ''} (${data.units[0].key}…) in ${seconds.toFixed(1)} s`);
    return {
      id,
      model: hash,
      worker: this.name,
      seconds,
      results: results.map((r, i) => ({ key: data.units[i].key, score: r.score, details: r.details ?? null })),
    };
  }

  /** The chunk on the policy in `dir`, as the in-process loop runs it. */
  private async evaluate(
    dir: string,
    hash: string,
    data: InnerLoopJobData,
    judge: string | null,
    onProgress: (fraction: number) => void,
  ): Promise<UnitResult[]> {
    const policy = await this.pool.acquire(dir, hash);
    try {
      const grader = (name: string) => this.options.grader(name.startsWith('judge:') && judge ? `judge:${judge}` : name);
      const { domain, context } = await workerDomain(data.domain, policy.tokenizer, grader);
      const chunk = data.units.map((u) => ({ context: context(u.context), selfEdit: u.selfEdit, seed: u.seed }));
      return await evaluateIsolating(policy, domain, chunk, data.wide, onProgress);
    } finally {
      this.pool.release(policy, hash);
    }
  }

  private mapPath(path: string): string {
    for (const [from, to] of this.options.pathMap ?? []) {
      if (path === from || path.startsWith(`${from.replace(/\/$/, '')}/`)) return to.replace(/\/$/, '') + path.slice(from.replace(/\/$/, '').length);
    }
    return path;
  }

  private log(message: string): void {
    (this.options.log ?? ((m) => process.stderr.write(`${m}\n`)))(`worker ${this.name}: ${message}`);
  }
}

/**
 * Loaded policies, one per job under way: a job attaches its adapters to the model it holds, so jobs
 * at once need copies. Idle copies are kept for the next job of the same policy (a round's jobs share
 * one) and dropped when a job needs room for another.
 */
class PolicyPool {
  private idle: { hash: string; policy: Policy }[] = [];
  private busy = 0;

  constructor(private readonly max: number) {}

  async acquire(dir: string, hash: string): Promise<Policy> {
    this.busy++;
    const i = this.idle.findIndex((p) => p.hash === hash);
    if (i >= 0) return this.idle.splice(i, 1)[0].policy;
    while (this.idle.length > 0 && this.idle.length + this.busy > this.max) this.idle.shift()!.policy.model.dispose();
    try {
      return await Policy.load(dir);
    } catch (e) {
      this.busy--;
      throw e;
    }
  }

  release(policy: Policy, hash: string): void {
    this.busy--;
    this.idle.push({ hash, policy });
  }

  dispose(): void {
    for (const { policy } of this.idle) policy.model.dispose();
    this.idle = [];
  }
}
