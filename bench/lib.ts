// Shared benchmark helpers: GPU timing, output in text or JSON lines, and random operands.
import { engine } from '../src/gpu/engine.ts';
import { type DType, type Tensor, tensor } from '../src/tensor/index.ts';
import { Rng } from '../src/util/random.ts';

export interface BenchOptions {
  /** One JSON object per measurement on its own line, nothing else on stdout. */
  json: boolean;
  /** Arguments after the benchmark's name. */
  args: string[];
}

/** A benchmark module: bench/<name>.ts exports `run` (see bench/run.ts). */
export type Bench = (opts: BenchOptions) => Promise<void>;

/** Prints one measurement: a JSON line with --json, otherwise the human text (or the fields). */
export function report(opts: BenchOptions, fields: Record<string, unknown>, text?: string): void {
  if (opts.json) console.log(JSON.stringify(fields));
  else
    console.log(
      text ??
        Object.entries(fields)
          .map(([k, v]) => `${k}=${typeof v === 'number' ? round(v) : JSON.stringify(v)}`)
          .join(' '),
    );
}

/** Three significant digits, for tables. */
export function round(x: number): number {
  return x === 0 || !Number.isFinite(x) ? x : Number(x.toPrecision(3));
}

/** Human-only notes (stderr with --json, so stdout stays one object per line). */
export function note(opts: BenchOptions, text: string): void {
  (opts.json ? console.error : console.log)(text);
}

/**
 * Seconds per call of `record` (which records GPU work without waiting), by wall clock around submit and
 * wait: batches of calls in one submit, sized to last about
 * `batchSeconds`; the median over `reps` batches. (Two untimed calls first: pipelines compile, then a
 * call sizes the batches.) The submit-and-wait round trip is spread over the batch.
 *
 * While awaiting, Dawn's Node bindings poll on the JavaScript thread, which takes a core from lavapipe's
 * worker threads; cmd.sync() sleeps through most of a wait it has seen before (Commands.settle), as in an
 * application, so a batch of a new size runs once untimed first. Sleeping here as well stacked the two
 * naps: one-call batches (products over ~0.25 s) measured 1.5–2× their time, e.g. 2048³ f32 at about half
 * of 1024³'s GFLOP/s, where the kernel's CPU time per FLOP is the same.
 */
export async function timeGpu(record: () => void, { reps = 5, batchSeconds = 0.4 }: { reps?: number; batchSeconds?: number } = {}): Promise<number> {
  const { cmd } = engine();
  record(); // compiles the pipelines
  await cmd.sync();
  const t0 = performance.now();
  record();
  await cmd.sync();
  const once = Math.max(1e-6, (performance.now() - t0) / 1000);
  const calls = Math.max(1, Math.min(1000, Math.round(batchSeconds / once)));
  const batch = async () => {
    const start = performance.now();
    for (let i = 0; i < calls; i++) record();
    await cmd.sync();
    return (performance.now() - start) / 1000 / calls;
  };
  if (calls > 1) await batch();
  const times: number[] = [];
  for (let r = 0; r < reps; r++) times.push(await batch());
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** A tensor of N(0, scale²) values. */
export function randomTensor(shape: number[], dtype: DType = 'f32', seed = 1, scale = 1): Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.normal() * scale;
  return tensor(v, shape, dtype);
}
