// AdamW on the GPU (shaders/adamw.wgsl) with PyTorch's semantics — decoupled weight decay, bias
// correction, f32 state — and global-norm gradient clipping computed on the GPU (no readback per step).
import { type Tensor, engine, keep, parameter } from '../tensor/index.ts';
import { Params, groups, k, ranges } from '../tensor/ops/launch.ts';

export interface AdamWOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** Clip the global gradient norm to this (torch.nn.utils.clip_grad_norm_); 0 or undefined: no clipping. */
  maxGradNorm?: number;
}

export class AdamW {
  /** Optimiser steps taken (t in the bias corrections). */
  step = 0;
  private readonly m: Tensor[];
  private readonly v: Tensor[];
  /** Σ g² over every parameter, refreshed each step (read it for logging with gradNorm()). */
  private readonly normSq: Tensor;

  constructor(
    readonly params: Tensor[],
    readonly options: AdamWOptions,
  ) {
    const zero = (p: Tensor) => {
      const t = keep(parameter(p.shape));
      t.write(new Float32Array(p.size));
      return t;
    };
    this.m = params.map(zero);
    this.v = params.map(zero);
    this.normSq = keep(parameter([1]));
  }

  /** Bytes of optimiser state on the GPU. */
  get stateBytes(): number {
    return this.m.reduce((s, t) => s + 2 * t.bytes, 0);
  }

  /** The global gradient norm of the last step (before clipping); reads back from the GPU. */
  async gradNorm(): Promise<number> {
    return Math.sqrt(await this.normSq.item());
  }

  /** One update from the parameters' accumulated .grad (a parameter without a gradient is left alone), at `lr`. */
  update(lr = this.options.lr): void {
    const { cmd } = engine();
    const [beta1, beta2] = this.options.betas ?? [0.9, 0.999];
    this.step++;
    this.normSq.write([0]);
    const sum = k('adamw.wgsl', 'main', { SUM_SQUARES: true });
    for (const p of this.params) {
      if (!p.grad) continue;
      for (const [s, e] of ranges(p.size, 4)) {
        const g = p.grad.bind(s, e);
        cmd.dispatch(sum, [g.binding, this.normSq.bind().binding], this.params_(e - s, lr, beta1, beta2, [g.base, 0, 0, 0]), 1);
      }
    }
    const step = k('adamw.wgsl', 'main', { STEP: true });
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      for (const [s, e] of ranges(p.size, 4)) {
        const views = [p, p.grad, this.m[i], this.v[i]].map((t) => t.bind(s, e));
        const bindings = [...views.map((w) => w.binding), this.normSq.bind().binding];
        cmd.dispatch(step, bindings, this.params_(e - s, lr, beta1, beta2, views.map((w) => w.base)), groups(e - s, 256));
      }
    });
  }

  private params_(n: number, lr: number, beta1: number, beta2: number, bases: number[]): Params {
    // Bias corrections in float64, as torch computes them with Python floats.
    const stepSize = lr / (1 - beta1 ** this.step);
    const bias2Sqrt = Math.sqrt(1 - beta2 ** this.step);
    const wd = this.options.weightDecay ?? 0;
    return new Params()
      .u32(n)
      .f32(1 - lr * wd, beta1, 1 - beta1, beta2, 1 - beta2, this.options.eps ?? 1e-8, -stepSize, bias2Sqrt, this.options.maxGradNorm ?? 0)
      .u32(...bases);
  }

  /** Drops every parameter's gradient (call after update, before the next accumulation). */
  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Restarts from zero state (SEAL resets the optimiser with the adapter for every inner loop). */
  reset(): void {
    this.step = 0;
    for (const t of [...this.m, ...this.v]) t.write(new Float32Array(t.size));
    this.zeroGrad();
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v, this.normSq]) t.dispose();
  }
}
