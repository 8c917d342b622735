// The coordinator's side of the queue: the E-step's inner loops as BullMQ jobs (an InnerLoopRunner that
// restEm uses in place of running them in this process). A round's pending units are cut into the chunks
// the in-process loop would run, one job each; results come back in any order, are checked against
// their job, handed to the round log (which appends them to the run log), and only then removed from
// Redis. So nothing is lost when this process dies: jobs keep running on the workers, finished ones wait
// in Redis, and the same command re-run enqueues the same jobs (the same ids: no duplicates) and collects
// them without running a finished unit again.
import { resolve } from 'node:path';
import { type Job, Queue, QueueEvents } from 'bullmq';
import { type InnerLoopRunner, chunkWidth } from '../loop.ts';
import { redisConnection, reachable } from './connection.ts';
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
  log?: (message: string) => void;
}

/** Finished jobs the coordinator never collected (it was stopped for good) leave Redis after a week. */
const KEEP_SECONDS = 7 * 24 * 3600;

export class InnerLoopQueue {
  private constructor(
    readonly url: string,
    private readonly queue: Queue<InnerLoopJobData, InnerLoopJobResult>,
    private readonly events: QueueEvents,
    private readonly options: InnerLoopQueueOptions,
  ) {}

  static async open(url: string, options: InnerLoopQueueOptions): Promise<InnerLoopQueue> {
    const connection = redisConnection(url);
    const queue = new Queue<InnerLoopJobData, InnerLoopJobResult>(QUEUE_NAME, { connection });
    const events = new QueueEvents(QUEUE_NAME, { connection });
    // One listener per job in flight (waitUntilFinished): a round has hundreds.
    queue.setMaxListeners(0);
    events.setMaxListeners(0);
    queue.on('error', () => {}); // connection errors surface in the calls that need Redis
    events.on('error', () => {});
    try {
      await reachable(Promise.all([queue.waitUntilReady(), events.waitUntilReady()]), url);
    } catch (e) {
      await Promise.allSettled([queue.close(), events.close()]);
      throw e;
    }
    return new InnerLoopQueue(url, queue, events, options);
  }

  /** The runner for restEm: each chunk of `parallel` inner loops a job described by `jobs`. */
  runner<C>(jobs: JobDomain<C>): InnerLoopRunner<C> {
    return async (policy, domain, units, parallel, onResults, onProgress) => {
      const width = chunkWidth(domain, parallel);
      const dir = resolve(policy.dir);
      const model = { dir, hash: await modelHash(dir) };
      const chunks = Array.from({ length: Math.ceil(units.length / width) }, (_, c) => units.slice(c * width, (c + 1) * width));
      const work = chunks.map((chunk) => {
        const { spec, contexts } = jobs.describe(domain, chunk);
        const data: InnerLoopJobData = {
          version: JOB_VERSION,
          origin: this.options.origin,
          model,
          domain: spec,
          wide: width > 1,
          units: chunk.map((u, i) => ({ key: u.key, seed: u.seed, selfEdit: u.selfEdit, context: contexts[i] })),
        };
        return { chunk, data, id: jobId(data) };
      });
      const enqueued = await this.enqueue(work);

      // Progress: the fraction each job in flight reports, as units.
      const fractions = new Map(work.map((w) => [w.id, 0]));
      const sizes = new Map(work.map((w) => [w.id, w.chunk.length]));
      const report = () => onProgress([...fractions].reduce((sum, [id, f]) => sum + f * sizes.get(id)!, 0));
      const onJobProgress = ({ jobId: id, data }: { jobId: string; data: unknown }) => {
        if (!fractions.has(id) || typeof data !== 'number') return;
        fractions.set(id, Math.min(1, Math.max(0, data)));
        report();
      };
      const onStalled = ({ jobId: id }: { jobId: string }) => {
        if (fractions.has(id)) this.options.log?.(`job ${id} stalled (its worker stopped answering); it goes back to the queue`);
      };
      this.events.on('progress', onJobProgress);
      this.events.on('stalled', onStalled);

      const failures: string[] = [];
      try {
        await Promise.all(
          work.map(async ({ chunk, data, id }, k) => {
            let result: InnerLoopJobResult;
            try {
              result = await enqueued[k].waitUntilFinished(this.events);
            } catch (e) {
              failures.push(`job ${id} (${chunk[0].key}${chunk.length > 1 ? ` and ${chunk.length - 1} more` : ''}): ${(e as Error).message}`);
              fractions.delete(id);
              return;
            }
            const problem = resultProblem(data, id, result);
            if (problem) {
              // Not recorded; removed, so that a re-run runs it again.
              failures.push(`job ${id}: ${problem}`);
              await this.queue.remove(id);
              return;
            }
            fractions.delete(id);
            onResults(
              chunk,
              result.results.map((r) => ({ score: r.score, details: r.details })),
              result.seconds / chunk.length,
            );
            // Logged: Redis need not keep it.
            await this.queue.remove(id);
          }),
        );
      } finally {
        this.events.off('progress', onJobProgress);
        this.events.off('stalled', onStalled);
      }
      if (failures.length) {
        throw new Error(
          `${failures.length} of ${work.length} inner-loop jobs failed for good:\n  ${failures.join('\n  ')}\n` +
            'The units that finished are logged. Fix what the workers report, then re-run the same command: it retries these jobs.',
        );
      }
    };
  }

  /** Adds the jobs; those already there (an earlier coordinator's) are kept, except failed ones, which start afresh. */
  private async enqueue(work: { data: InnerLoopJobData; id: string }[]): Promise<Job<InnerLoopJobData, InnerLoopJobResult>[]> {
    for (const { id } of work) {
      const old = await this.queue.getJob(id);
      if (old && (await old.isFailed())) await old.remove();
    }
    const attempts = this.options.attempts ?? 3;
    return this.queue.addBulk(
      work.map(({ data, id }) => ({
        name: data.domain.kind,
        data,
        opts: {
          jobId: id,
          attempts,
          backoff: { type: 'exponential', delay: this.options.backoffMs ?? 5000 },
          removeOnComplete: { age: KEEP_SECONDS },
          removeOnFail: { age: KEEP_SECONDS },
        },
      })),
    );
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.events.close(), this.queue.close()]);
  }
}
