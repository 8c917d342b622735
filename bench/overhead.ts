// Fixed costs around the kernels: per dispatch (many tiny dispatches in one submit), the submit-and-wait
// round trip, reading results back, and the CPU side of recording (benny suites).
//   npm run bench -- overhead
import benny from 'benny';
import { engine } from '../src/gpu/engine.ts';
import { preprocess } from '../src/gpu/pipelines.ts';
import { kernelInterface, packParams } from '../src/gpu/kernel-interface.ts';
import { type Tensor, empty, fill } from '../src/tensor/index.ts';
import { inplaceRaw } from '../src/tensor/ops/elementwise.ts';
import { gemm } from '../src/tensor/ops/matmul.ts';
import { layout, planGemm } from '../src/tensor/ops/matmul-plan.ts';
import { type BenchOptions, note, report, round } from './lib.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Microseconds per call of `record`, `count` calls in one submit, median of `reps` submits. */
async function perDispatch(record: () => void, count: number, reps = 5): Promise<{ total: number; recording: number }> {
  const { cmd } = engine();
  record();
  await cmd.sync();
  const totals: number[] = [];
  const recordings: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let i = 0; i < count; i++) record();
    const t1 = performance.now();
    await cmd.sync();
    totals.push(((performance.now() - t0) * 1e3) / count);
    recordings.push(((t1 - t0) * 1e3) / count);
  }
  return { total: median(totals), recording: median(recordings) };
}

/** Runs a benny suite without its console chatter (stdout must stay JSON lines with --json). */
async function quietSuite(name: string, cases: Record<string, () => void>) {
  const log = console.log;
  console.log = () => {};
  try {
    return await benny.suite(name, ...Object.entries(cases).map(([n, fn]) => benny.add(n, fn)), benny.configure({ cases: { minTime: 0.5, maxTime: 2 } }));
  } finally {
    console.log = log;
  }
}

export async function run(opts: BenchOptions): Promise<void> {
  const { cmd } = engine();
  const one = fill([1], 1);
  const other = fill([1], 2);
  const a = fill([1, 1], 1);
  const b = fill([1, 1], 1);
  const c = empty([1, 1]);

  // 1. Tiny dispatches in one submit: the fixed cost of one kernel launch, CPU recording included. The
  // first submit makes every dispatch's bind group; the timed ones repeat the same work and find them in
  // Commands' cache, as the steps of training do.
  const tinyGemm = () => gemm({ a: { t: a, ld: 1 }, b: { t: b, ld: 1 }, c: { t: c, ld: 1 }, M: 1, N: 1, K: 1 });
  for (const [what, record] of [
    ['elementwise add, 1 element', () => inplaceRaw('add', one, other)],
    ['gemm 1×1×1', tinyGemm],
  ] as const) {
    const count = 2000;
    const { total, recording } = await perDispatch(record, count);
    report(
      opts,
      { bench: 'overhead', measure: 'dispatch', what, dispatches_per_submit: count, us_per_dispatch: round(total), us_recording: round(recording) },
      `per dispatch (${what}, ${count} in one submit): ${round(total)} µs, of which ${round(recording)} µs recording on the CPU`,
    );
  }

  // 2. Submit and wait: one tiny dispatch, flushed and awaited, many times.
  const trips: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t0 = performance.now();
    inplaceRaw('add', one, other);
    await cmd.sync();
    trips.push((performance.now() - t0) * 1e3);
  }
  report(
    opts,
    { bench: 'overhead', measure: 'round_trip', us: round(median(trips)), us_min: round(Math.min(...trips)) },
    `submit-and-wait round trip: ${round(median(trips))} µs median (${round(Math.min(...trips))} min)`,
  );

  // 3. Readback: latency for a few bytes, bandwidth for large tensors.
  for (const n of [1, 1 << 18, 1 << 22]) {
    const t: Tensor = fill([n], 0.5);
    await t.read();
    const times: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t0 = performance.now();
      await t.read();
      times.push(performance.now() - t0);
    }
    const ms = median(times);
    const bytes = n * 4;
    report(
      opts,
      { bench: 'overhead', measure: 'readback', bytes, ms: round(ms), gb_per_s: round(bytes / ms / 1e6) },
      `readback of ${bytes} bytes: ${round(ms)} ms (${round(bytes / ms / 1e6)} GB/s)`,
    );
    t.dispose();
  }

  // 4. CPU-only pieces of a launch (benny). Recording itself is measured above, with the GPU draining:
  // benchmark.js would record hundreds of thousands of dispatches without ever waiting.
  const lmHead = {
    t: { bytes: 128256 * 2048 * 2, dtype: 'bf16', describe: () => 'E' } as unknown as Tensor,
    offset: 0,
    ld: 2048,
    trans: true,
    strides: [0, 0] as [number, number],
  };
  // The GEMM's 21 parameters, packed by name as a dispatch packs them.
  const gemmParams = kernelInterface(preprocess('matmul-naive.wgsl', { B_F32: true }), 'main').params!;
  const words = new Uint32Array(64);
  const summary = await quietSuite('cpu side', {
    'pack the GEMM parameters (21 words, by name)': () => {
      const p = {
        ...{ m: 1, n: 2, k: 3, batch_inner: 4, batches: 5, tiles_m: 6, tiles_n: 7, accumulate: 0, alpha: 1 },
        ...{ a_base: 0, a_ld: 1, a_s0: 0, a_s1: 0, b_base: 0, b_ld: 1, b_s0: 0, b_s1: 0, c_base: 0, c_ld: 1, c_s0: 0, c_s1: 0 },
      };
      packParams('gemm', gemmParams, p, words, 0);
    },
    'plan the LM head gemm (bf16 E over 4 bindings)': () => {
      planGemm(
        [{ x: lmHead, dims: layout('b', true) }],
        { o: [0, 1], i: [0, 1], m: [0, 128], n: [0, 128256], k: [0, 2048], accumulate: false },
        1 << 27,
        (1 << 27) - 32,
      );
    },
    'preprocess matmul-subgroup.wgsl (uncached)': () => {
      // The defines the subgroup kernel gets on an adapter with 8-lane subgroups (matmul-kernels.ts).
      preprocess('matmul-subgroup.wgsl', { RG4: true, LANES: 8, LANES_4: false, LANES_WIDE: false, B_BF16: true, TRANS_B: true, VEC4: true });
    },
  });
  for (const r of summary.results) {
    report(
      opts,
      { bench: 'overhead', measure: 'cpu', what: r.name, us: round(1e6 / r.ops), margin_pct: round(r.margin) },
      `${r.name}: ${round(1e6 / r.ops)} µs (±${round(r.margin)} %)`,
    );
  }
  note(opts, 'µs per dispatch includes the GPU executing it; on lavapipe that is CPU work too.');
  [one, other, a, b, c].forEach((t) => t.dispose());
}
