// GPU memory: a pool of storage buffers in size classes, reused after release, with live and peak byte
// counters. Queue order makes reuse safe: a buffer released while work that reads it is still queued can
// be handed out again, because every later use is queued after that work (uploads flush first, see
// Commands.write).
import './globals.ts';
import type { Gpu } from './device.ts';

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

  constructor(private readonly gpu: Gpu) {}

  /**
   * A storage buffer of at least `bytes`. `exact` skips the size classes (for weights and other
   * long-lived tensors, where class slack would be paid for the whole run).
   */
  acquire(bytes: number, exact = false): GPUBuffer {
    const size = exact ? Math.max(256, Math.ceil(bytes / 256) * 256) : sizeClass(bytes);
    if (size > this.gpu.limits.maxBufferSize) {
      throw new RangeError(
        `A ${bytes}-byte tensor exceeds this adapter's maxBufferSize (${this.gpu.limits.maxBufferSize} bytes).`,
      );
    }
    let buffer = this.free.get(size)?.pop();
    if (!buffer) {
      this.gpu.check();
      buffer = this.gpu.device.createBuffer({ size, usage: STORAGE_USAGE });
      this.stats.allocatedBytes += size;
      this.stats.buffers++;
      this.stats.peakAllocatedBytes = Math.max(this.stats.peakAllocatedBytes, this.stats.allocatedBytes);
    }
    this.stats.liveBytes += size;
    this.stats.peakLiveBytes = Math.max(this.stats.peakLiveBytes, this.stats.liveBytes);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    this.stats.liveBytes -= buffer.size;
    let list = this.free.get(buffer.size);
    if (!list) this.free.set(buffer.size, (list = []));
    list.push(buffer);
  }

  /** Gives every pooled (free) buffer back to the device. */
  trim(): void {
    for (const list of this.free.values()) {
      for (const b of list) {
        this.stats.allocatedBytes -= b.size;
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
