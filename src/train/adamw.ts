// AdamW on the GPU (shaders/adamw.wgsl) with PyTorch's semantics — decoupled weight decay, bias
// correction, f32 state — and global-norm gradient clipping computed on the GPU (no readback per step).
// With `slots`, every parameter stacks that many independent models along its first axis (parallel
// inner loops): each slot has its own gradient norm and its own learning rate (0 freezes a slot).
import { Params, type Tensor, engine, groups, k, keep, parameter, ranges } from '../tensor/index.ts';

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
    const { cmd } = engine();
    const [beta1, beta2] = this.options.betas ?? [0.9, 0.999];
    const lrs = typeof lr === 'number' ? new Array(this.slots).fill(lr) : lr;
    if (lrs.length !== this.slots) throw new RangeError(`AdamW.update: ${lrs.length} learning rates for ${this.slots} slots`);
    this.step++;
    // Per-slot terms in float64, rounded once to f32, as torch does with Python floats.
    const wd = this.options.weightDecay ?? 0;
    this.slotScalars.write(lrs.flatMap((r) => [1 - r * wd, -r / (1 - beta1 ** this.step)]));
    this.normSq.write(new Float32Array(this.slots));
    const common = (n: number) =>
      new Params().u32(n).f32(beta1, 1 - beta1, beta2, 1 - beta2, this.options.eps ?? 1e-8, Math.sqrt(1 - beta2 ** this.step), this.options.maxGradNorm ?? 0);
    const sum = k('adamw.wgsl', 'main', { SUM_SQUARES: true });
    // The norm is only needed to clip: without clipping, skip a pass that costs a dispatch per slot and tensor.
    for (const p of this.clips ? this.params : []) {
      if (!p.grad) continue;
      const per = p.size / this.slots;
      for (let slot = 0; slot < this.slots; slot++) {
        for (const [s, e] of ranges(per, 4)) {
          const g = p.grad.bind(slot * per + s, slot * per + e);
          cmd.dispatch(sum, [g.binding, this.normSq.bind().binding], common(e - s).u32(g.base, 0, 0, 0, 0, per, slot), 1);
        }
      }
    }
    const step = k('adamw.wgsl', 'main', { STEP: true });
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      for (const [s, e] of ranges(p.size, 4)) {
        const views = [p, p.grad, this.m[i], this.v[i]].map((t) => t.bind(s, e));
        const bindings = [...views.map((w) => w.binding), this.normSq.bind().binding, this.slotScalars.bind().binding];
        cmd.dispatch(step, bindings, common(e - s).u32(...views.map((w) => w.base), s, p.size / this.slots, 0), groups(e - s, 256));
      }
    });
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
    for (const t of [...this.m, ...this.v, this.normSq, this.slotScalars]) t.dispose();
  }
}
