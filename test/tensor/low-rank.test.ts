// lowRankLinear (src/tensor/ops/low-rank.ts): y = x·Wᵀ + s·(x̃·A_sᵀ)·B_sᵀ per slot, forward and every
// gradient against the float64 reference (cpu-reference-matmul.ts) and central finite differences, with
// the branch as GEMMs and fused (shaders/low-rank.wgsl; the lavapipe-subgroup-N projects run it at 4 and
// 16 lanes). The cases cover both of the fused kernel's read forms (vec4 where every size is a multiple of
// 4, scalar with masks elsewhere), ranks that fill a quad of mid partly, slots whose rows fill its 8-row
// tiles partly, rows longer than one pass of its lanes, x̃ ≠ x, and an x without gradient (dh alone, by GEMM).
import { describe, expect, it } from 'vitest';
import * as ref from '../../src/tensor/cpu-reference-matmul.ts';
import type { Cpu } from '../../src/tensor/cpu-reference.ts';
import { type DType, decode, encode } from '../../src/tensor/dtype.ts';
import { backward, engine, forceKernels, keep, lowRankLinear, tensor, tidy } from '../../src/tensor/index.ts';
import { Rng } from '../../src/util/random.ts';
import { UNIT_ROUNDOFF, checkOp } from '../helpers/check.ts';
import { forEachVariant } from '../helpers/variants.ts';

// checkOp's upstream gradient is N(0,1): below 6 in magnitude for these sizes.
const G_MAX = 6;
const u = UNIT_ROUNDOFF.f32;

function values(n: number, rng: Rng, dtype: DType = 'f32'): Float64Array {
  return Float64Array.from(
    decode(
      encode(
        Array.from({ length: n }, () => rng.normal()),
        dtype,
      ),
      dtype,
    ),
  );
}

const abs = (t: Cpu): Cpu => ({ data: t.data.map(Math.abs), shape: t.shape });
const maxOf = (t: Cpu) => t.data.reduce((m, v) => Math.max(m, v), 0);

forEachVariant('lowRankLinear', 'lora', () => {
  const cases = [
    { N: 12, Cin: 10, Cout: 7, r: 4, slots: 1, dtype: 'f32' as DType, dropped: false },
    { N: 12, Cin: 10, Cout: 7, r: 4, slots: 3, dtype: 'bf16' as DType, dropped: false },
    { N: 8, Cin: 9, Cout: 5, r: 2, slots: 2, dtype: 'f32' as DType, dropped: true },
    { N: 16, Cin: 16, Cout: 8, r: 4, slots: 1, dtype: 'f32' as DType, dropped: false },
    { N: 20, Cin: 12, Cout: 20, r: 8, slots: 2, dtype: 'bf16' as DType, dropped: false },
    { N: 9, Cin: 13, Cout: 6, r: 6, slots: 1, dtype: 'f32' as DType, dropped: false },
    { N: 18, Cin: 8, Cout: 12, r: 4, slots: 2, dtype: 'f32' as DType, dropped: true },
    { N: 12, Cin: 8, Cout: 8, r: 4, slots: 1, dtype: 'f32' as DType, dropped: false, frozenX: true },
    // More than 4·16 columns and k: several passes of the fused kernel's loops at every lane count.
    { N: 10, Cin: 68, Cout: 72, r: 4, slots: 1, dtype: 'bf16' as DType, dropped: false },
  ];
  for (const c of cases) {
    const what = `${c.dropped ? ', x̃ ≠ x' : ''}${c.frozenX ? ', x without gradient' : ''}`;
    it(`${c.slots} slot(s), N ${c.N}, Cin ${c.Cin}, Cout ${c.Cout}, r ${c.r}, W ${c.dtype}${what}`, async () => {
      const { N, Cin, Cout, r, slots } = c;
      const n = N / slots;
      const s = 1.5;
      const rng = new Rng(7);
      const stack = (rows: number, cols: number) => (slots > 1 ? [slots, rows, cols] : [rows, cols]);
      const x = { data: values(N * Cin, rng), shape: [N, Cin] };
      const w = { data: values(Cout * Cin, rng, c.dtype), shape: [Cout, Cin] };
      const a = { data: values(slots * r * Cin, rng), shape: stack(r, Cin) };
      const b = { data: values(slots * Cout * r, rng), shape: stack(Cout, r) };
      const xd = c.dropped ? { data: values(N * Cin, rng), shape: [N, Cin] } : x;
      // Tolerances (Higham's bound for f32 sums, any order): each result is a chain of sums whose terms'
      // absolute values add up to the same computation done on |values| (the reference on abs inputs), and
      // every term passes through at most `length` roundings.
      const mag = ref.lowRankLinear(abs(x), abs(w), abs(a), abs(b), s, slots, abs(xd));
      const fwdTol = (Cin + r + 2) * u * maxOf(mag);
      // Gradients, bounded term by term with the largest |values|: dX = G·W + s·(G·B)·A (chains of
      // Cout + r), dA_s = s·(G_s·B_s)ᵀ·x̃_s (Cout + n), dB_s = s·G_sᵀ·(x̃_s·A_sᵀ) (Cin + n).
      const [mw, ma, mb, mx] = [w, a, b, xd].map((t) => maxOf(abs(t)));
      const gradX = G_MAX * Cout * mw + s * G_MAX * Cout * r * mb * ma;
      const gradA = s * G_MAX * Cout * mb * n * mx;
      const gradB = s * G_MAX * n * Cin * mx * ma;
      const gradTol = (Math.max(Cout + r, Cout + n, Cin + n) + 2) * u * Math.max(gradX, gradA, gradB);
      const inputs = [
        { shape: x.shape, values: x.data, grad: !c.frozenX },
        { shape: w.shape, values: w.data, dtype: c.dtype, grad: false },
        { shape: a.shape, values: a.data, grad: true },
        { shape: b.shape, values: b.data, grad: true },
        ...(c.dropped ? [{ shape: xd.shape, values: xd.data, grad: true }] : []),
      ];
      await checkOp({
        name: 'lowRankLinear',
        inputs,
        gpu: (xt, wt, at, bt, xdt) => lowRankLinear(xt, wt, at, bt, { scale: s, slots, dropped: xdt }),
        cpu: (xc, wc, ac, bc, xdc) => ref.lowRankLinear(xc, wc, ac, bc, s, slots, xdc ?? xc),
        fwdTol,
        gradTol,
        fdSamples: 24,
      });
    });
  }
});

describe('lowRankLinear', () => {
  it("fused, takes one dispatch for each pair of the branch's products, forward and backward", async (ctx) => {
    if (!engine().gpu.hasSubgroups) ctx.skip(); // the fused kernel needs subgroups
    // Sizes that are multiples of 4 and one slot: every GEMM is one dispatch (no K % 4 remainder).
    const rng = new Rng(3);
    const make = (shape: number[]) => keep(tensor(values(shape[0] * shape[1], rng), shape));
    const [x, w, a, b, g] = [make([16, 8]), make([12, 8]), make([4, 8]), make([12, 4]), make([16, 12])];
    for (const t of [x, a, b]) t.requiresGrad = true;
    const { cmd } = engine();
    const count = (variant: string) => {
      forceKernels({ lora: variant });
      const d0 = cmd.dispatches;
      const y = keep(lowRankLinear(x, w, a, b, { scale: 2 }));
      const d1 = cmd.dispatches;
      tidy(() => backward(y, g));
      const d2 = cmd.dispatches;
      y.dispose();
      for (const t of [x, a, b]) {
        t.grad?.dispose();
        t.grad = null;
      }
      forceKernels({ lora: null });
      return [d1 - d0, d2 - d1];
    };
    // GEMMs: x·Wᵀ, h, y += s·h·Bᵀ; G·W, dh, dx += dh·A, dA, dB. Fused: the pairs (h, y) and (dh, dx) as one.
    expect(count('gemm')).toEqual([3, 5]);
    expect(count('fused')).toEqual([2, 4]);
    await cmd.sync();
    for (const t of [x, w, a, b, g]) t.dispose();
  });

  it('names the shapes that do not fit', () => {
    const x = tensor(new Array(12).fill(0), [4, 3]);
    const w = tensor(new Array(6).fill(0), [2, 3]);
    const a = tensor(new Array(3).fill(0), [1, 3]);
    const b = tensor(new Array(2).fill(0), [2, 1]);
    expect(() => lowRankLinear(x, w, a, b, { scale: 1, slots: 3 })).toThrow(
      /lowRankLinear: shapes do not fit \(x \[4, 3\], W \[2, 3\], A \[1, 3\], B \[2, 1\], 3 slot/,
    );
  });
});
