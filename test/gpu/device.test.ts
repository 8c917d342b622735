import { describe, expect, it } from 'vitest';
import { createGpu } from '../../src/gpu/device.ts';
import { kernel, preprocess } from '../../src/gpu/pipelines.ts';
import { engine, fill, tensor, tidy } from '../../src/tensor/index.ts';

describe('device', () => {
  it('reports the adapter, its limits and the optional features it has', () => {
    const { report } = engine().gpu;
    expect(report.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 << 20);
    expect(report.maxComputeWorkgroupsPerDimension).toBeGreaterThanOrEqual(65535);
    for (const f of report.features) expect(['shader-f16', 'subgroups', 'timestamp-query']).toContain(f);
  });

  it('says what to run when no adapter matches', async () => {
    await expect(createGpu({ backend: 'null', adapter: 'no such adapter' })).rejects.toThrow(/No WebGPU adapter found for backend=null adapter=no such adapter.*Run `bash scripts\/setup.sh`/s);
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
  it('preprocesses #if / #elif / #else, {{NAME}} substitutions and #include, and names a missing value', () => {
    const src = preprocess('elementwise.wgsl', { BINARY: true, BROADCAST: false, FN: 'op_add' });
    expect(src).toContain('fn linear_workgroup'); // from #include "common.wgsl"
    expect(src).toContain('op_add(a[p.base_a + i], b[p.base_b + i], p.alpha)');
    expect(src).not.toContain('#if');
    expect(src).not.toContain('let i3 = flat % p.d3;'); // the BROADCAST branch is out
    expect(() => preprocess('elementwise.wgsl', { BINARY: true })).toThrow(/elementwise\.wgsl:\d+: no value given for \{\{FN\}\}/);
  });

  it('compiles each variant once and caches it by source', () => {
    const { gpu } = engine();
    const a = kernel(gpu, 'elementwise.wgsl', 'main', { UNARY: true, FN: 'op_neg' });
    const b = kernel(gpu, 'elementwise.wgsl', 'main', { FN: 'op_neg', UNARY: true });
    expect(b).toBe(a);
  });
});

describe('buffers and lifetimes', () => {
  it('counts live and peak bytes, reuses released buffers, and tidy frees temporaries', async () => {
    const { pool } = engine();
    const before = pool.memory();
    const kept = tidy(() => {
      const a = fill([1024], 1); // 4 KiB each
      const b = fill([1024], 2);
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

  it('refuses a tensor used after dispose, naming it', () => {
    const t = tensor([1, 2], [2]);
    t.name = 'x';
    t.dispose();
    expect(() => t.buffer).toThrow('Tensor "x" f32[2] was used after dispose()');
  });
});
