// GPU memory: a pool of storage buffers in size classes, reused after release, with live and peak byte
// counters. Queue order makes reuse safe: a buffer released while work that reads it is still queued can
// be handed out again, because every later use is queued after that work (uploads flush first, see
// Commands.write).
import './globals.ts';
import { type Gpu, GpuOutOfMemoryError, MEMORY_ADVICE } from './device.ts';

/** A small integer per buffer, in order of creation: the pool's order of reuse, and the keys of cached bind groups. */
const bufferIds = new WeakMap<GPUBuffer, number>();
let nextBufferId = 1;
export function bufferId(b: GPUBuffer): number {
  let id = bufferIds.get(b);
  if (id === undefined) bufferIds.set(b, (id = nextBufferId++));
  return id;
}

/** A buffer's size, read from Dawn once (GPUBuffer.size is a native getter, about 0.1 µs a read). */
const bufferSizes = new WeakMap<GPUBuffer, number>();
export function bufferSize(b: GPUBuffer): number {
  let size = bufferSizes.get(b);
  if (size === undefined) bufferSizes.set(b, (size = b.size));
  return size;
}

export const STORAGE_USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** Rounds a request up to its size class: 256-byte multiples below 64 KiB, then 8 classes per doubling (≤ 12.5 % slack). */
export function sizeClass(bytes: number): number {
  const b = Math.max(256, Math.ceil(bytes / 256) * 256);
  if (b <= 65536) return b;
  const step = 2 ** (Math.floor(Math.log2(b)) - 3);
  return Math.ceil(b / step) * step;
}

export interface MemoryStats {
  /** Bytes in buffers currently held by tensors. */
  liveBytes: number;
  peakLiveBytes: number;
  /** Bytes allocated from the device: live plus pooled (free, kept for reuse). */
  allocatedBytes: number;
  peakAllocatedBytes: number;
  buffers: number;
}

export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  private stats: MemoryStats = { liveBytes: 0, peakLiveBytes: 0, allocatedBytes: 0, peakAllocatedBytes: 0, buffers: 0 };

  /** `beforeDestroy` runs before trim() destroys buffers (Commands forgets the bind groups that hold them). */
  constructor(
    private readonly gpu: Gpu,
    private readonly beforeDestroy: () => void = () => {},
  ) {
    gpu.memoryReport = () => {
      const m = this.stats;
      return `Tensors held ${mib(m.liveBytes)} of ${mib(m.allocatedBytes)} allocated (peak ${mib(m.peakAllocatedBytes)})`;
    };
  }

  /**
   * A storage buffer of at least `bytes`. `exact` skips the size classes (for weights and other
   * long-lived tensors, where class slack would be paid for the whole run).
   */
  acquire(bytes: number, exact = false): GPUBuffer {
    const size = exact ? Math.max(256, Math.ceil(bytes / 256) * 256) : sizeClass(bytes);
    if (size > this.gpu.limits.maxBufferSize) {
      throw new GpuOutOfMemoryError(
        `A ${bytes}-byte tensor (${mib(bytes)}) exceeds this adapter's largest buffer (maxBufferSize ${mib(this.gpu.limits.maxBufferSize)}). ${MEMORY_ADVICE}`,
      );
    }
    let buffer = this.free.get(size)?.pop();
    if (!buffer) {
      this.gpu.check();
      buffer = this.allocate(size);
      bufferId(buffer); // numbered now, so that ids follow creation order (release() hands out the oldest first)
      this.stats.allocatedBytes += size;
      this.stats.buffers++;
      this.stats.peakAllocatedBytes = Math.max(this.stats.peakAllocatedBytes, this.stats.allocatedBytes);
    }
    this.stats.liveBytes += size;
    this.stats.peakLiveBytes = Math.max(this.stats.peakLiveBytes, this.stats.liveBytes);
    return buffer;
  }

  /**
   * A new device buffer. Allocation fails asynchronously in WebGPU (the buffer comes back unusable), so an
   * error scope catches the failure and the next sync point throws it, naming the size and the fix.
   */
  private allocate(size: number): GPUBuffer {
    const { device } = this.gpu;
    device.pushErrorScope('out-of-memory');
    const buffer = device.createBuffer({ size, usage: STORAGE_USAGE });
    void device.popErrorScope().then(
      (e) => {
        if (!e) return;
        this.gpu.fail(
          new GpuOutOfMemoryError(
            `The GPU is out of memory: allocating ${mib(size)} failed (${e.message.trim()}). ${this.gpu.memoryReport()}. ${MEMORY_ADVICE}`,
          ),
        );
      },
      () => {},
    ); // rejected only when the device is gone, which Gpu.check() reports
    return buffer;
  }

  /**
   * Takes a buffer back for reuse. Each size class hands out its oldest free buffer first (the list is kept
   * in descending order of bufferId, so pop() takes the smallest): then the same work, started with the
   * same free buffers, gets the same buffers whatever order the last step freed them in, and its bind
   * groups are found in Commands' cache. (A stack would hand them out in a new order every step.)
   */
  release(buffer: GPUBuffer): void {
    this.stats.liveBytes -= bufferSize(buffer);
    let list = this.free.get(bufferSize(buffer));
    if (!list) this.free.set(bufferSize(buffer), (list = []));
    const id = bufferId(buffer);
    let i = list.length;
    while (i > 0 && bufferId(list[i - 1]) < id) i--;
    list.splice(i, 0, buffer);
  }

  /** Gives every pooled (free) buffer back to the device. */
  trim(): void {
    if (this.free.size) this.beforeDestroy();
    for (const list of this.free.values()) {
      for (const b of list) {
        this.stats.allocatedBytes -= bufferSize(b);
        this.stats.buffers--;
        b.destroy();
      }
    }
    this.free.clear();
  }

  memory(): MemoryStats {
    return { ...this.stats };
  }

  /** Starts a new peak measurement from the current level. */
  resetPeak(): void {
    this.stats.peakLiveBytes = this.stats.liveBytes;
    this.stats.peakAllocatedBytes = this.stats.allocatedBytes;
  }
}

function mib(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
