// seal worker: serves the E-step's inner loops that `seal knowledge run --queue` and `seal arc run --queue`
// enqueue, until SIGTERM or Ctrl-C (which let the jobs under way finish; a second one stops at once, and
// those jobs run again elsewhere).
import { containmentGrader } from '../seal/knowledge/domain.ts';
import type { Grader } from '../seal/knowledge/llm-judge.ts';
import { localJudge } from '../seal/knowledge/local-judge.ts';
import { InnerLoopWorker } from '../seal/queue/worker.ts';
import { UsageError, defineCommand } from '../util/flags.ts';

export const workerCommand = defineCommand({
  name: 'worker',
  summary: "Run inner-loop jobs from a Redis queue (the E-step of runs started with --queue) on this machine's GPU.",
  usage: 'seal worker --queue redis://user:password@host:port [--concurrency N] [--path-map /their/path=/my/path] [--allow-path /models]',
  flags: [
    {
      name: 'queue',
      type: 'string',
      required: true,
      help: 'the Redis the coordinators enqueue to, e.g. redis://seal:PASSWORD@10.0.0.5:6379 (rediss:// for TLS)',
    },
    {
      name: 'concurrency',
      type: 'int',
      min: 1,
      default: 1,
      help: 'jobs at once, each with its own copy of the policy model (on one GPU, --parallel in the run is usually the better lever)',
    },
    {
      name: 'path-map',
      type: 'list',
      default: [],
      help: 'from=to: where this machine sees a folder the coordinator names (model folders shared under another mount point)',
    },
    {
      name: 'allow-path',
      type: 'list',
      default: [],
      help: "folders (this machine's paths) a job may make this worker open: model folders, a judge model; default: the job's run directory and the model folder it names",
    },
    {
      name: 'max-job-bytes',
      type: 'int',
      min: 1,
      default: 16 * 1024 * 1024,
      help: 'largest job data (as JSON) this worker takes; a larger job fails for good',
    },
    { name: 'name', type: 'string', help: 'worker name in logs and on each job (default: host-pid)' },
    {
      name: 'lock-duration',
      type: 'int',
      min: 1,
      default: 30000,
      help: 'ms a job stays locked without a renewal before it counts as stalled (BullMQ lockDuration)',
    },
    { name: 'stalled-interval', type: 'int', min: 1, default: 30000, help: 'ms between checks for stalled jobs (BullMQ stalledInterval)' },
    { name: 'max-stalls', type: 'int', min: 0, default: 2, help: 'times a job may stall (its worker lost) before it fails (BullMQ maxStalledCount)' },
  ],
  async run(f) {
    const pathMap = f.pathMap.map((entry): [string, string] => {
      const [from, to] = entry.split('=');
      if (!from || !to) throw new UsageError(`seal worker: --path-map takes from=to entries, got "${entry}"`);
      return [from, to];
    });
    const judges = new Map<string, Promise<Grader>>();
    const grader = async (name: string): Promise<Grader> => {
      if (name === 'containment') return containmentGrader;
      if (name === 'exact-value') return (await import('../demo/demo.ts')).exactValue; // the tiny world's grader
      if (name.startsWith('judge:')) {
        const dir = name.slice(6);
        if (!judges.has(dir)) judges.set(dir, localJudge(dir));
        return judges.get(dir)!;
      }
      throw new Error(`a job names the grader "${name}", which this worker does not know: run the same seal on every machine`);
    };
    const worker = await InnerLoopWorker.start({
      url: f.queue,
      concurrency: f.concurrency,
      name: f.name,
      pathMap,
      allowPaths: f.allowPath,
      limits: { maxBytes: f.maxJobBytes },
      lockDurationMs: f.lockDuration,
      stalledIntervalMs: f.stalledInterval,
      maxStalledCount: f.maxStalls,
      grader,
    });
    await new Promise<void>((resolve, reject) => {
      let signals = 0;
      const stop = (signal: string) => {
        if (++signals === 1) {
          process.stderr.write(`worker ${worker.name}: ${signal}: finishing the jobs under way (${signal} again to stop now; they will run elsewhere)\n`);
          worker.close().then(resolve, reject);
        } else {
          worker.close(true).then(resolve, reject);
        }
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });
  },
});
