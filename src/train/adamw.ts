// AdamW on the GPU (shaders/adamw.wgsl) with PyTorch's semantics — decoupled weight decay, bias
// correction, f32 state — and global-norm gradient clipping computed on the GPU (no readback per step).
// With `slots`, every parameter stacks that many independent models along its first axis (parallel
// inner loops): each slot has its own gradient norm and its own learning rate (0 freezes a slot).
import { type Tensor, empty, engine, groups, k, keep, parameter, placeholder, ranges, variantFamily } from '../tensor/index.ts';

/**
 * The norm and step passes: a dispatch per tensor (and per slot, for the norm), or `multi`: 8 gradients a
 * norm dispatch and 3 tensors a step dispatch, with the same bits (shaders/adamw.wgsl). A LoRA adapter has
 * a few dozen small tensors, so the per-tensor form was mostly fixed costs: the tiny bench step made 56
 * AdamW dispatches, the demo's 16 slots 448 norm dispatches a step. `multi` needs every gradient within one
 * storage binding and 14 storage buffers a kernel; elsewhere the per-tensor form runs.
 */
export const ADAMW = variantFamily('adamw', ['per-tensor', 'multi'] as const);
const SUM_GROUP = 8;
const STEP_GROUP = 3;

/** shaders/adamw.wgsl's Hyper: the scalars every pass takes. */
type Hyper = {
  beta1: number;
  one_minus_beta1: number;
  beta2: number;
  one_minus_beta2: number;
  eps: number;
  bias2_sqrt: number;
  max_norm: number;
};

export interface AdamWOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** Clip the global gradient norm (per slot) to this (torch.nn.utils.clip_grad_norm_); 0 or undefined: off. */
  maxGradNorm?: number;
  /** Independent models stacked in each parameter (default 1). */
  slots?: number;
}

export class AdamW {
  /** Optimiser steps taken (t in the bias corrections). */
  step = 0;
  readonly slots: number;
  private readonly m: Tensor[];
  private readonly v: Tensor[];
  /** Σ g² per slot over every parameter, refreshed each step when clipping (read it with gradNorms()). */
  private readonly normSq: Tensor;
  private readonly slotScalars: Tensor;
  /** Stand-ins for the step's absent tensors: one buffer may not be bound writable twice in a dispatch. */
  private readonly scratch: Tensor[];

  constructor(
    readonly params: Tensor[],
    readonly options: AdamWOptions,
  ) {
    this.slots = options.slots ?? 1;
    for (const p of params) {
      if (p.size % this.slots) throw new TypeError(`AdamW: ${p.describe()} does not split into ${this.slots} slots`);
    }
    const zero = (p: Tensor) => {
      const t = keep(parameter(p.shape));
      t.write(new Float32Array(p.size));
      return t;
    };
    this.m = params.map(zero);
    this.v = params.map(zero);
    this.normSq = keep(parameter([this.slots]));
    this.slotScalars = keep(parameter([this.slots, 2]));
    this.scratch = Array.from({ length: 3 * (STEP_GROUP - 1) }, () => keep(empty([1])));
  }

  private get clips(): boolean {
    return (this.options.maxGradNorm ?? 0) > 0;
  }

  /** Bytes of optimiser state on the GPU. */
  get stateBytes(): number {
    return this.m.reduce((s, t) => s + 2 * t.bytes, 0);
  }

  /** The global gradient norm of the last step (before clipping), per slot; reads back from the GPU. Only
   *  computed when clipping is on. */
  async gradNorms(): Promise<number[]> {
    if (!this.clips) throw new Error('AdamW.gradNorms: the norm is computed only when clipping (maxGradNorm > 0)');
    return Array.from(await this.normSq.readF32(), Math.sqrt);
  }

  /**
   * One update from the parameters' accumulated .grad (a parameter without a gradient is left alone), at
   * `lr` — one rate for all slots, or one per slot.
   */
  update(lr: number | number[] = this.options.lr): void {
    const [beta1, beta2] = this.options.betas ?? [0.9, 0.999];
    const lrs = typeof lr === 'number' ? new Array(this.slots).fill(lr) : lr;
    if (lrs.length !== this.slots) throw new RangeError(`AdamW.update: ${lrs.length} learning rates for ${this.slots} slots`);
    this.step++;
    // Per-slot terms in float64, rounded once to f32, as torch does with Python floats.
    const wd = this.options.weightDecay ?? 0;
    this.slotScalars.write(lrs.flatMap((r) => [1 - r * wd, -r / (1 - beta1 ** this.step)]));
    // The shader's Hyper struct.
    const h: Hyper = {
      beta1,
      one_minus_beta1: 1 - beta1,
      beta2,
      one_minus_beta2: 1 - beta2,
      eps: this.options.eps ?? 1e-8,
      bias2_sqrt: Math.sqrt(1 - beta2 ** this.step),
      max_norm: this.options.maxGradNorm ?? 0,
    };
    const present = this.params.map((p, i) => ({ p, g: p.grad, i })).filter((x): x is { p: Tensor; g: Tensor; i: number } => x.g !== null);
    const { limits } = engine().gpu;
    const multi =
      ADAMW.pick(() => 'multi') === 'multi' &&
      limits.maxStorageBuffersPerShaderStage >= 4 * STEP_GROUP + 2 &&
      present.every(({ g }) => g.bytes <= limits.maxStorageBufferBindingSize);
    if (multi) this.updateMulti(present, h);
    else this.updatePerTensor(h);
  }

  /** The norm and step passes a dispatch per tensor (and per slot and binding window, for the norm). */
  private updatePerTensor(h: Hyper): void {
    const { cmd } = engine();
    // The norm passes add into normSq (the multi form's finish pass writes it whole instead).
    this.normSq.write(new Float32Array(this.slots));
    const sum = k('adamw.wgsl', 'main', { SUM_SQUARES: true });
    // The norm is only needed to clip: without clipping, skip a pass that costs a dispatch per slot and tensor.
    for (const p of this.clips ? this.params : []) {
      if (!p.grad) continue;
      const per = p.size / this.slots;
      for (let slot = 0; slot < this.slots; slot++) {
        for (const [s, e] of ranges(per, 4)) {
          const g = p.grad.bind(slot * per + s, slot * per + e);
          cmd.dispatch(sum, [g.binding, this.normSq.bind().binding], { n: e - s, h, base: g.base, slot_size: per, slot }, 1);
        }
      }
    }
    const step = k('adamw.wgsl', 'main', { STEP: true });
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      for (const [s, e] of ranges(p.size, 4)) {
        const views = [p, p.grad, this.m[i], this.v[i]].map((t) => t.bind(s, e));
        const bindings = [...views.map((w) => w.binding), this.normSq.bind().binding, this.slotScalars.bind().binding];
        const [base, base_g, base_m, base_v] = views.map((w) => w.base);
        const params = { n: e - s, h, base, base_g, base_m, base_v, first: s, slot_size: p.size / this.slots };
        cmd.dispatch(step, bindings, params, groups(e - s, step));
      }
    });
  }

  /** The same passes over many tensors a dispatch (every gradient within one binding). */
  private updateMulti(present: { p: Tensor; g: Tensor; i: number }[], h: Hyper): void {
    const { cmd } = engine();
    const slots = this.slots;
    if (this.clips && present.length) {
      // Σ g² of each (tensor, slot) into partial, then per slot in tensor order into normSq.
      const partial = empty([present.length * slots]);
      const sum = k('adamw.wgsl', 'main', { MULTI_SUM: true });
      for (let first = 0; first < present.length; first += SUM_GROUP) {
        const group = present.slice(first, first + SUM_GROUP);
        const bindings = [];
        const info = [];
        for (let j = 0; j < SUM_GROUP; j++) {
          const g = group[j]?.g.bind() ?? placeholder().bind();
          bindings.push(g.binding);
          info.push([group[j] ? g.base : 0, group[j] ? group[j].g.size / slots : 0, first + j, 0]);
        }
        cmd.dispatch(sum, [...bindings, partial.bind().binding], { count: group.length, slots, t_info: info }, group.length * slots);
      }
      const finish = k('adamw.wgsl', 'main', { MULTI_FINISH: true });
      cmd.dispatch(finish, [partial.bind().binding, this.normSq.bind().binding], { n: present.length, h, slot_size: slots }, groups(slots, finish));
      partial.dispose();
    } else if (this.clips) this.normSq.write(new Float32Array(slots)); // no gradient: norms of 0, as the per-tensor form
    const step = k('adamw.wgsl', 'main', { MULTI_STEP: true });
    // An absent tensor j ≥ 1 of a group: the read-only placeholder for its gradient, scratch for the rest.
    const absent = (j: number) => [this.scratch[3 * j - 3], placeholder(), this.scratch[3 * j - 2], this.scratch[3 * j - 1]];
    for (let first = 0; first < present.length; first += STEP_GROUP) {
      const group = present.slice(first, first + STEP_GROUP);
      const bindings = [];
      const bases = [];
      const info = [];
      let workgroups = 0;
      for (let j = 0; j < 4; j++) {
        const x = group[j];
        info.push([x ? x.p.size : 0, workgroups, x ? x.p.size / slots : 1, 0]);
        if (x) workgroups += groups(x.p.size, step);
      }
      for (let j = 0; j < STEP_GROUP; j++) {
        const x = group[j];
        const views = (x ? [x.p, x.g, this.m[x.i], this.v[x.i]] : absent(j)).map((t) => t.bind());
        bindings.push(...views.map((w) => w.binding));
        bases.push(views.map((w) => (x ? w.base : 0)));
      }
      const params = { h, count: group.length, t_info: info, bases };
      cmd.dispatch(step, [...bindings, this.normSq.bind().binding, this.slotScalars.bind().binding], params, workgroups);
    }
  }

  /** Drops every parameter's gradient (call after update, before the next accumulation). */
  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Restarts from zero state. */
  reset(): void {
    this.step = 0;
    for (const t of [...this.m, ...this.v]) t.write(new Float32Array(t.size));
    this.zeroGrad();
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v, this.normSq, this.slotScalars, ...this.scratch]) t.dispose();
  }
}
