// The one place that talks to Dawn: creates the instance, picks the adapter, requests the limits and
// features we use (and says why), keeps the driver's noise off the terminal, and turns WebGPU's
// asynchronous errors into exceptions that name the object at fault and the fix.
import './globals.ts';
import { create } from 'webgpu';
import { withoutDriverNoise } from './driver-noise.ts';

export interface GpuOptions {
  /** Dawn backend: 'vulkan', 'metal', 'd3d12', 'd3d11', 'opengl', 'opengles', 'null'. Env: SEAL_WEBGPU_BACKEND. */
  backend?: string;
  /** Adapter name as Dawn lists it (a wrong name makes Dawn print the list). Env: SEAL_WEBGPU_ADAPTER. */
  adapter?: string;
  powerPreference?: GPUPowerPreference;
  /**
   * Caps on the limits the engine would otherwise take at the adapter's maximum (see REQUESTED_LIMITS).
   * Tests pin maxStorageBufferBindingSize to 128 MiB so that their over-one-binding tensors stay small on
   * GPUs that bind 2 GiB. A cap below WebGPU's default gets the default.
   */
  limits?: Partial<Record<RequestedLimit, number>>;
}

/** The optional features we use when the adapter has them. */
const WANTED_FEATURES: GPUFeatureName[] = ['shader-f16', 'subgroups', 'timestamp-query'];

/**
 * The limits we ask for above WebGPU's defaults, each at the adapter's maximum, and why. Every other limit
 * stays at its default, which every adapter offers (asking for every maximum gains nothing we use).
 */
const REQUESTED_LIMITS = {
  // A bigger binding splits big tensors into fewer windows (lavapipe binds 128 MiB, many GPUs 2–4 GiB).
  maxStorageBufferBindingSize: 'one binding covers more of a large tensor: fewer split dispatches',
  // One buffer per tensor: Llama-3.2-1B's embedding (128,256 × 2,048 bf16 = 501 MiB) exceeds the 256 MiB default.
  maxBufferSize: 'a tensor is one buffer, and weights exceed the 256 MiB default',
  // Fused kernels (attention's backward) bind more than the default 8 storage buffers.
  maxStorageBuffersPerShaderStage: 'fused kernels bind more than 8 storage buffers',
  // Kernels that stage tiles in workgroup memory may use more than the default 16 KiB where it exists.
  maxComputeWorkgroupStorageSize: 'tiles staged in workgroup memory',
} as const;
export type RequestedLimit = keyof typeof REQUESTED_LIMITS;

export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for CPU implementations (lavapipe/llvmpipe, SwiftShader): kernels are chosen differently there. */
  isCpu: boolean;
  features: string[];
  /** Lanes per subgroup: every size in [min, max] may occur (0 without the subgroups feature). */
  subgroupMinSize: number;
  subgroupMaxSize: number;
  /** WGSL's subgroup_id / num_subgroups builtins (language feature 'subgroup_id'). */
  subgroupId: boolean;
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxComputeWorkgroupsPerDimension: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupStorageSize: number;
  minStorageBufferOffsetAlignment: number;
  minUniformBufferOffsetAlignment: number;
}

/** Any WebGPU failure: a kernel or pipeline that does not validate, an internal error. */
export class GpuError extends Error {
  override name = 'GpuError';
}

/** What to do when memory runs out, for every message that says it did. */
export const MEMORY_ADVICE =
  'Use smaller batches (--batch-size, --inner-batch-size), shorter sequences or fewer new tokens (--max-new-tokens), ' +
  'or recompute activations in backward (--recompute); a SEAL run resumes where it stopped.';

/** A GPU allocation failed: the device is out of memory, or one tensor is larger than a buffer may be. */
export class GpuOutOfMemoryError extends GpuError {
  override name = 'GpuOutOfMemoryError';
}

/** The device is gone (driver reset, GPU removed, a kernel killed for running too long): nothing more runs on it. */
export class GpuDeviceLostError extends GpuError {
  override name = 'GpuDeviceLostError';
}

/** The limits as a plain object (the getters of GPUSupportedLimits live on its prototype). */
function copyLimits(limits: GPUSupportedLimits): GPUSupportedLimits {
  const copy: Record<string, number> = {};
  for (let o = limits; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const key of Object.getOwnPropertyNames(o)) {
      const value = (limits as unknown as Record<string, unknown>)[key];
      if (typeof value === 'number' && !(key in copy)) copy[key] = value;
    }
  }
  return Object.freeze(copy) as unknown as GPUSupportedLimits;
}

export class Gpu {
  readonly limits: GPUSupportedLimits;
  readonly features: ReadonlySet<string>;
  readonly report: AdapterReport;
  /** Where device memory stands, for the out-of-memory message (set by the buffer pool). */
  memoryReport: () => string = () => '';
  private pending: GpuError | null = null;
  private lost: GpuError | null = null;
  private destroying = false;

  constructor(
    /**
     * Dawn's instance processes the device's events: if it were garbage-collected, pending mapAsync and
     * onSubmittedWorkDone promises would never settle (and Dawn aborts at exit). Dropped by resetGpu().
     */
    // biome-ignore lint/correctness/noUnusedPrivateClassMembers: held so that it is not garbage-collected (above)
    private instance: GPU | null,
    readonly device: GPUDevice,
    info: GPUAdapterInfo,
  ) {
    // A plain copy: each read of Dawn's GPUSupportedLimits crosses into native code (about 0.1 µs), and
    // the ops read limits for every dispatch.
    this.limits = copyLimits(device.limits);
    this.features = new Set(device.features);
    const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.toLowerCase();
    const subgroups = this.features.has('subgroups');
    this.report = {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
      isCpu: /llvmpipe|lavapipe|swiftshader|software|cpu/.test(text),
      features: [...this.features].filter((f) => (WANTED_FEATURES as string[]).includes(f)).sort(),
      subgroupMinSize: subgroups ? (info.subgroupMinSize ?? 0) : 0,
      subgroupMaxSize: subgroups ? (info.subgroupMaxSize ?? 0) : 0,
      subgroupId: subgroups && !!instance?.wgslLanguageFeatures?.has('subgroup_id'),
      maxStorageBufferBindingSize: this.limits.maxStorageBufferBindingSize,
      maxBufferSize: this.limits.maxBufferSize,
      maxComputeWorkgroupsPerDimension: this.limits.maxComputeWorkgroupsPerDimension,
      maxComputeInvocationsPerWorkgroup: this.limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupStorageSize: this.limits.maxComputeWorkgroupStorageSize,
      minStorageBufferOffsetAlignment: this.limits.minStorageBufferOffsetAlignment,
      minUniformBufferOffsetAlignment: this.limits.minUniformBufferOffsetAlignment,
    };
    device.addEventListener('uncapturederror', (event) => {
      const e = (event as GPUUncapturedErrorEvent).error;
      event.preventDefault(); // it becomes an exception: Dawn need not print it too
      this.fail(
        e instanceof GPUOutOfMemoryError
          ? new GpuOutOfMemoryError(`The GPU is out of memory (${e.message.trim()}).${this.memory()} ${MEMORY_ADVICE}`)
          : new GpuError(`WebGPU ${e.constructor.name}: ${e.message}`),
      );
    });
    device.lost.then((info) => {
      // Our own destroy() is not a loss; anyone else's (or the driver's) is.
      if (this.destroying) return;
      this.lost = new GpuDeviceLostError(
        `The GPU device was lost (${info.reason}${info.message ? `: ${info.message.trim()}` : ''}): the driver reset it, ` +
          'it ran out of memory, or a kernel ran too long. Nothing more can run on it: start the process again ' +
          `(a SEAL run resumes where it stopped). If it happens again, it may be memory: ${MEMORY_ADVICE}`,
      );
    });
  }

  get hasF16(): boolean {
    return this.features.has('shader-f16');
  }
  get hasSubgroups(): boolean {
    return this.features.has('subgroups');
  }
  get hasTimestamps(): boolean {
    return this.features.has('timestamp-query');
  }

  /** Destroys the device and lets Dawn's instance go. */
  destroy(): void {
    this.destroying = true;
    this.device.destroy();
    this.instance = null;
  }

  /** Records an error found asynchronously; the first one is thrown at the next check (later ones are
   *  usually its consequences). */
  fail(e: GpuError): void {
    this.pending ??= e;
  }

  /** Throws the device loss or the first error recorded since the last check. Called at every sync point. */
  check(): void {
    if (this.lost) throw this.lost;
    const e = this.pending;
    if (e) {
      this.pending = null;
      throw e;
    }
  }

  private memory(): string {
    const m = this.memoryReport();
    return m ? ` ${m}.` : '';
  }
}

let current: Promise<Gpu> | null = null;

/** The process-wide GPU, created on first use. */
export function getGpu(options: GpuOptions = {}): Promise<Gpu> {
  current ??= createGpu(options);
  return current;
}

/** Destroys the device so the next getGpu() creates a fresh one (tests, device loss). */
export async function resetGpu(): Promise<void> {
  const old = current;
  current = null;
  if (old) (await old.catch(() => null))?.destroy();
}

export async function createGpu(options: GpuOptions = {}): Promise<Gpu> {
  const backend = options.backend ?? process.env.SEAL_WEBGPU_BACKEND;
  const adapterName = options.adapter ?? process.env.SEAL_WEBGPU_ADAPTER;
  const flags = ['disable-dawn-features=timestamp_quantization'];
  if (backend) flags.push(`backend=${backend}`);
  if (adapterName) flags.push(`adapter=${adapterName}`);

  const instance = create(flags);
  let adapter: GPUAdapter | null = null;
  let reason = '';
  try {
    // Dawn prints notes about the physical device while it enumerates adapters, synchronously in this call.
    adapter = await withoutDriverNoise(() => instance.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' }));
  } catch (e) {
    reason = ` (Dawn: ${(e as Error).message.trim()})`; // e.g. the adapters it did find, when a name matches none
  }
  if (!adapter) {
    throw new GpuError(
      'No WebGPU adapter found' +
        (backend || adapterName ? ` for backend=${backend ?? '(any)'} adapter=${adapterName ?? '(any)'}` : '') +
        `${reason}. Run \`bash scripts/setup.sh\` (as root it installs Mesa lavapipe, a Vulkan driver on the CPU), ` +
        'or unset SEAL_WEBGPU_BACKEND / SEAL_WEBGPU_ADAPTER.',
    );
  }
  const requiredFeatures = WANTED_FEATURES.filter((f) => adapter!.features.has(f));
  const requiredLimits: Record<string, number> = {};
  for (const key of Object.keys(REQUESTED_LIMITS) as RequestedLimit[]) {
    const offered = (adapter.limits as unknown as Record<string, number>)[key];
    const cap = options.limits?.[key];
    requiredLimits[key] = cap === undefined ? offered : Math.min(offered, cap);
  }
  for (const key of Object.keys(options.limits ?? {})) {
    if (!(key in REQUESTED_LIMITS)) {
      throw new RangeError(`GpuOptions.limits: "${key}" is not a limit the engine requests (${Object.keys(REQUESTED_LIMITS).join(', ')})`);
    }
  }
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits, label: 'seal' });
  return new Gpu(instance, device, adapter.info);
}
