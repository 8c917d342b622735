// The engine context: the device, its buffer pool and its command recorder. Ops are synchronous and find
// it here; `await init()` once before using any of them.
import { BufferPool, bufferSize } from './buffers.ts';
import { Commands, type Binding } from './commands.ts';
import { type Gpu, type GpuOptions, getGpu, resetGpu } from './device.ts';

export interface Engine {
  gpu: Gpu;
  pool: BufferPool;
  cmd: Commands;
}

let current: Engine | null = null;

export async function init(options: GpuOptions = {}): Promise<Engine> {
  if (current) return current;
  const gpu = await getGpu(options);
  const cmd = new Commands(gpu);
  current = { gpu, pool: new BufferPool(gpu, () => cmd.forgetBindGroups()), cmd };
  return current;
}

export function engine(): Engine {
  if (!current) throw new Error('The GPU engine is not initialised: call `await init()` first.');
  return current;
}

/**
 * Waits for all queued GPU work and releases the device (the process can then exit promptly). When
 * profiling (SEAL_PROFILE=1), prints the kernel table to stderr first.
 */
export async function shutdown(): Promise<void> {
  if (!current) return;
  const e = current;
  current = null;
  const profile = await e.cmd.profileReport().catch(() => null);
  if (profile) process.stderr.write(`${profile}\n`);
  await e.cmd.sync().catch(() => {});
  e.pool.trim();
  await resetGpu();
}

/**
 * Binds bytes [start, end) of a buffer. A buffer that fits one binding is bound whole (its base is
 * `start`); a larger one through an aligned window. Returns the binding and the byte offset of `start`
 * inside it. Throws when the range cannot fit one binding: the caller must split its work.
 */
export function bindRange(buffer: GPUBuffer, start: number, end: number): { binding: Binding; shift: number } {
  const { limits } = engine().gpu;
  const max = limits.maxStorageBufferBindingSize;
  const bytes = bufferSize(buffer);
  if (bytes <= max) return { binding: buffer, shift: start };
  const align = limits.minStorageBufferOffsetAlignment;
  const offset = Math.floor(start / align) * align;
  const size = Math.min(bytes - offset, Math.ceil((end - offset) / 4) * 4);
  if (size > max) throw new RangeError(`internal: a ${size}-byte window exceeds the ${max}-byte binding limit`);
  return { binding: { buffer, offset, size }, shift: start - offset };
}
