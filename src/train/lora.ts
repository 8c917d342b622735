// LoRA adapters as PEFT makes them: on each targeted projection W (Cout, Cin), A (r, Cin) initialised
// Kaiming-uniform (PEFT's `kaiming_uniform_(a=√5)`, i.e. U(−1/√Cin, 1/√Cin)) and B (Cout, r) zero, so the
// adapted model starts equal to the base; y = W x (+ b) + (α/r)·B A dropout(x). The base weights and biases
// stay frozen (PEFT's bias="none").
// Saved and loaded in PEFT's format (adapter_config.json + adapter_model.safetensors with PEFT's names).
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from '../io/atomic-write.ts';
import { openSafetensors, writeGpuTensors } from '../io/safetensors.ts';
import type { Architecture } from '../io/hf-config.ts';
import { type Llama, PROJECTIONS, type ProjectionName, type Projection } from '../model/llama.ts';
import { type Tensor, engine, keep, parameter } from '../tensor/index.ts';
import { jsonSnippet } from '../util/json.ts';
import { Rng } from '../util/random.ts';

export interface LoraConfig {
  r: number;
  alpha: number;
  dropout: number;
  targets: ProjectionName[];
  /**
   * Independent adapters stacked in one (parallel inner loops): A is (slots, r, Cin), B (slots, Cout, r),
   * and a batch's rows split into `slots` equal consecutive groups, group s using adapter s. Default 1.
   */
  slots?: number;
}

/**
 * The modules PEFT adapts when a LoraConfig names none (TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING):
 * q_proj and v_proj for both llama and qwen2.
 */
export const PEFT_DEFAULT_TARGETS: Record<Architecture, readonly ProjectionName[]> = {
  llama: ['q_proj', 'v_proj'],
  qwen2: ['q_proj', 'v_proj'],
};

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';

/** PEFT's name for a projection's A or B matrix. */
export function peftName(projection: Projection, which: 'A' | 'B'): string {
  return `base_model.model.${projection.name.replace(/\.weight$/, '')}.lora_${which}.weight`;
}

export function checkTargets(targets: readonly string[]): ProjectionName[] {
  if (targets.length === 0) throw new Error('LoRA: no target modules given');
  for (const t of targets) {
    if (!(PROJECTIONS as readonly string[]).includes(t)) {
      throw new Error(`LoRA: target module ${jsonSnippet(t)} does not exist in a Llama or Qwen2 model; choose from ${PROJECTIONS.join(', ')}`);
    }
  }
  return [...new Set(targets)] as ProjectionName[];
}

interface Target {
  projection: Projection;
  A: Tensor;
  B: Tensor;
}

export class LoraAdapter {
  readonly config: LoraConfig;
  private readonly targets: Target[];
  /** The state reset() returns to (a GPU copy, so a reset is a buffer copy). */
  private initial: Tensor[] | null = null;

  private constructor(
    readonly model: Llama,
    config: LoraConfig,
  ) {
    this.config = { ...config, targets: checkTargets(config.targets) };
    if (!(Number.isInteger(config.r) && config.r > 0)) throw new RangeError(`LoRA: rank ${config.r} must be a positive integer`);
    if (!(config.dropout >= 0 && config.dropout < 1)) throw new RangeError(`LoRA: dropout ${config.dropout} must be in [0, 1)`);
    this.targets = model
      .projections()
      .filter((p) => this.config.targets.some((t) => p.name.endsWith(`.${t}.weight`)))
      .map((projection) => {
        const [Cout, Cin] = projection.weight.shape;
        const slots = this.slots;
        const A = keep(parameter(slots > 1 ? [slots, config.r, Cin] : [config.r, Cin]));
        const B = keep(parameter(slots > 1 ? [slots, Cout, config.r] : [Cout, config.r]));
        A.requiresGrad = B.requiresGrad = true;
        A.name = peftName(projection, 'A');
        B.name = peftName(projection, 'B');
        return { projection, A, B };
      });
  }

  /** A fresh adapter on `model` (attached), initialised as PEFT does from `seed` (one per slot). */
  static create(model: Llama, config: LoraConfig, seed: number | number[] = 0): LoraAdapter {
    const adapter = new LoraAdapter(model, config);
    adapter.initialise(seed);
    adapter.attach();
    return adapter;
  }

  /** Loads a PEFT adapter folder onto `model` (attached). */
  static async load(model: Llama, dir: string): Promise<LoraAdapter> {
    const config = await readAdapterConfig(dir, model.config.architecture);
    delete config.slots;
    const adapter = new LoraAdapter(model, config);
    const file = join(dir, ADAPTER_WEIGHTS);
    if (!existsSync(file)) throw new Error(`${dir} has no ${ADAPTER_WEIGHTS}: not a PEFT adapter folder`);
    const weights = await openSafetensors(file);
    try {
      for (const p of adapter.parameters()) {
        if (!weights.has(p.name!)) throw new Error(`${file}: tensor "${p.name}" is missing (adapter and model do not match)`);
        const info = weights.info(p.name!);
        if (info.shape.join() !== p.shape.join()) {
          throw new Error(`${file}: "${p.name}" has shape [${info.shape}], the model needs [${p.shape}] (adapter and model do not match)`);
        }
        p.write(await weights.readToCpu(p.name!));
      }
    } catch (e) {
      adapter.dispose();
      throw e;
    } finally {
      await weights.close();
    }
    adapter.attach();
    return adapter;
  }

  /** A and B of every adapted projection, in PEFT's module order. */
  parameters(): Tensor[] {
    return this.targets.flatMap((t) => [t.A, t.B]);
  }

  get scale(): number {
    return this.config.alpha / this.config.r;
  }

  /** Independent adapters stacked in this one. */
  get slots(): number {
    return this.config.slots ?? 1;
  }

  attach(): void {
    for (const t of this.targets) t.projection.delta = { A: t.A, B: t.B, scale: this.scale, dropout: this.config.dropout, slots: this.slots };
  }

  detach(): void {
    for (const t of this.targets) delete t.projection.delta;
  }

  /**
   * PEFT's initialisation: A ~ U(−1/√Cin, 1/√Cin), B = 0. Slot s draws from its own seed, in the order a
   * single adapter would, so a slot starts exactly as a lone adapter with that seed.
   */
  initialise(seed: number | number[]): void {
    const seeds = typeof seed === 'number' ? new Array(this.slots).fill(seed) : seed;
    if (seeds.length !== this.slots) throw new RangeError(`LoRA: ${seeds.length} seeds for ${this.slots} slots`);
    const values = this.targets.map(({ A }) => new Float32Array(A.size));
    seeds.forEach((sd, slot) => {
      const rng = new Rng(sd);
      this.targets.forEach(({ A }, i) => {
        const per = A.size / this.slots;
        const bound = 1 / Math.sqrt(A.shape[A.shape.length - 1]);
        for (let j = 0; j < per; j++) values[i][slot * per + j] = (2 * rng.uniform() - 1) * bound;
      });
    });
    this.targets.forEach(({ A, B }, i) => {
      A.write(values[i]);
      B.write(new Float32Array(B.size));
    });
    this.snapshot();
  }

  /** Remembers the current values as the state reset() returns to. */
  snapshot(): void {
    this.initial ??= this.parameters().map((p) => keep(parameter(p.shape)));
    this.parameters().forEach((p, i) => engine().cmd.copy(p.buffer, 0, this.initial![i].buffer, 0, p.bytes));
  }

  /** Back to the snapshot (a fresh or a given initial state): one buffer copy per tensor, gradients dropped. */
  reset(): void {
    if (!this.initial) throw new Error('LoRA: reset() before any initial state was recorded');
    this.parameters().forEach((p, i) => {
      engine().cmd.copy(this.initial![i].buffer, 0, p.buffer, 0, p.bytes);
      p.grad?.dispose();
      p.grad = null;
    });
  }

  /** Writes adapter_config.json and adapter_model.safetensors as PEFT's save_pretrained does. */
  async save(dir: string, baseModel = ''): Promise<void> {
    if (this.slots > 1) throw new Error('LoRA: an adapter with several slots (parallel inner loops) has no PEFT form; save single adapters');
    await mkdir(dir, { recursive: true });
    await writeGpuTensors(
      join(dir, ADAPTER_WEIGHTS),
      this.parameters().map((t) => [t.name!, t] as const),
    );
    await writeFileAtomically(join(dir, ADAPTER_CONFIG), JSON.stringify(peftConfig(this.config, baseModel), null, 2) + '\n');
  }

  dispose(): void {
    this.detach();
    for (const p of this.parameters()) p.dispose();
    this.initial?.forEach((t) => t.dispose());
  }
}

/** adapter_config.json as PEFT v0.13 writes it for a causal-LM LoRA. */
function peftConfig(c: LoraConfig, baseModel: string) {
  return {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: baseModel,
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layer_replication: null,
    layers_pattern: null,
    layers_to_transform: null,
    loftq_config: {},
    lora_alpha: c.alpha,
    lora_dropout: c.dropout,
    megatron_config: null,
    megatron_core: 'megatron.core',
    modules_to_save: null,
    peft_type: 'LORA',
    r: c.r,
    rank_pattern: {},
    revision: null,
    target_modules: c.targets,
    task_type: 'CAUSAL_LM',
    use_dora: false,
    use_rslora: false,
  };
}

/** A PEFT adapter folder that cannot be read: the message names the file and the field. */
export class AdapterError extends Error {
  override name = 'AdapterError';
}

/** PEFT's LoraConfig defaults, for fields a file leaves out. */
const PEFT_DEFAULTS = { r: 8, lora_alpha: 8, lora_dropout: 0 };

/**
 * Reads a PEFT adapter_config.json describing a plain LoRA: rank, alpha, dropout and target modules. The
 * variants that change what the weights mean (DoRA, rsLoRA, biases, fan-in-fan-out, per-module ranks, a
 * subset of layers, extra saved modules) are refused by name rather than read wrongly.
 */
/** target_modules absent or null means PEFT's default for the model's architecture. */
export async function readAdapterConfig(dir: string, architecture: Architecture = 'llama'): Promise<LoraConfig> {
  const file = join(dir, ADAPTER_CONFIG);
  if (!existsSync(file))
    throw new AdapterError(`No adapter at ${dir}: ${ADAPTER_CONFIG} is missing (pass a folder written by PEFT's save_pretrained or by seal finetune)`);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new AdapterError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  const bad = (what: string): never => {
    throw new AdapterError(`${file}: ${what}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad(`expected a JSON object (PEFT's LoraConfig), got ${jsonSnippet(raw)}`);
  const c = raw as Record<string, unknown>;
  const given = (key: string) => c[key] !== undefined && c[key] !== null;
  const field = (key: keyof typeof PEFT_DEFAULTS) => (given(key) ? c[key] : PEFT_DEFAULTS[key]);

  if (given('peft_type') && c.peft_type !== 'LORA') bad(`peft_type ${jsonSnippet(c.peft_type)} is not supported (LORA only)`);
  const r = field('r');
  if (!Number.isSafeInteger(r) || (r as number) < 1) bad(`"r" is ${jsonSnippet(r)}; the rank must be a positive integer`);
  const alpha = field('lora_alpha');
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) bad(`"lora_alpha" is ${jsonSnippet(alpha)}; expected a number`);
  const dropout = field('lora_dropout');
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) bad(`"lora_dropout" is ${jsonSnippet(dropout)}; expected a number in [0, 1)`);
  for (const [key, what] of [
    ['use_dora', 'DoRA'],
    ['use_rslora', 'rank-stabilised LoRA'],
    ['fan_in_fan_out', 'fan_in_fan_out (transposed weights)'],
  ] as const) {
    if (given(key) && c[key] !== false) bad(`"${key}" is ${jsonSnippet(c[key])}: ${what} is not supported`);
  }
  if (given('bias') && c.bias !== 'none') bad(`"bias" is ${jsonSnippet(c.bias)}: LoRA bias terms are not supported ("none" only)`);
  for (const key of ['rank_pattern', 'alpha_pattern']) {
    const v = c[key];
    if (given(key) && !(typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0)) {
      bad(`"${key}" is ${jsonSnippet(v)}: per-module ranks and alphas are not supported`);
    }
  }
  for (const [key, what] of [
    ['modules_to_save', 'extra saved modules'],
    ['layers_to_transform', 'adapting only some layers'],
    ['layer_replication', 'layer replication'],
  ] as const) {
    if (given(key)) bad(`"${key}" is ${jsonSnippet(c[key])}: ${what} is not supported`);
  }
  let targets = given('target_modules') ? c.target_modules : [...PEFT_DEFAULT_TARGETS[architecture]];
  if (typeof targets === 'string') {
    if (targets === 'all-linear') targets = [...PROJECTIONS];
    else bad(`target_modules "${targets}" (a regex) is not supported; list the module names`);
  }
  if (!Array.isArray(targets)) return bad(`"target_modules" is ${jsonSnippet(targets)}; expected a list of module names`);
  try {
    return { r: r as number, alpha: alpha as number, dropout: dropout as number, targets: checkTargets(targets) };
  } catch (e) {
    return bad(`"target_modules": ${(e as Error).message}`);
  }
}
