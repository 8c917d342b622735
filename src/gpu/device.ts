// The one place that talks to Dawn: creates the instance, picks the adapter, requests its limits and
// features, and turns WebGPU's asynchronous errors into exceptions that name the object at fault.
import './globals.ts';
import { create } from 'webgpu';

export interface GpuOptions {
  /** Dawn backend: 'vulkan', 'metal', 'd3d12', 'd3d11', 'opengl', 'opengles', 'null'. Env: SEAL_WEBGPU_BACKEND. */
  backend?: string;
  /** Adapter name as Dawn lists it (a wrong name makes Dawn print the list). Env: SEAL_WEBGPU_ADAPTER. */
  adapter?: string;
  powerPreference?: GPUPowerPreference;
}

/** The optional features we use when the adapter has them. */
const WANTED_FEATURES: GPUFeatureName[] = ['shader-f16', 'subgroups', 'timestamp-query'];

export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for CPU implementations (lavapipe/llvmpipe, SwiftShader): kernels are chosen differently there. */
  isCpu: boolean;
  features: string[];
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxComputeWorkgroupsPerDimension: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupStorageSize: number;
  minStorageBufferOffsetAlignment: number;
  minUniformBufferOffsetAlignment: number;
}

export class GpuError extends Error {
  override name = 'GpuError';
}

export class Gpu {
  readonly limits: GPUSupportedLimits;
  readonly features: ReadonlySet<string>;
  readonly report: AdapterReport;
  private pending: GpuError | null = null;
  private lost: GpuError | null = null;

  constructor(
    /**
     * Dawn's instance processes the device's events: if it were garbage-collected, pending mapAsync and
     * onSubmittedWorkDone promises would never settle (and Dawn aborts at exit). Dropped by resetGpu().
     */
    private instance: GPU | null,
    readonly device: GPUDevice,
    info: GPUAdapterInfo,
  ) {
    this.limits = device.limits;
    this.features = new Set(device.features);
    const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.toLowerCase();
    this.report = {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
      isCpu: /llvmpipe|lavapipe|swiftshader|software|cpu/.test(text),
      features: [...this.features].filter((f) => (WANTED_FEATURES as string[]).includes(f)).sort(),
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
      // Keep the first: later errors are usually consequences of it.
      this.pending ??= new GpuError(`WebGPU ${e.constructor.name}: ${e.message}`);
    });
    device.lost.then((info) => {
      if (info.reason !== 'destroyed') this.lost = new GpuError(`WebGPU device lost (${info.reason}): ${info.message}`);
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
    this.device.destroy();
    this.instance = null;
  }

  /** Throws the first uncaptured WebGPU error or the device loss, if any happened. Called at every sync point. */
  check(): void {
    if (this.lost) throw this.lost;
    const e = this.pending;
    if (e) {
      this.pending = null;
      throw e;
    }
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
    adapter = await instance.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
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
  // Ask for everything the adapter can do: 128 MiB vs 2 GiB bindings decide how tensors are split.
  const requiredLimits: Record<string, number> = {};
  for (const key in adapter.limits) {
    const value = (adapter.limits as unknown as Record<string, unknown>)[key];
    if (typeof value === 'number') requiredLimits[key] = value;
  }
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits, label: 'seal' });
  return new Gpu(instance, device, adapter.info);
}
