// Kernel variants. Where an op has several kernels for one job (the GEMM's; the row reductions'), the op
// picks one for the adapter — a CPU adapter such as lavapipe wants other kernels than a GPU does. So that
// every variant is checked on every adapter, any of them can be forced, from this one place:
//
//   SEAL_KERNELS="gemm=gpu,reduce=subgroup"     the environment, for a whole process (read once, at first use)
//   forceKernels({ gemm: 'gpu' })                 tests and benchmarks; forceKernels(null) restores the choice
//
// A family declares itself once (`variantFamily('gemm', [...])`) and its op asks `family.pick(choose)`:
// the forced variant if any, else `choose()`, the adapter's choice. A new op with variants (attention's
// fused and materialising kernels, say) declares its own family the same way.
export class VariantFamily<V extends string = string> {
  private forced: V | null = null;

  constructor(
    readonly name: string,
    readonly variants: readonly V[],
    /** Whether this adapter can run a variant (subgroup kernels need subgroups). */
    readonly available: (variant: V) => boolean,
  ) {}

  /** The forced variant, else `choose()` — the adapter's choice. */
  pick(choose: () => V): V {
    return this.forced ?? (fromEnvironment().get(this.name) as V | undefined) ?? choose();
  }

  /** The variant forced by forceKernels or SEAL_KERNELS, or null. */
  get current(): V | null {
    return this.forced ?? (fromEnvironment().get(this.name) as V | undefined) ?? null;
  }

  force(variant: string | null): void {
    if (variant !== null && !(this.variants as readonly string[]).includes(variant)) {
      throw new Error(`${this.name} kernels: no variant "${variant}" (have ${this.variants.join(', ')})`);
    }
    this.forced = variant as V | null;
  }
}

const families = new Map<string, VariantFamily<string>>();

/** Declares an op's family of kernel variants (once, at module load). */
export function variantFamily<V extends string>(name: string, variants: readonly V[], available: (variant: V) => boolean = () => true): VariantFamily<V> {
  if (families.has(name)) throw new Error(`internal: kernel family "${name}" declared twice`);
  const family = new VariantFamily(name, variants, available);
  families.set(name, family as unknown as VariantFamily<string>); // looked up by name: any variant string
  return family;
}

/** Forces variants by family (a null entry restores that family's choice); null restores every family. */
export function forceKernels(choice: Record<string, string | null> | null): void {
  if (choice === null) {
    for (const f of families.values()) f.force(null);
    return;
  }
  for (const [name, variant] of Object.entries(choice)) family(name, 'forceKernels').force(variant);
}

/** Every family and its variants (for tests that loop over them, and error messages). */
export function kernelFamilies(): ReadonlyMap<string, VariantFamily<string>> {
  return families;
}

function family(name: string, where: string): VariantFamily {
  const f = families.get(name);
  if (!f) throw new Error(`${where}: no kernel family "${name}" (have ${[...families.keys()].join(', ')})`);
  return f;
}

let environment: Map<string, string> | null = null;

/** SEAL_KERNELS, parsed and checked against the declared families the first time a kernel is picked. */
function fromEnvironment(): Map<string, string> {
  if (environment) return environment;
  const parsed = new Map<string, string>();
  const text = process.env.SEAL_KERNELS?.trim();
  for (const item of text ? text.split(',') : []) {
    const [name, variant, extra] = item.split('=').map((s) => s.trim());
    if (!name || !variant || extra !== undefined) {
      throw new Error(`SEAL_KERNELS: "${item}" is not family=variant (e.g. SEAL_KERNELS="gemm=gpu,reduce=subgroup")`);
    }
    const f = family(name, 'SEAL_KERNELS');
    if (!(f.variants as readonly string[]).includes(variant)) {
      throw new Error(`SEAL_KERNELS: ${name} has no variant "${variant}" (have ${f.variants.join(', ')})`);
    }
    parsed.set(name, variant);
  }
  environment = parsed;
  return parsed;
}
