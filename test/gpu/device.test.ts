import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { progressUi } from '../../src/seal/experiment.ts';
import { createGpu } from '../../src/gpu/device.ts';
import { kernel, preprocess } from '../../src/gpu/pipelines.ts';
import { GpuOutOfMemoryError, add, empty, engine, fill, matmul, tensor, tidy } from '../../src/tensor/index.ts';
import { TEST_LIMITS } from '../setup.ts';

describe('device', () => {
  it('reports the adapter, its limits and the optional features it has', () => {
    const { report } = engine().gpu;
    expect(report.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 << 20);
    expect(report.maxComputeWorkgroupsPerDimension).toBeGreaterThanOrEqual(65535);
    for (const f of report.features) expect(['shader-f16', 'subgroups', 'timestamp-query']).toContain(f);
  });

  it('requests the limits it relies on, and tests pin the binding size', () => {
    const { limits, report } = engine().gpu;
    expect(limits.maxStorageBufferBindingSize).toBe(TEST_LIMITS.maxStorageBufferBindingSize);
    // Limits the engine does not ask for stay at WebGPU's defaults (asking for every maximum gains nothing).
    expect(limits.maxDynamicUniformBuffersPerPipelineLayout).toBe(8);
    expect(report.subgroupMinSize).toBeLessThanOrEqual(report.subgroupMaxSize);
  });

  it("keeps the device's limits as a plain copy, every one of them", () => {
    const { limits, device } = engine().gpu;
    const native = device.limits as unknown as Record<string, number>;
    const names = Object.keys(Object.getPrototypeOf(native)).filter((k) => typeof native[k] === 'number');
    expect(names.length).toBeGreaterThan(20); // WebGPU defines about 30
    for (const name of names) expect((limits as unknown as Record<string, number>)[name], name).toBe(native[name]);
    expect(Object.getPrototypeOf(limits)).toBe(Object.prototype);
  });

  it('refuses a limit it does not request', async () => {
    await expect(createGpu({ limits: { maxBindGroups: 4 } as never })).rejects.toThrow(/"maxBindGroups" is not a limit the engine requests/);
  });

  it('says what to run when no adapter matches', async () => {
    await expect(createGpu({ backend: 'null', adapter: 'no such adapter' })).rejects.toThrow(
      /No WebGPU adapter found for backend=null adapter=no such adapter.*Run `bash scripts\/setup.sh`/s,
    );
  });

  it('turns an asynchronous WebGPU error into an exception naming the shader', async () => {
    const { gpu, cmd } = engine();
    // A shader that does not compile: the error surfaces at the next sync point, with the label.
    const module = gpu.device.createShaderModule({ code: 'fn broken( {', label: 'broken.wgsl:main' });
    gpu.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: 'broken.wgsl:main' });
    await expect(cmd.sync()).rejects.toThrow(/broken\.wgsl:main/);
    // The engine keeps working afterwards.
    expect(await fill([2], 3).read()).toEqual(Float32Array.of(3, 3));
  });
});

describe('pipelines', () => {
  it('refuses a setting that no directive of the shader reads', () => {
    expect(() => preprocess('softmax.wgsl', { FORWARD: true, FORWRAD: true })).toThrow(/softmax\.wgsl: no directive reads "FORWRAD"/);
    // One read only inside a branch that is not taken (or in an included file) counts as read.
    expect(() => preprocess('matmul-naive.wgsl', { B_F32: true, VEC4: false, B8: true })).not.toThrow();
  });

  it('preprocesses #if / #elif / #else, {{NAME}} substitutions and #include, and names a missing value', () => {
    const src = preprocess('elementwise.wgsl', { BINARY: true, BROADCAST: false, FN: 'op_add', VEC4: false });
    expect(src).toContain('fn linear_workgroup'); // from #include "common.wgsl"
    expect(src).toContain('return op_add(a, b, alpha);'); // #if VEC4 … #else
    expect(src).toContain('out[p.base_out + i] = apply(a[p.base_a + i], b[p.base_b + i], p.alpha);');
    expect(preprocess('elementwise.wgsl', { BINARY: true, BROADCAST: false, FN: 'op_add', VEC4: true })).toContain('op_add(a.w, b.w, alpha)');
    expect(src).not.toContain('#if');
    expect(src).not.toContain('let i3 = flat % p.d3;'); // the BROADCAST branch is out
    expect(() => preprocess('elementwise.wgsl', { BINARY: true })).toThrow(/elementwise\.wgsl:\d+: no value given for \{\{FN\}\}/);
  });

  it('compiles each variant once and caches it by source', () => {
    const { gpu } = engine();
    const a = kernel(gpu, 'elementwise.wgsl', 'main', { UNARY: true, FN: 'op_silu' });
    const b = kernel(gpu, 'elementwise.wgsl', 'main', { FN: 'op_silu', UNARY: true });
    expect(b).toBe(a);
  });

  it('tells a listener of every compile, which a progress bar shows (a cold run compiles before its first unit ends)', () => {
    const { gpu } = engine();
    let written = '';
    const stream = { isTTY: false, write: (s: string) => ((written += s), true) };
    const ui = progressUi(stream as never);
    ui.evalProgress('passage', 0, 4);
    // A source no other code compiles (the function name with a space before it), then the same again: cached.
    const fresh = { BINARY: true, BROADCAST: true, FN: ' op_mul' };
    kernel(gpu, 'elementwise.wgsl', 'main', fresh);
    kernel(gpu, 'elementwise.wgsl', 'main', fresh);
    ui.evalProgress('passage', 4, 4);
    ui.finish();
    expect(written).toContain('shaders compiled=1');
    expect(written).not.toContain('shaders compiled=2');
  });
});

describe('buffers and lifetimes', () => {
  it('counts live and peak bytes, reuses released buffers, and tidy frees temporaries', async () => {
    const { pool } = engine();
    const before = pool.memory();
    const kept = tidy(() => {
      const a = fill([1024], 1); // 4 KiB each
      fill([1024], 2); // freed by tidy
      return a;
    });
    const after = pool.memory();
    expect(after.liveBytes - before.liveBytes).toBe(4096);
    expect(after.peakLiveBytes - before.liveBytes).toBeGreaterThanOrEqual(8192);
    kept.dispose();
    expect(pool.memory().liveBytes).toBe(before.liveBytes);
    // The freed buffers are reused: no new allocation for the same sizes.
    const allocated = pool.memory().allocatedBytes;
    tidy(() => [fill([1024], 0), fill([1024], 0)]).forEach((t) => t.dispose());
    expect(pool.memory().allocatedBytes).toBe(allocated);
  });

  it('hands out the oldest free buffer of a size first, so repeated work reuses its bind groups', async () => {
    const { cmd } = engine();
    const x = fill([300], 1);
    await cmd.sync();
    // Work that frees its temporaries in another order than it made them: a stack would hand them out
    // swapped next time, and every bind group would be new.
    const work = () =>
      tidy(() => {
        const a = add(x, x);
        const b = add(a, x);
        const c = add(b, a);
        b.dispose();
        a.dispose();
        return c;
      });
    // Each round ends at a sync, as a training step does: the parameters' arena starts again there.
    work().dispose();
    await cmd.sync();
    const created = cmd.bindGroupsCreated;
    const dispatches = cmd.dispatches;
    for (let i = 0; i < 3; i++) {
      work().dispose();
      await cmd.sync();
    }
    expect(cmd.dispatches - dispatches).toBe(9);
    expect(cmd.bindGroupsCreated).toBe(created);
    x.dispose();
  });

  it('refuses a tensor used after dispose, naming it', () => {
    const t = tensor([1, 2], [2]);
    t.name = 'x';
    t.dispose();
    expect(() => t.buffer).toThrow('Tensor "x" f32[2] was used after dispose()');
  });
});

describe('out of memory', () => {
  it('a tensor larger than a buffer may be is refused by name, with what to do', () => {
    const { limits } = engine().gpu;
    const n = Math.floor(limits.maxBufferSize / 4) + 1;
    expect(() => empty([n])).toThrow(GpuOutOfMemoryError);
    expect(() => empty([n])).toThrow(/exceeds this adapter's largest buffer.*--batch-size.*--recompute/);
  });

  it("the driver's out-of-memory error becomes a GpuOutOfMemoryError at the next sync point", async () => {
    const { gpu, cmd } = engine();
    // An allocation that fails reports asynchronously; the same event, dispatched by hand.
    gpu.device.dispatchEvent(new GPUUncapturedErrorEvent('uncapturederror', { error: new GPUOutOfMemoryError('simulated') }));
    const sync = cmd.sync();
    await expect(sync).rejects.toThrow(GpuOutOfMemoryError);
    await expect(sync).rejects.toThrow(/The GPU is out of memory \(simulated\).*Tensors held .* allocated.*--recompute/);
    expect(await fill([2], 1).read()).toEqual(Float32Array.of(1, 1)); // and the engine goes on
  });
});

// Whole processes (not about subgroup sizes: the default test project only).
describe.skipIf(!!process.env.SEAL_TEST_SUBGROUP_SIZE)('what a process prints', () => {
  const child = `node --import tsx ${join(import.meta.dirname, '../helpers/engine-child.ts')}`;
  const env = (extra: Record<string, string> = {}) => ({ ...process.env, SEAL_DEBUG: '', SEAL_PROFILE: '', ...extra });
  // stdout and stderr through one real pipe (Node would give the child a socket of its own).
  const piped = (extra: Record<string, string>) => spawnSync('sh', ['-c', `${child} 2>&1 | cat`], { env: env(extra), encoding: 'utf8' }).stdout;
  // Both streams into a log file that a shell shares with the lines around the process, as `(…) > log 2>&1` does.
  const logged = (extra: Record<string, string> = {}) => {
    const dir = mkdtempSync(join(tmpdir(), 'seal-log-'));
    spawnSync('sh', ['-c', `(echo first; ${child}; echo last) > ${dir}/log 2>&1`], { env: env(extra) });
    try {
      return readFileSync(join(dir, 'log'), 'utf8');
    } finally {
      rmSync(dir, { recursive: true });
    }
  };
  // Dawn on Vulkan has notes about lavapipe's limits; other drivers may have none.
  const driverHasNotes = () => engine().gpu.report.isCpu;

  it("keeps the driver's notes off a terminal or pipe unless SEAL_DEBUG is set; SEAL_PROFILE=1 prints the kernel table at exit", () => {
    const out = piped({ SEAL_PROFILE: engine().gpu.hasTimestamps ? '1' : '' });
    expect(out).not.toMatch(/Warning:/);
    if (engine().gpu.hasTimestamps) {
      expect(out).toMatch(/GPU profile: [\d.]+ ms of kernel time in 1 dispatches/);
      expect(out).toMatch(/elementwise FILL( VEC4)?\s+1\s/);
    }
    if (driverHasNotes()) expect(piped({ SEAL_DEBUG: '1' })).toMatch(/Warning: .*artificially reduced/);
  });

  it("keeps them out of a log file too, with the process's own lines whole and in order, and the shell's around them", () => {
    const lines = ['first', 'out: before', 'err: before', 'out: after', 'err: after', 'last'];
    expect(logged()).toBe(`${lines.join('\n')}\n`);
    if (driverHasNotes()) expect(logged({ SEAL_DEBUG: '1' })).toMatch(/^first\nout: before\nerr: before\nWarning: .*artificially reduced/);
  });

  it('and an uncaught error still reaches the log (Node reports it after the exit event)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seal-log-'));
    try {
      spawnSync('sh', ['-c', `${child} > ${dir}/log 2>&1`], { env: env({ ENGINE_CHILD_FAIL: '1' }) });
      // grep writes the report once the process is gone, a moment after it exits.
      for (let i = 0; i < 100 && !readFileSync(join(dir, 'log'), 'utf8').includes('Node.js'); i++) await new Promise((r) => setTimeout(r, 20));
      const log = readFileSync(join(dir, 'log'), 'utf8');
      expect(log).toMatch(/^out: before\nerr: before\nout: after\nerr: after\n[\s\S]*Error: the child fails as asked[\s\S]*Node\.js v/);
      expect(log).not.toMatch(/Warning:/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('and out of the socket a parent Node process reads', () => {
    const { stdout, stderr } = spawnSync('node', ['--import', 'tsx', join(import.meta.dirname, '../helpers/engine-child.ts')], {
      env: env(),
      encoding: 'utf8',
    });
    expect(stderr).toBe('err: before\nerr: after\n');
    expect(stdout).toBe('out: before\nout: after\n');
  });
});

describe('profiler', () => {
  it('counts and times each kernel', async (ctx) => {
    const { cmd, gpu } = engine();
    if (!gpu.hasTimestamps) ctx.skip();
    const profiler = cmd.startProfiling();
    try {
      profiler.reset();
      tidy(() => {
        const a = fill([64, 64], 1);
        for (let i = 0; i < 3; i++) matmul(a, a);
      });
      await cmd.sync();
      const times = await profiler.times();
      expect(times.find((t) => t.kernel.startsWith('elementwise FILL'))?.count).toBe(1);
      const gemm = times.find((t) => t.kernel.startsWith('matmul-'));
      expect(gemm?.count).toBe(3);
      expect(gemm!.totalNs).toBeGreaterThan(0);
      expect(await cmd.profileReport()).toMatch(/kernel\s+count\s+total ms\s+mean µs\s+share\n/);
    } finally {
      cmd.profiler = null;
    }
  });
});
