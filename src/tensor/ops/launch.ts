// What every op's host side needs: the engine, its kernels, and splitting work so that each dispatch's
// bindings fit the adapter's maxStorageBufferBindingSize.
import { type Engine, engine } from '../../gpu/engine.ts';
import { type Tensor, empty, keep } from '../tensor.ts';
import { type Defines, type Kernel, kernel } from '../../gpu/pipelines.ts';
import { type VariantFamily, variantFamily } from './variants.ts';

export { engine };

export function k(file: string, entry: string, defines: Defines = {}) {
  return kernel(engine().gpu, file, entry, defines);
}

/**
 * Splits [0, n) units (elements or rows) into ranges whose bindings fit: `bytesPerUnit` is the largest
 * number of bytes one unit occupies in any operand that will be bound by range. `granule` keeps range
 * starts at a multiple (2 for packed half tensors, so a range never starts inside a u32).
 */
export function ranges(n: number, bytesPerUnit: number, granule = 1): [number, number][] {
  const { limits } = engine().gpu;
  // A window starts up to one alignment before its first byte, and ends on a 4-byte boundary.
  const budget = limits.maxStorageBufferBindingSize - limits.minStorageBufferOffsetAlignment - 4;
  let per = Math.max(1, Math.floor(budget / Math.max(1, bytesPerUnit)));
  if (per < n) per = Math.max(granule, per - (per % granule));
  const out: [number, number][] = [];
  for (let s = 0; s < n; s += per) out.push([s, Math.min(n, s + per)]);
  if (out.length === 0) out.push([0, 0]);
  return out;
}

/** Workgroups needed for `n` items at `per` items each, or at one item per invocation of kernel `per`. */
export function groups(n: number, per: number | Kernel): number {
  if (typeof per === 'number') return Math.ceil(n / per);
  const [x, y, z] = per.workgroupSize;
  return Math.ceil(n / (x * y * z));
}

const placeholders = new WeakMap<Engine, Tensor>();

/** A one-element buffer to bind where a kernel's optional input is absent (never read). */
export function placeholder(): Tensor {
  let t = placeholders.get(engine());
  if (!t) placeholders.set(engine(), (t = keep(empty([1], 'i32'))));
  return t;
}

/** Row reductions (shaders/workgroup.wgsl): a tree over workgroup memory, or subgroup operations. */
export const REDUCE = variantFamily('reduce', ['workgroup', 'subgroup'] as const, (v) => v === 'workgroup' || engine().gpu.report.subgroupId);

/**
 * The define that picks the row-reduction form of softmax, rmsnorm, cross-entropy and the reductions: the
 * subgroup form on GPUs that have subgroups and WGSL's subgroup_id, the tree on CPU adapters (where it is
 * also what the fixture tests were calibrated on) and elsewhere — unless forced (see variants.ts).
 */
export function reduction(): { SUBGROUP_REDUCE: boolean } {
  const { report } = engine().gpu;
  const form = REDUCE.pick(() => (!report.isCpu && report.subgroupId ? 'subgroup' : 'workgroup'));
  if (!REDUCE.available(form)) {
    throw new Error("reduce: the subgroup form needs subgroups and WGSL's subgroup_id builtin, which this adapter does not offer");
  }
  return { SUBGROUP_REDUCE: form === 'subgroup' };
}

/**
 * A row kernel's form (softmax, rmsnorm): `workgroup`, a workgroup per row summing in the adapter's
 * reduction form, or `row`, an invocation per row and ROWS rows a workgroup (shaders/workgroup.wgsl's
 * ROW: no barrier; it sums in the tree's order, so on a CPU adapter the two give the same bits). CPU
 * adapters take `row`: their barriers cost most of a small row kernel. Returns the defines and the
 * workgroup count for `rows` rows of the kernel made with them.
 */
export function rowKernel(family: VariantFamily<RowForm>, rows: number): { defines: Defines; workgroups: (kern: Kernel) => number } {
  const row = family.pick(() => (engine().gpu.report.isCpu ? 'row' : 'workgroup')) === 'row';
  return row
    ? { defines: { ROW: true, SUBGROUP_REDUCE: false }, workgroups: (kern) => groups(rows, kern) }
    : { defines: { ROW: false, ...reduction() }, workgroups: () => rows };
}
export type RowForm = 'workgroup' | 'row';
export const ROW_FORMS = ['workgroup', 'row'] as const;
