// Recording GPU work: dispatches go into one command encoder and are submitted together at the next sync
// point (a readback, an upload, or an explicit flush), because every submit-and-wait costs a round trip.
// Each dispatch's parameters go into one shared uniform arena written just before its submit.
//
// Two adapter limits shape every dispatch:
//  - maxComputeWorkgroupsPerDimension (65,535): a larger grid is folded into (x, y); kernels recover the
//    linear workgroup index with `linear_workgroup()` from shaders/common.wgsl.
//  - maxStorageBufferBindingSize (128 MiB on lavapipe): a larger tensor is bound through windows
//    (`window()`), and ops split their work so that each dispatch's windows fit.
import './globals.ts';
import { bufferId } from './buffers.ts';
import type { Gpu } from './device.ts';
import { type ParamValues, packParams } from './kernel-interface.ts';
import { type Kernel, compiled } from './pipelines.ts';
import { Profiler, profileTable } from './profiler.ts';
import { relaxedWait } from './relaxed-wait.ts';

/** A buffer bound whole, or a byte range of it. */
export type Binding = GPUBuffer | { buffer: GPUBuffer; offset: number; size: number };

const ARENA_BYTES = 1 << 20;
const PARAM_SLOT = 256;
// Waiting (see Commands.settle): sleep for this share of the expected time, if that is at least MIN_NAP_MS
// (shorter waits cost little polling, and timers are not finer); a wait that polled under POLLED_MS after
// the nap finished while asleep.
const NAP_FRACTION = 0.85;
const MIN_NAP_MS = 2;
const POLLED_MS = 0.5;
const MAX_ESTIMATES = 256;
// Cached bind groups (see Commands.bindGroup): a training step of the 1B shape makes about 2,000; past
// this many the cache starts again rather than keep groups of buffers long gone back to the pool.
const MAX_BIND_GROUPS = 16384;

/** Mixes v into the 32-bit hash h (FNV-1a style multiply). */
function hash(h: number, v: number): number {
  return Math.imul(h ^ v, 0x01000193) >>> 0;
}

export class Commands {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private arena = new Uint32Array(ARENA_BYTES / 4);
  private arenaFloats = new Float32Array(this.arena.buffer);
  private arenaUsed = 0; // bytes
  private uniform: GPUBuffer;
  private groups = new Map<string, GPUBindGroup>();
  private readonly align: number;
  private readonly maxGrid: number;
  /** Dispatches recorded since the start (for the per-dispatch overhead benchmark and profiling). */
  dispatches = 0;
  submits = 0;
  /** Bind groups created (the rest of the dispatches found theirs cached; see bindGroup). */
  bindGroupsCreated = 0;
  private work = 0; // a hash of the kernels and grids dispatched since the last wait
  private expected = new Map<number, number>(); // ms the last wait for that work took
  private ran = new Set<number>(); // ids of the kernels dispatched so far
  private firstRun = false; // a kernel ran for the first time since the last wait (see settle)
  /** Times every dispatch while set (SEAL_PROFILE=1, or startProfiling()); see profiler.ts. */
  profiler: Profiler | null = null;

  constructor(readonly gpu: Gpu) {
    this.align = Math.max(16, gpu.limits.minUniformBufferOffsetAlignment);
    this.maxGrid = gpu.limits.maxComputeWorkgroupsPerDimension;
    this.uniform = gpu.device.createBuffer({
      size: ARENA_BYTES,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      label: 'kernel parameters',
    });
    if (process.env.SEAL_PROFILE && process.env.SEAL_PROFILE !== '0') {
      if (gpu.hasTimestamps) this.startProfiling();
      else process.stderr.write('SEAL_PROFILE: this adapter has no timestamp queries; nothing will be profiled.\n');
    }
  }

  /** Times each dispatch from now on (a pass per dispatch). Throws on an adapter without timestamp queries. */
  startProfiling(): Profiler {
    if (!this.gpu.hasTimestamps) {
      throw new Error(`Profiling needs timestamp queries, which this adapter (${this.gpu.report.description || this.gpu.report.device}) does not offer.`);
    }
    this.flush();
    this.profiler ??= new Profiler(this.gpu.device);
    return this.profiler;
  }

  /** Waits for the profile's last readbacks and returns its table (see profiler.ts); null when not profiling. */
  async profileReport(): Promise<string | null> {
    if (!this.profiler) return null;
    await this.sync();
    const { pipelines, ms } = compiled;
    return `${profileTable(await this.profiler.times())}\n${pipelines} pipelines compiled, ${(ms / 1000).toFixed(1)} s (a shader cache on disk makes a later run's compiles faster)`;
  }

  /** Splits a workgroup count into a grid that respects the per-dimension limit. */
  grid(count: number): [number, number, number] {
    if (count <= this.maxGrid) return [Math.max(1, count), 1, 1];
    const y = Math.ceil(count / this.maxGrid);
    if (y > this.maxGrid) throw new RangeError(`Grid of ${count} workgroups is too large for one dispatch`);
    return [Math.ceil(count / y), y, 1];
  }

  /**
   * Records one dispatch. `workgroups` is a linear count (folded into 2-D when too large) or an explicit
   * [x, y, z] grid. Binding i of the shader receives bindings[i]; the last binding is the parameters: the
   * fields of the kernel's uniform struct by name (kernel-interface.ts), null for a kernel without one.
   */
  dispatch(k: Kernel, bindings: Binding[], params: ParamValues | null, workgroups: number | [number, number, number]): void {
    if (!k.params !== !params)
      throw new Error(`${k.label}: ${k.params ? 'no parameters given for its uniform struct' : 'parameters given, but it has no uniform struct'}`);
    // Before this dispatch's parameters enter the arena: a flush starts the arena again.
    if (this.profiler?.full) this.flush();
    let paramsOffset = -1;
    if (k.params && params) {
      // Every dispatch gets a fixed 256-byte slot (bind groups are cached per slot), zeroed: fields the
      // kernel does not read may be left out.
      if (k.params.size > PARAM_SLOT) throw new RangeError(`${k.label}: more than ${PARAM_SLOT} bytes of parameters`);
      if (this.arenaUsed + PARAM_SLOT > ARENA_BYTES) this.flush();
      this.arena.fill(0, this.arenaUsed / 4, (this.arenaUsed + PARAM_SLOT) / 4);
      packParams(k.label, k.params, params, this.arena, this.arenaUsed / 4, this.arenaFloats);
      paramsOffset = this.arenaUsed;
      this.arenaUsed += Math.ceil(PARAM_SLOT / this.align) * this.align;
    }
    const group = this.bindGroup(k, bindings, paramsOffset);
    const [x, y, z] = typeof workgroups === 'number' ? this.grid(workgroups) : workgroups;
    let pass: GPUComputePassEncoder;
    if (this.profiler) {
      this.endPass();
      pass = this.pass = this.commandEncoder().beginComputePass(this.profiler.pass(k.name));
    } else pass = this.computePass();
    pass.setPipeline(k.pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(x, y, z);
    this.dispatches++;
    this.work = hash(hash(this.work, k.id), x * 65536 + y);
    if (!this.ran.has(k.id)) {
      this.ran.add(k.id);
      this.firstRun = true;
    }
  }

  /**
   * The bind group of `bindings` (and the parameters' slot of the arena, when `paramsOffset` ≥ 0) for `k`:
   * made once and reused while the same buffers come back at the same place in a submit, as they do step
   * after step of training or decoding (the pool hands out the same buffers for the same work, and the
   * arena starts again at each submit). Creating a bind group is most of a dispatch's CPU cost in Dawn's
   * Node bindings (about 18 of 25 µs). A dynamic offset for the parameters would let more groups be reused,
   * but costs lavapipe about 30 µs of execution per dispatch (measured), more than it saves.
   */
  private bindGroup(k: Kernel, bindings: Binding[], paramsOffset: number): GPUBindGroup {
    let key = `${k.id}@${paramsOffset}`;
    for (const b of bindings) key += b instanceof GPUBuffer ? `|${bufferId(b)}` : `|${bufferId(b.buffer)}@${b.offset}+${b.size}`;
    let group = this.groups.get(key);
    if (group) return group;
    const entries: GPUBindGroupEntry[] = bindings.map((b, i) => ({
      binding: i,
      resource: b instanceof GPUBuffer ? { buffer: b } : { buffer: b.buffer, offset: b.offset, size: b.size },
    }));
    if (paramsOffset >= 0) entries.push({ binding: bindings.length, resource: { buffer: this.uniform, offset: paramsOffset, size: PARAM_SLOT } });
    group = this.gpu.device.createBindGroup({ layout: k.layout, entries, label: k.label });
    this.bindGroupsCreated++;
    if (this.groups.size >= MAX_BIND_GROUPS) this.groups.clear();
    this.groups.set(key, group);
    return group;
  }

  /** Forgets every cached bind group: called before buffers are destroyed (BufferPool.trim). */
  forgetBindGroups(): void {
    this.groups.clear();
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
    this.work = hash(hash(this.work, 0), bytes); // kernel ids start at 1: 0 marks a copy
  }

  /** Uploads data. Flushes first: the buffer may be a reused one that queued work still reads. */
  write(buffer: GPUBuffer, byteOffset: number, data: ArrayBufferView): void {
    this.flush();
    this.gpu.device.queue.writeBuffer(buffer, byteOffset, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Submits everything recorded so far. */
  flush(): void {
    this.endPass();
    if (!this.encoder) return;
    if (this.arenaUsed) this.gpu.device.queue.writeBuffer(this.uniform, 0, this.arena.buffer, 0, this.arenaUsed);
    const readTimes = this.profiler?.resolve(this.encoder);
    this.gpu.device.queue.submit([this.encoder.finish()]);
    readTimes?.();
    this.encoder = null;
    this.arenaUsed = 0;
    this.submits++;
  }

  /** Flushes and waits until the GPU has finished; throws any WebGPU error raised meanwhile. */
  async sync(): Promise<void> {
    this.flush();
    await this.settle(() => this.gpu.device.queue.onSubmittedWorkDone());
    this.gpu.check();
  }

  /** Copies `bytes` from `buffer` at `byteOffset` back to the CPU. */
  async read(buffer: GPUBuffer, byteOffset: number, bytes: number): Promise<ArrayBuffer> {
    const size = Math.ceil(bytes / 4) * 4;
    const staging = this.gpu.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      this.copy(buffer, byteOffset, staging, 0, size);
      this.flush();
      await this.settle(() => staging.mapAsync(GPUMapMode.READ)).catch((e: unknown) => {
        this.gpu.check(); // a lost device, or the error that made the copy fail, says more than the rejection
        throw e;
      });
      this.gpu.check();
      return staging.getMappedRange().slice(0, bytes);
    } finally {
      staging.destroy();
    }
  }

  /**
   * Awaits `done` (a Dawn promise for the work submitted so far), first sleeping for most of the time that
   * work is expected to take. While any Dawn promise is pending, the Node bindings poll for it on this
   * thread without pause (setImmediate), which on a CPU adapter takes a core from the threads running the
   * kernels. The expectation is the last wait for the same kernels on the same grids: repeated work (decode
   * steps, training steps) repeats its waits, and new work is not slept on. A wait that ended at once may
   * have overslept: its estimate shrinks; one that still had to poll sets the estimate to the whole wait.
   * Measured on lavapipe (2 cores): Llama-1B decode steps 30–40 % faster, LoRA steps about 15 %; waits
   * under MIN_NAP_MS are untouched; one wait for thousands of tiny dispatches is about 20 % slower.
   * A wait for work that ran a kernel for the first time teaches nothing: lavapipe compiles a pipeline
   * (LLVM) at its first dispatch, seconds on an empty shader cache, and that wait would make every later
   * run of the same work sleep about as long, shrinking by a quarter per run (on an empty cache, the GEMM
   * tests slept more than they computed). Nor does it poll without pause: see relaxedWait.
   */
  private settle<T>(done: () => Promise<T>): Promise<T> {
    const key = this.work;
    this.work = 0;
    if (this.firstRun) {
      this.firstRun = false;
      return relaxedWait(done);
    }
    const expected = (key && this.expected.get(key)) || 0; // 0: nothing recorded since the last wait
    const start = performance.now();
    const nap = expected * NAP_FRACTION;
    const learn = (woke: number) => (result: T) => {
      const end = performance.now();
      if (this.expected.size >= MAX_ESTIMATES) this.expected.clear();
      const overslept = woke > start && end - woke < POLLED_MS;
      this.expected.set(key, overslept ? expected * 0.75 : end - start);
      return result;
    };
    if (nap < MIN_NAP_MS) return done().then(learn(start));
    return new Promise((resolve) => setTimeout(resolve, nap)).then(() => done().then(learn(performance.now())));
  }

  private commandEncoder(): GPUCommandEncoder {
    this.gpu.check();
    this.encoder ??= this.gpu.device.createCommandEncoder();
    return this.encoder;
  }
  private computePass(): GPUComputePassEncoder {
    this.pass ??= this.commandEncoder().beginComputePass();
    return this.pass;
  }
  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }
}
