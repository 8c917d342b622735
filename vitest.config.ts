import { defineConfig } from 'vitest/config';

// One GPU device per worker process, each test file in its own forked process, two files at a time
// (SEAL_TEST_WORKERS to change it). Most of a cold run is LLVM compiling kernels, one file's compile on one
// core while its process waits (src/gpu/relaxed-wait.ts keeps that wait off the other core), so two files side
// by side nearly halve it: on this 2-core machine, `vitest run` took 1,035 s cold and 485 s warm one file at a
// time, 619 s and 319 s two at a time. Each process then runs lavapipe's dispatches on its queue thread
// (LP_NUM_THREADS=0) rather than on a pool of one thread a core, which two processes would oversubscribe.
//
// Projects: `default` runs every test on whatever adapter Dawn finds. On lavapipe, the kernel tests
// (test/tensor, test/gpu) run twice more with other subgroup sizes — LP_NATIVE_VECTOR_WIDTH sets the lanes
// of lavapipe's vectors: 128 bits give subgroups of 4, the default 256 gives 8, 512 gives 16 — so that
// every kernel variant is checked at the sizes real GPUs do not share (NVIDIA 32, AMD 32/64, Intel 8–32).
// test/setup.ts fails those projects on an adapter that does not give the size they are named for: on a
// real GPU, run `npx vitest run --project default`.
const KERNEL_TESTS = ['test/tensor/**/*.test.ts', 'test/gpu/**/*.test.ts'];
const lanes = (size: number) => ({
  extends: true as const,
  test: {
    name: `lavapipe-subgroup-${size}`,
    include: KERNEL_TESTS,
    env: { LP_NATIVE_VECTOR_WIDTH: String(32 * size), SEAL_TEST_SUBGROUP_SIZE: String(size) },
  },
});

// A worker's stderr is a socket, which src/gpu/device.ts cannot reopen to keep the driver's notes about the
// adapter off it (it does for terminals and pipes): drop those lines where the workers' output is printed.
if (!process.env.SEAL_DEBUG) {
  const DRIVER_NOTE = /^Warning: \w+ artificially reduced from \d+ to \d+ to fit [^\n]*\n/gm;
  const write = process.stderr.write.bind(process.stderr) as (chunk: string | Uint8Array, ...rest: unknown[]) => boolean;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1');
    if (!text.includes(' artificially reduced from ')) return write(chunk, ...rest);
    return write((typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')).replace(DRIVER_NOTE, ''), ...rest);
  }) as typeof process.stderr.write;
}

const workers = Number(process.env.SEAL_TEST_WORKERS ?? 2);
if (!Number.isInteger(workers) || workers < 1) {
  throw new Error(`SEAL_TEST_WORKERS=${process.env.SEAL_TEST_WORKERS}: give a whole number of test files to run at once, 1 or more (unset: 2)`);
}

export default defineConfig({
  test: {
    setupFiles: ['test/setup.ts'],
    pool: 'forks',
    fileParallelism: workers > 1,
    maxWorkers: workers,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    env: { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', LP_NUM_THREADS: process.env.LP_NUM_THREADS ?? '0' },
    projects: [{ extends: true, test: { name: 'default', include: ['test/**/*.test.ts'] } }, lanes(4), lanes(16)],
  },
});
