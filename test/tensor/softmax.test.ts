import { afterEach, describe, expect, it } from 'vitest';
import * as ref from '../../src/tensor/cpu-reference.ts';
import { softmax } from '../../src/tensor/ops/softmax.ts';
import { backward, engine, fill, forceKernels, tensor } from '../../src/tensor/index.ts';
import { UNIT_ROUNDOFF, checkOp, expectAllClose } from '../helpers/check.ts';
import { forEachRowForm } from '../helpers/variants.ts';

const u = UNIT_ROUNDOFF.f32;

// exp() in WGSL is accurate to 3 + 2|x| ULP; after the max shift |x| ≲ 12 here (scaled N(0,1) scores), so
// ≤ 27 ULP per term; the normaliser sums Tk terms (≤ Tk·u). Probabilities are ≤ 1. The backward adds a
// Tk-term dot product of values ≲ 4.
const tols = (Tk: number) => ({ fwdTol: (Tk + 30) * u, gradTol: (2 * Tk + 30) * u * 8 });

// Every case with each form of the kernels: a workgroup per row under each form of the row reductions
// (workgroup-memory tree, subgroup operations), and an invocation per row.
forEachRowForm('softmax', 'softmax', () => {
  it('plain, along the last axis', async () => {
    for (const shape of [
      [3, 5],
      [2, 3, 70],
    ]) {
      await checkOp({
        name: 'softmax',
        inputs: [{ shape, grad: true, scale: 3 }],
        gpu: (x) => softmax(x),
        cpu: (x) => ref.softmax(x),
        ...tols(shape[shape.length - 1]),
      });
    }
  });

  it('attention: scaled, causal, with a key-padding mask and a fully masked row', async () => {
    const [B, H, T] = [2, 3, 6];
    const keyMask = [0, 0, 1, 1, 1, 1, /* b=1 */ 1, 1, 1, 1, 1, 0]; // b=0 left-padded by 2, b=1 right-padded by 1
    const opts = { scale: 0.25, causal: true };
    await checkOp({
      name: 'masked softmax',
      inputs: [
        { shape: [B, H, T, T], grad: true, scale: 3 },
        { shape: [B, T], values: keyMask, dtype: 'i32' },
      ],
      gpu: (x, m) => softmax(x, { ...opts, keyMask: m }),
      cpu: (x, m) => ref.softmax(x, { ...opts, keyMask: m }),
      ...tols(T),
    });
  });

  it('packed documents: each query sees only its own document (segment ids), 0 is padding', async () => {
    const [B, H, T] = [1, 2, 7];
    const segments = [1, 1, 1, 2, 2, 3, 0];
    const opts = { scale: 0.5, causal: true, segments: true };
    await checkOp({
      name: 'segmented softmax',
      inputs: [
        { shape: [B, H, T, T], grad: true, scale: 3 },
        { shape: [B, T], values: segments, dtype: 'i32' },
      ],
      gpu: (x, m) => softmax(x, { ...opts, keyMask: m }),
      cpu: (x, m) => ref.softmax(x, { ...opts, keyMask: m }),
      ...tols(T),
    });
  });

  it('decoding: queries after `past` cached keys', async () => {
    const [B, H, Tq, Tk] = [1, 2, 2, 7];
    const opts = { causal: true, past: 5 };
    await checkOp({
      name: 'softmax with past',
      inputs: [{ shape: [B, H, Tq, Tk], grad: true }],
      gpu: (x) => softmax(x, opts),
      cpu: (x) => ref.softmax(x, opts),
      ...tols(Tk),
    });
  });

  it('gives zeros, not NaN, on a row with every key masked', async () => {
    const y = await softmax(fill([1, 1, 1, 3], 1), { keyMask: tensor([0, 0, 0], [1, 3], 'i32') }).read();
    expect([...y]).toEqual([0, 0, 0]);
  });
});

describe('softmax', () => {
  afterEach(() => forceKernels(null));

  it('an invocation per row gives the bits of a workgroup per row with the workgroup-memory tree', async () => {
    // Causal, masked rows of 5 to 300 keys (fewer and more than the tree's 64 partial sums); forward and
    // gradient.
    for (const [B, H, T, Tk] of [
      [2, 3, 6, 6],
      [1, 2, 4, 300],
    ]) {
      const n = B * H * T * Tk;
      const xs = Array.from({ length: n }, (_, i) => Math.sin(i * 0.731) * 3);
      const dys = Array.from({ length: n }, (_, i) => Math.cos(i * 0.37));
      const mask = Array.from({ length: B * Tk }, (_, i) => (i % Tk === 1 ? 0 : 1));
      const run = async (form: string) => {
        forceKernels({ softmax: form, reduce: 'workgroup' });
        const x = tensor(xs, [B, H, T, Tk]);
        x.requiresGrad = true;
        const y = softmax(x, { scale: 0.5, causal: true, past: Tk - T, keyMask: tensor(mask, [B, Tk], 'i32') });
        backward(y, tensor(dys, [B, H, T, Tk]));
        const out = [Array.from(await y.readF32()), Array.from(await x.grad!.readF32())];
        [x, y].forEach((t) => t.dispose());
        return out;
      };
      expect(await run('row'), `(${B}, ${H}, ${T}, ${Tk})`).toEqual(await run('workgroup'));
    }
  });

  it('normalises rows of a tensor larger than one storage binding', async () => {
    const Tk = 4096;
    const R = Math.ceil((engine().gpu.limits.maxStorageBufferBindingSize / 4 / Tk) * 1.1);
    const y = await softmax(fill([R, Tk], 2)).read();
    for (const r of [0, R >> 1, R - 1])
      expectAllClose(y.subarray(r * Tk, (r + 1) * Tk), new Array(Tk).fill(1 / Tk), { atol: ((Tk + 30) * u) / Tk }, `row ${r}`);
  });
});
