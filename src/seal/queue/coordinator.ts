// The coordinator's side of the queue: the E-step's inner loops as BullMQ jobs (an InnerLoopRunner that
// restEm uses in place of running them in this process). A round's pending units are cut into the chunks
// the in-process loop would run, one job each; results come back in any order, are checked against
// their job, handed to the round log (which appends them to the run log), and only then removed from
// Redis. So nothing is lost when this process dies: jobs keep running on the workers, finished ones wait
// in Redis, and the same command re-run enqueues the same jobs (the same ids: no duplicates) and collects
// them without running a finished unit again.
//
// Nor when Redis has trouble: the coordinator learns of finished jobs from Redis's event stream and, every
// `sweepMs`, by asking for each pending job's state — so a missed event costs a few seconds, and a job
// that vanished (Redis restarted without persistence, or evicted it) is enqueued again. While Redis is
// unreachable it says so once, waits, and goes on when it is back; a Redis at its maxmemory stops the
// round with a RedisMemoryError that says what to change (what was recorded before is right: only
// checked results are).
import { resolve } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { type InnerLoopRunner, type InnerLoopUnit, chunkWidth } from '../loop.ts';
import { Redis } from 'ioredis';
import {
  type RedisMemoryError,
  RedisUnreachableError,
  checkRedis,
  classifyRedisError,
  insecureWarning,
  isConnectionLoss,
  reachable,
  redactUrl,
  redisConnection,
  redisMemory,
} from './connection.ts';
import type { JobDomain } from './domains.ts';
import { type InnerLoopJobData, type InnerLoopJobResult, JOB_VERSION, QUEUE_NAME, jobId, resultProblem } from './job.ts';
import { modelHash } from './model-hash.ts';

export interface InnerLoopQueueOptions {
  /** Names the run the jobs belong to (its directory); part of every job's id. */
  origin: string;
  /** Tries per job before it fails for good (a worker's error or too many stalls; default 3). */
  attempts?: number;
  /** First retry delay, doubled each time (default 5 s). */
  backoffMs?: number;
  /** How often to ask Redis for every pending job's state, besides its events (default 5 s). */
  sweepMs?: number;
  /**
   * How long Redis may stay unreachable before the round stops with a RedisUnreachableError (default
   * DEFAULT_REDIS_TIMEOUT_S; Infinity: wait for it for ever). What was recorded stays; the same command
   * re-run goes on from there.
   */
  redisTimeoutS?: number;
  log?: (message: string) => void;
}

/** How long the coordinator waits for an unreachable Redis by default (`--redis-timeout`): an hour. */
export const DEFAULT_REDIS_TIMEOUT_S = 3600;

/** Finished jobs the coordinator never collected (it was stopped for good) leave Redis after a week. */
const KEEP_SECONDS = 7 * 24 * 3600;
/** Jobs built and enqueued together (see runner). */
const ENQUEUE_BATCH = 64;

/**
 * A job of the round. Its data (the units' contexts and self-edits, a few KiB each) is dropped once the
 * job is enqueued and built again only to enqueue it again (after Redis lost it): a pending job keeps its
 * units and id, which are all a result is checked against. Built all at once and kept, the data was what
 * grew the coordinator's heap with the round (after a collection: about twice the payload a job).
 */
type Work = { chunk: InnerLoopUnit<unknown>[]; id: string; model: { hash: string }; data?: InnerLoopJobData; build: () => InnerLoopJobData };

export class InnerLoopQueue {
  /** When Redis stopped answering (null while it answers). */
  private outageSince: number | null = null;
  /** Fires once Redis has been unreachable for longer than redisTimeoutS. */
  private outageTimer: NodeJS.Timeout | null = null;
  /** Rejected when the coordinator gives up on Redis (renewed if it comes back after all): every wait on Redis races it. */
  private gaveUp!: Promise<never>;
  private giveUp: ((e: Error) => void) | null = null;

  private constructor(
    readonly url: string,
    private readonly queue: Queue<InnerLoopJobData, InnerLoopJobResult>,
    private readonly events: QueueEvents,
    /** For INFO (memory) only. */
    private readonly admin: Redis,
    private readonly options: InnerLoopQueueOptions,
  ) {
    this.renewGaveUp();
  }

  private renewGaveUp(): void {
    this.gaveUp = new Promise<never>((_, reject) => {
      this.giveUp = (e) => {
        this.giveUp = null;
        reject(e);
      };
    });
    this.gaveUp.catch(() => {}); // handled where it is raced; unhandled when no round is under way
  }

  /** The URL as it may be shown: its password masked. */
  get shownUrl(): string {
    return redactUrl(this.url);
  }

  /** Checks the Redis (checkRedis: a named error for each way it cannot serve), then connects. */
  static async open(url: string, options: InnerLoopQueueOptions): Promise<InnerLoopQueue> {
    await checkRedis(url);
    const warning = insecureWarning(url, 'the coordinator');
    if (warning) (options.log ?? ((m) => process.stderr.write(`${m}\n`)))(warning);
    const connection = redisConnection(url);
    const queue = new Queue<InnerLoopJobData, InnerLoopJobResult>(QUEUE_NAME, { connection });
    const events = new QueueEvents(QUEUE_NAME, { connection });
    const admin = new Redis({ ...(connection as object), maxRetriesPerRequest: null, lazyConnect: true });
    // One listener per job in flight: a round has hundreds.
    queue.setMaxListeners(0);
    events.setMaxListeners(0);
    queue.on('error', () => {}); // connection errors surface in the calls that need Redis
    events.on('error', () => {});
    admin.on('error', () => {});
    try {
      await reachable(Promise.all([queue.waitUntilReady(), events.waitUntilReady(), admin.connect()]), url);
    } catch (e) {
      await Promise.allSettled([queue.close(), events.close()]);
      admin.disconnect();
      throw e;
    }
    const q = new InnerLoopQueue(url, queue, events, admin, options);
    // The admin connection notices a lost Redis first (the others' commands just wait): say so at once.
    admin.on('close', () => q.lost('waiting for results', 'connection closed'));
    admin.on('ready', () => q.back());
    return q;
  }

  private closed = false;

  /** Redis stopped answering: said once, until it is back. */
  private lost(what: string, why: string): void {
    if (this.outageSince !== null || this.closed) return;
    this.outageSince = Date.now();
    const limit = this.options.redisTimeoutS ?? DEFAULT_REDIS_TIMEOUT_S;
    this.options.log?.(
      `Redis at ${this.shownUrl} is unreachable while ${what} (${why}); waiting for it` +
        (Number.isFinite(limit) ? ` (up to ${limit} s, --redis-timeout)` : '') +
        " — the workers' jobs go on, and nothing is lost",
    );
    if (!Number.isFinite(limit)) return;
    this.outageTimer = setTimeout(() => {
      this.giveUp?.(
        new RedisUnreachableError(
          `Redis at ${this.shownUrl} has been unreachable for ${limit} s (--redis-timeout): stopping. The results recorded so far are kept in ` +
            'the run directory, and jobs finished meanwhile wait in Redis (if it persists them: appendonly yes); once Redis is back, ' +
            're-run the same command and the run resumes from there. A longer --redis-timeout waits longer.',
        ),
      );
    }, limit * 1000);
    this.outageTimer.unref();
  }

  private back(): void {
    if (this.outageSince === null || this.closed) return;
    if (this.outageTimer) clearTimeout(this.outageTimer);
    this.outageTimer = null;
    if (!this.giveUp) this.renewGaveUp();
    this.options.log?.(`Redis is back after ${((Date.now() - this.outageSince) / 1000).toFixed(0)} s; collecting again`);
    this.outageSince = null;
  }

  /** The runner for restEm: each chunk of `parallel` inner loops a job described by `jobs`. */
  runner<C>(jobs: JobDomain<C>): InnerLoopRunner<C> {
    return async (policy, domain, units, parallel, onResults, onProgress) => {
      const width = chunkWidth(domain, parallel);
      const dir = resolve(policy.dir);
      const model = { dir, hash: await modelHash(dir) };
      const chunks = Array.from({ length: Math.ceil(units.length / width) }, (_, c) => units.slice(c * width, (c + 1) * width));
      const makeWork = (chunk: InnerLoopUnit<C>[]): Work => {
        const build = (): InnerLoopJobData => {
          const { spec, contexts } = jobs.describe(domain, chunk);
          return {
            version: JOB_VERSION,
            origin: this.options.origin,
            model,
            domain: spec,
            wide: width > 1,
            units: chunk.map((u, i) => ({ key: u.key, seed: u.seed, selfEdit: u.selfEdit, context: contexts[i] })),
          };
        };
        const data = build();
        return { chunk: chunk as InnerLoopUnit<unknown>[], id: jobId(data), model, data, build };
      };
      // Built and enqueued ENQUEUE_BATCH jobs at a time, their data dropped once in Redis: the round's
      // payloads are never all in memory at once.
      const work: Work[] = [];
      for (let c = 0; c < chunks.length; c += ENQUEUE_BATCH) {
        const batch = chunks.slice(c, c + ENQUEUE_BATCH).map(makeWork);
        await this.withRedis('enqueuing the round', () => this.enqueue(batch, true));
        for (const w of batch) w.data = undefined;
        work.push(...batch);
      }
      const byId = new Map(work.map((w) => [w.id, w]));

      // Progress: the fraction each job in flight reports, as units.
      const fractions = new Map(work.map((w) => [w.id, 0]));
      const report = () => onProgress([...fractions].reduce((sum, [id, f]) => sum + f * byId.get(id)!.chunk.length, 0));
      const onJobProgress = ({ jobId: id, data }: { jobId: string; data: unknown }) => {
        if (!fractions.has(id) || typeof data !== 'number') return;
        fractions.set(id, Math.min(1, Math.max(0, data)));
        report();
      };
      const onStalled = ({ jobId: id }: { jobId: string }) => {
        if (fractions.has(id)) this.options.log?.(`job ${id} stalled (its worker stopped answering); it goes back to the queue`);
      };
      // Finished jobs named by the event stream are collected at once; the sweep finds the rest.
      const hinted = new Set<string>();
      let wake = () => {};
      const onFinished = ({ jobId: id }: { jobId: string }) => {
        if (!fractions.has(id)) return;
        hinted.add(id);
        wake();
      };
      this.events.on('progress', onJobProgress);
      this.events.on('stalled', onStalled);
      this.events.on('completed', onFinished);
      this.events.on('failed', onFinished);

      const pending = new Set(byId.keys());
      const failures: string[] = [];
      const record = (w: Work, result: InnerLoopJobResult) => {
        pending.delete(w.id);
        fractions.delete(w.id);
        onResults(
          w.chunk as InnerLoopUnit<C>[],
          result.results.map((r) => ({ score: r.score, details: r.details })),
          result.seconds / w.chunk.length,
        );
      };
      try {
        const sweepMs = this.options.sweepMs ?? 5000;
        let nextSweep = 0; // the first sweep at once: jobs an earlier coordinator left finished
        while (pending.size > 0) {
          const sweep = Date.now() >= nextSweep;
          const ids = sweep ? [...pending] : [...hinted].filter((id) => pending.has(id));
          hinted.clear();
          if (ids.length) await this.withRedis('collecting results', () => this.collect(ids, byId, pending, failures, record));
          if (sweep) {
            await this.withRedis('checking its memory', () => this.checkMemory());
            nextSweep = Date.now() + sweepMs;
          }
          if (pending.size > 0 && hinted.size === 0) {
            await new Promise<void>((r) => {
              const timer = setTimeout(r, Math.max(0, nextSweep - Date.now()));
              wake = () => {
                clearTimeout(timer);
                r();
              };
            });
            wake = () => {};
          }
        }
      } finally {
        this.events.off('progress', onJobProgress);
        this.events.off('stalled', onStalled);
        this.events.off('completed', onFinished);
        this.events.off('failed', onFinished);
      }
      if (failures.length) {
        throw new Error(
          `${failures.length} of ${work.length} inner-loop jobs failed for good:\n  ${failures.join('\n  ')}\n` +
            'The units that finished are logged. Fix what the workers report, then re-run the same command: it retries these jobs.',
        );
      }
    };
  }

  /**
   * Looks up `ids` (pending jobs): records the completed ones (then removes them from Redis), notes the
   * failed ones, and enqueues again those Redis no longer has. Safe to repeat after an error part-way:
   * a recorded job leaves `pending` in the same step.
   */
  private async collect(
    ids: string[],
    byId: Map<string, Work>,
    pending: Set<string>,
    failures: string[],
    record: (w: Work, result: InnerLoopJobResult) => void,
  ): Promise<void> {
    const states = await Promise.all(ids.map((id) => this.queue.getJobState(id)));
    const vanished: Work[] = [];
    for (const [k, id] of ids.entries()) {
      if (!pending.has(id)) continue;
      const w = byId.get(id)!;
      const state = states[k];
      if (state === 'unknown') {
        vanished.push(w);
      } else if (state === 'completed' || state === 'failed') {
        const job = await this.queue.getJob(id);
        if (!job) {
          vanished.push(w);
          continue;
        }
        if (!pending.has(id)) continue;
        if (state === 'failed') {
          pending.delete(id);
          failures.push(`job ${id} (${w.chunk[0].key}${w.chunk.length > 1 ? ` and ${w.chunk.length - 1} more` : ''}): ${job.failedReason}`);
          continue;
        }
        const problem = resultProblem({ model: w.model, units: w.chunk }, id, job.returnvalue);
        if (problem) {
          // Not recorded; removed, so that a re-run runs it again.
          pending.delete(id);
          failures.push(`job ${id}: ${problem}`);
          await this.removeQuietly(id);
          continue;
        }
        record(w, job.returnvalue as InnerLoopJobResult);
        // Logged: Redis need not keep it.
        await this.removeQuietly(id);
      }
    }
    if (vanished.length) {
      this.options.log?.(
        `${vanished.length} pending job${vanished.length > 1 ? 's' : ''} of this round vanished from Redis (restarted without persistence, or evicted by maxmemory-policy): enqueued again`,
      );
      await this.enqueue(vanished, false);
    }
  }

  /** Removes a recorded job; if Redis cannot now, it expires with the week (a re-run skips logged units anyway). */
  private async removeQuietly(id: string): Promise<void> {
    await this.queue.remove(id).catch(() => {});
  }

  private async checkMemory(): Promise<void> {
    const { used, max } = await redisMemory(this.admin);
    if (max > 0 && used >= max) throw classifyRedisError(new Error(`used_memory ${used} of maxmemory ${max} bytes`), this.url) as RedisMemoryError;
  }

  /**
   * Runs `fn`, waiting out a Redis that cannot be reached (said once, with a note when it is back) and
   * turning Redis's refusals into named errors (a full Redis: RedisMemoryError).
   */
  private async withRedis<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        // A command waits in ioredis's offline queue while Redis is away: race it against giving up.
        const value = await Promise.race([fn(), this.gaveUp]);
        this.back();
        return value;
      } catch (e) {
        if (e instanceof RedisUnreachableError) throw e;
        if (!isConnectionLoss(e)) throw classifyRedisError(e, this.url) ?? e;
        this.lost(what, (e as Error).message);
        await Promise.race([new Promise((r) => setTimeout(r, 1000)), this.gaveUp]);
      }
    }
  }

  /** Adds the jobs; those already there (an earlier coordinator's) are kept, except failed ones (`restartFailed`), which start afresh. */
  private async enqueue(work: Work[], restartFailed: boolean): Promise<void> {
    if (restartFailed) {
      for (const { id } of work) {
        const old = await this.queue.getJob(id);
        if (old && (await old.isFailed())) await old.remove();
      }
    }
    const attempts = this.options.attempts ?? 3;
    await this.queue.addBulk(
      work.map((w) => {
        const data = w.data ?? w.build(); // built again when Redis lost the job
        return {
          name: data.domain.kind,
          data,
          opts: {
            jobId: w.id,
            attempts,
            backoff: { type: 'exponential' as const, delay: this.options.backoffMs ?? 5000 },
            removeOnComplete: { age: KEEP_SECONDS },
            removeOnFail: { age: KEEP_SECONDS },
          },
        };
      }),
    );
  }

  /** Closes the connections; with Redis away, BullMQ's close would wait for it: then they are dropped after a few seconds. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.outageTimer) clearTimeout(this.outageTimer);
    this.admin.disconnect();
    let timer: NodeJS.Timeout | undefined;
    const closed = Promise.allSettled([this.events.close(), this.queue.close()]);
    const late = new Promise<'late'>((r) => {
      timer = setTimeout(() => r('late'), this.outageSince === null ? 30_000 : 3000);
    });
    try {
      // Dropped, not awaited: a disconnect waits for the connection's end, which an absent Redis may never give.
      if ((await Promise.race([closed, late])) === 'late') void Promise.allSettled([this.events.disconnect(), this.queue.disconnect()]);
    } finally {
      clearTimeout(timer);
    }
  }
}
