// AdamW one hop from its reference: the float64 CPU reference (src/tensor/cpu-reference.ts) is checked
// against torch.optim.AdamW's own two steps (the llama-tiny fixture), and the GPU optimiser against the
// reference, with what the fixture does not exercise: clipping, other betas, several steps, a parameter
// without a gradient, and slots.
import { afterEach, describe, expect, it } from 'vitest';
import { type AdamWReferenceOptions, type AdamWReferenceState, adamwInit, adamwStep } from '../../src/tensor/cpu-reference.ts';
import { type Tensor, forceKernels, keep, parameter, tensor } from '../../src/tensor/index.ts';
import { AdamW } from '../../src/train/adamw.ts';
import { Rng } from '../../src/util/random.ts';
import { UNIT_ROUNDOFF, expectAllClose } from '../helpers/check.ts';
import { fixtureJson, fixtureTensors } from '../model/fixture.ts';

const u = UNIT_ROUNDOFF.f32;
const maxAbs = (xs: ArrayLike<number>) => Array.from(xs).reduce((m, x) => Math.max(m, Math.abs(x)), 0);

describe('the AdamW reference against torch.optim.AdamW (llama-tiny fixture)', () => {
  it('takes torch’s two steps: parameters and both moments', async () => {
    const hp = fixtureJson('inputs.json').adamw;
    const options: AdamWReferenceOptions = { lr: hp.lr, betas: hp.betas, eps: hp.eps, weightDecay: hp.weight_decay };
    const start = await fixtureTensors('adapter_model.safetensors');
    const trace = await fixtureTensors('adamw_trace.safetensors');
    const after = [await fixtureTensors('adapter_step1.safetensors'), await fixtureTensors('adapter_step2.safetensors')];
    const grads = [await fixtureTensors('grads.safetensors'), new Map([...start.keys()].map((n) => [n, trace.get(`step1/grad/${n}`)!]))];
    const names = [...start.keys()];
    expect(names).toHaveLength(28);

    // Each step starts from torch's own f32 parameters and moments (as the fixture's README advises), so
    // the steps are checked one at a time and no difference carries over.
    const before: { params: ArrayLike<number>[]; state: AdamWReferenceState }[] = [
      { params: names.map((n) => start.get(n)!), state: adamwInit(names.map((n) => start.get(n)!)) },
      {
        params: names.map((n) => after[0].get(n)!),
        state: {
          step: 1,
          m: names.map((n) => Float64Array.from(trace.get(`step1/exp_avg/${n}`)!)),
          v: names.map((n) => Float64Array.from(trace.get(`step1/exp_avg_sq/${n}`)!)),
        },
      },
    ];
    for (const step of [1, 2]) {
      const g = names.map((n) => grads[step - 1].get(n)!);
      const previous = { params: before[step - 1].params, m: before[step - 1].state.m };
      const { params, state } = adamwStep(previous.params, g, before[step - 1].state, options);
      expect(state.step).toBe(step);
      names.forEach((n, i) => {
        // torch runs in f32. Its parameter rounds twice at its own magnitude (the decay and the final add),
        // and its update Δ (≤ ~lr) carries ~10 roundings (the moments, √, the bias corrections, ε, the
        // product and the quotient); the moments m = β1·m + (1 − β1)·g round ~3 times at the size of
        // their terms, v (all terms positive) ~3 times at its own.
        const delta = Array.from(params[i], (p, j) => p - previous.params[i][j] * (1 - hp.lr * hp.weight_decay));
        expectAllClose(params[i], after[step - 1].get(n)!, { atol: 16 * u * maxAbs(delta), rtol: 2 * u }, `step ${step} ${n}`);
        const terms = Array.from(g[i], (x, j) => hp.betas[0] * Math.abs(previous.m[i][j]) + (1 - hp.betas[0]) * Math.abs(x));
        expectAllClose(state.m[i], trace.get(`step${step}/exp_avg/${n}`)!, { atol: 4 * u * maxAbs(terms) }, `step ${step} exp_avg ${n}`);
        expectAllClose(state.v[i], trace.get(`step${step}/exp_avg_sq/${n}`)!, { atol: 0, rtol: 4 * u }, `step ${step} exp_avg_sq ${n}`);
      });
    }
  });
});

/** f32 values, so that the GPU and the reference start from the same numbers. */
function normals(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal() * scale);
}

function gpuParameter(values: Float32Array, shape: number[]): Tensor {
  const t = keep(parameter(shape));
  t.write(values);
  return t;
}

describe('AdamW on the GPU against the float64 reference', () => {
  it('three steps with clipping, weight decay, other betas, and a parameter without a gradient at step 2', async () => {
    const rng = new Rng(5);
    const shapes = [[5, 7], [300], [33, 17]];
    const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
    const n = sizes.reduce((a, b) => a + b, 0);
    // The gradient norm (~√n ≈ 30 times the step's scale) is above max_grad_norm at every step, and the
    // scales differ from step to step: Adam alone is blind to one constant scale, clipping changes the mix.
    const scales = [1, 30, 0.03];
    const options = { lr: 1e-2, betas: [0.8, 0.99] as [number, number], eps: 1e-8, weightDecay: 0.1, maxGradNorm: 0.5 };
    const start = sizes.map((size) => normals(rng, size));
    const gpu = start.map((v, i) => gpuParameter(v, shapes[i]));
    const opt = new AdamW(gpu, options);
    let params: ArrayLike<number>[] = start;
    let state = adamwInit(params);
    // Error bound, accumulated over the steps. The GPU's clipping factor comes from an f32 sum of n
    // squares (relative error ≤ n·u, Higham §4.2); it scales g in m and v alike, so the update Δ moves by
    // at most ~n·u of itself, plus ~16 roundings (Vulkan's √ and ÷ may be off by 2.5 ULP). The parameter
    // rounds twice at its own magnitude per step.
    let atol = 0;
    for (let step = 1; step <= 3; step++) {
      const grads = sizes.map((size, i) => (step === 2 && i === 1 ? null : normals(rng, size, scales[step - 1])));
      const gpuBefore = await Promise.all(gpu.map((p) => p.read()));
      gpu.forEach((p, i) => (p.grad = grads[i] && keep(tensor(grads[i]!, shapes[i]))));
      opt.update();
      opt.zeroGrad();
      const previous = params;
      ({ params, state } = adamwStep(params, grads, state, options));
      const deltas = params.map((p, i) => maxAbs(Array.from(p, (x, j) => x - previous[i][j])));
      atol += (n + 16) * u * Math.max(...deltas);
      for (let i = 0; i < gpu.length; i++) {
        const got = await gpu[i].read();
        if (!grads[i]) expect(Array.from(got), `step ${step}: parameter ${i} has no gradient and stays`).toEqual(Array.from(gpuBefore[i]));
        expectAllClose(got, params[i], { atol, rtol: 2 * step * u }, `step ${step} parameter ${i}`);
      }
    }
    expect(state.step).toBe(3);
    opt.dispose();
    gpu.forEach((p) => p.dispose());
  });

  it('slots: each slot clips by its own norm and steps at its own rate (0 freezes it)', async () => {
    const rng = new Rng(9);
    const [slots, per] = [3, 40];
    const options = { lr: 1e-2, maxGradNorm: 1, weightDecay: 0.05 };
    const start = normals(rng, slots * per);
    const gpu = gpuParameter(start, [slots, per]);
    const opt = new AdamW([gpu], { ...options, slots });
    const lrs = [1e-2, 0, 3e-3];
    // Gradient scales per step and slot: one global norm would clip the small slots to nothing.
    const scales = [
      [1, 1, 100],
      [100, 1, 1],
    ];
    const slice = (x: ArrayLike<number>, s: number) => Array.from(x).slice(s * per, (s + 1) * per);
    let reference = Array.from({ length: slots }, (_, s) => ({ params: [slice(start, s)] as ArrayLike<number>[], state: adamwInit([slice(start, s)]) }));
    for (const stepScales of scales) {
      const grads = Float32Array.from({ length: slots * per }, (_, j) => rng.normal() * stepScales[Math.floor(j / per)]);
      gpu.grad = keep(tensor(grads, [slots, per]));
      opt.update(lrs);
      opt.zeroGrad();
      reference = reference.map((r, s) => adamwStep(r.params, [slice(grads, s)], r.state, { ...options, lr: lrs[s] }));
    }
    const got = await gpu.read();
    for (let s = 0; s < slots; s++) {
      if (lrs[s] === 0) expect(slice(got, s), `slot ${s} is frozen`).toEqual(slice(start, s));
      // As above, over two steps of ≤ lr each: the norm sums `per` squares.
      expectAllClose(slice(got, s), reference[s].params[0], { atol: 2 * (per + 16) * u * lrs[s] * 1.01, rtol: 4 * u }, `slot ${s}`);
    }
    expect(await opt.gradNorms()).toHaveLength(slots);
    opt.dispose();
    gpu.dispose();
  });
});

describe('AdamW: many tensors a dispatch', () => {
  afterEach(() => forceKernels(null));

  it('gives the bits of a dispatch per tensor: 11 tensors of 2 slots, one without a gradient, two steps', async () => {
    // 11 tensors fill a norm dispatch of 8 and one of 3, and four step dispatches of ≤ 3; with clipping
    // (the slots' norms) and without.
    const slots = 2;
    const sizes = [6, 40, 2, 130, 8, 14, 600, 4, 10, 18, 2];
    const run = async (form: string, maxGradNorm: number) => {
      forceKernels({ adamw: form });
      const rng = new Rng(3);
      const params = sizes.map((n) => gpuParameter(normals(rng, slots * n), [slots, n]));
      const opt = new AdamW(params, { lr: 1e-2, weightDecay: 0.1, maxGradNorm, slots });
      for (let step = 0; step < 2; step++) {
        params.forEach((p, i) => (p.grad = i === 3 ? null : keep(tensor(normals(rng, p.size, 3), p.shape))));
        opt.update([1e-2, 3e-3]);
        opt.zeroGrad();
      }
      const out = await Promise.all(params.map(async (p) => Array.from(await p.read())));
      const norms = maxGradNorm ? await opt.gradNorms() : [];
      opt.dispose();
      params.forEach((p) => p.dispose());
      return { out, norms };
    };
    for (const clip of [1, 0]) expect(await run('multi', clip), `maxGradNorm ${clip}`).toEqual(await run('per-tensor', clip));
  });
});
