// Per-kernel GPU time from timestamp queries. While profiling, Commands runs every dispatch in a compute
// pass of its own whose start and end the GPU stamps (GPUComputePassTimestampWrites); each submit
// resolves its stamps into a buffer that is read back when the GPU is done, and the durations add up per
// kernel. `SEAL_PROFILE=1` profiles a whole process and prints the table when the engine shuts down.
// Not profiling costs nothing: dispatches share one pass and no query exists.
//
// A pass per dispatch serialises work the GPU might otherwise overlap, so totals describe each kernel's
// own time, not the wall time of the run. Dawn quantises timestamps unless the instance is created with
// `disable-dawn-features=timestamp_quantization` (src/gpu/device.ts does).
import './globals.ts';

/** Timestamp pairs per submit; a full set makes Commands submit early. */
const PAIRS = 2048;

export interface KernelTime {
  kernel: string;
  count: number;
  /** Nanoseconds. */
  totalNs: number;
}

export class Profiler {
  private readonly querySet: GPUQuerySet;
  private readonly resolved: GPUBuffer;
  /** Kernel names of the pairs recorded since the last submit. */
  private names: string[] = [];
  private readonly totals = new Map<string, KernelTime>();
  private readbacks: Promise<void>[] = [];

  constructor(private readonly device: GPUDevice) {
    this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 * PAIRS, label: 'profiler' });
    this.resolved = device.createBuffer({ size: 16 * PAIRS, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC, label: 'profiler timestamps' });
  }

  /** No room for another dispatch before the next submit. */
  get full(): boolean {
    return this.names.length === PAIRS;
  }

  /** The descriptor of a pass that times one dispatch of `kernel`. */
  pass(kernel: string): GPUComputePassDescriptor {
    const i = this.names.length;
    this.names.push(kernel);
    return { timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } };
  }

  /**
   * Records the resolve of this submit's stamps at the end of `encoder`; returns what to call once the
   * encoder is submitted (it starts reading them back), or null when nothing was timed.
   */
  resolve(encoder: GPUCommandEncoder): (() => void) | null {
    const names = this.names;
    if (!names.length) return null;
    this.names = [];
    const bytes = 16 * names.length;
    encoder.resolveQuerySet(this.querySet, 0, 2 * names.length, this.resolved, 0);
    const readback = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'profiler readback' });
    encoder.copyBufferToBuffer(this.resolved, 0, readback, 0, bytes);
    return () => {
      this.readbacks.push(
        readback.mapAsync(GPUMapMode.READ).then(
          () => {
            const stamps = new BigUint64Array(readback.getMappedRange());
            names.forEach((kernel, i) => {
              const ns = Number(stamps[2 * i + 1] - stamps[2 * i]);
              const t = this.totals.get(kernel) ?? { kernel, count: 0, totalNs: 0 };
              t.count++;
              t.totalNs += Math.max(0, ns); // a stamp pair out of order (a driver's clock) counts as zero
              this.totals.set(kernel, t);
            });
            readback.destroy();
          },
          () => readback.destroy(), // the device went away: those stamps are lost
        ),
      );
    };
  }

  /** Waits for every submitted readback, then returns the kernels by total time, largest first. */
  async times(): Promise<KernelTime[]> {
    const pending = this.readbacks;
    this.readbacks = [];
    await Promise.all(pending);
    return this.snapshot();
  }

  /** What has been read back so far (synchronous: for an exit handler). */
  snapshot(): KernelTime[] {
    return [...this.totals.values()].sort((a, b) => b.totalNs - a.totalNs);
  }

  reset(): void {
    this.totals.clear();
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolved.destroy();
  }
}

/** The table SEAL_PROFILE prints: kernels by total GPU time, with count, total, mean and share. */
export function profileTable(times: KernelTime[]): string {
  if (!times.length) return 'GPU profile: no kernel ran.';
  const total = times.reduce((s, t) => s + t.totalNs, 0);
  const dispatches = times.reduce((s, t) => s + t.count, 0);
  const width = Math.min(80, Math.max(6, ...times.map((t) => t.kernel.length)));
  const ms = (ns: number) => (ns / 1e6).toFixed(3);
  const lines = [
    `GPU profile: ${ms(total)} ms of kernel time in ${dispatches} dispatches (one timed pass each)`,
    `${'kernel'.padEnd(width)}  ${'count'.padStart(7)}  ${'total ms'.padStart(10)}  ${'mean µs'.padStart(9)}  ${'share'.padStart(6)}`,
  ];
  for (const t of times) {
    const name = t.kernel.length > width ? `${t.kernel.slice(0, width - 1)}…` : t.kernel;
    lines.push(
      `${name.padEnd(width)}  ${String(t.count).padStart(7)}  ${ms(t.totalNs).padStart(10)}  ${(t.totalNs / t.count / 1e3).toFixed(1).padStart(9)}  ` +
        `${((100 * t.totalNs) / Math.max(1, total)).toFixed(1).padStart(5)}%`,
    );
  }
  return lines.join('\n');
}
