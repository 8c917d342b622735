// Test helpers: allclose with a useful failure message, tolerances from dtype and reduction length, and
// checkOp — one helper that checks any op's forward against its float64 CPU reference and its backward
// against central finite differences of that reference.
import { expect } from 'vitest';
import type { Cpu } from '../../src/tensor/cpu-reference.ts';
import { type DType, decode, encode } from '../../src/tensor/dtype.ts';
import { type Tensor, backward, tensor, tidy } from '../../src/tensor/tensor.ts';
import { Rng } from '../../src/util/random.ts';

/** Unit roundoff: half the distance from 1 to the next representable number. */
export const UNIT_ROUNDOFF: Record<DType, number> = { f32: 2 ** -24, f16: 2 ** -11, bf16: 2 ** -8, i32: 0 };

/**
 * Worst-case error of a float32 sum of `n` terms whose absolute values add up to `absSum`: each of the
 * n − 1 additions rounds with relative error ≤ u, so |error| ≤ (n − 1)·u·absSum (Higham, Accuracy and
 * Stability of Numerical Algorithms, §4.2), plus one rounding of each product term. Tree reductions do
 * better, but the bound holds for every summation order we use.
 */
export function f32Bound(n: number, absSum: number): number {
  return Math.max(1, n) * UNIT_ROUNDOFF.f32 * absSum;
}

export function expectAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { atol, rtol = 0 }: { atol: number; rtol?: number },
  what = 'values',
): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = -1;
  let worstExcess = 0;
  let maxDiff = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const diff = Math.abs(a - e);
    if (!(diff <= atol + rtol * Math.abs(e)) || Number.isNaN(a) !== Number.isNaN(e)) {
      const excess = Number.isNaN(diff) ? Infinity : diff - (atol + rtol * Math.abs(e));
      if (worst < 0 || excess > worstExcess) {
        worst = i;
        worstExcess = excess;
      }
    }
    if (diff > maxDiff) maxDiff = diff;
  }
  if (worst >= 0) {
    expect.fail(
      `${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} ` +
        `(|diff| ${Math.abs(actual[worst] - expected[worst]).toExponential(3)} > atol ${atol.toExponential(2)} + rtol ${rtol}·|e|; ` +
        `max |diff| over all ${maxDiff.toExponential(3)})`,
    );
  }
}

export interface OpInput {
  shape: number[];
  dtype?: DType;
  /** Differentiate with respect to this input. */
  grad?: boolean;
  values?: ArrayLike<number>;
  /** Integer inputs (ids, labels): uniform in [lo, hi). */
  ints?: [number, number];
  /** Scale of the random normal values (default 1). */
  scale?: number;
}

export interface OpCheck {
  name: string;
  inputs: OpInput[];
  gpu: (...inputs: Tensor[]) => Tensor;
  cpu: (...inputs: Cpu[]) => Cpu;
  /** Absolute tolerance on the forward result, and on the gradients. */
  fwdTol: number;
  gradTol: number;
  seed?: number;
  /** Finite differences on at most this many elements per input (chosen at random). */
  fdSamples?: number;
}

/** Values the test feeds both sides: rounded to the input's dtype so the CPU sees exactly what the GPU sees. */
export function inputValues(spec: OpInput, rng: Rng): Float64Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  let v: number[];
  if (spec.values) v = Array.from(spec.values);
  else if (spec.ints) v = Array.from({ length: n }, () => spec.ints![0] + rng.int(spec.ints![1] - spec.ints![0]));
  else v = Array.from({ length: n }, () => rng.normal() * (spec.scale ?? 1));
  const dtype = spec.dtype ?? (spec.ints ? 'i32' : 'f32');
  return Float64Array.from(decode(encode(v, dtype), dtype));
}

export async function checkOp(c: OpCheck): Promise<void> {
  const rng = new Rng(c.seed ?? 1);
  const values = c.inputs.map((s) => inputValues(s, rng));
  const cpuInputs = values.map((v, i) => ({ data: v, shape: c.inputs[i].shape }));
  const expected = c.cpu(...cpuInputs);

  const ts = values.map((v, i) => {
    const s = c.inputs[i];
    const t = tensor(v, s.shape, s.dtype ?? (s.ints ? 'i32' : 'f32'));
    t.requiresGrad = !!s.grad;
    return t;
  });
  // Rounded to f32 so both sides differentiate the same objective.
  const upstream = Float64Array.from(Float32Array.from({ length: expected.data.length }, () => rng.normal()));
  const out = tidy(() => {
    const y = c.gpu(...ts);
    if (ts.some((t) => t.requiresGrad)) backward(y, tensor(upstream, y.shape));
    return y;
  });
  expect(out.shape, `${c.name}: output shape`).toEqual(expected.shape);
  expectAllClose(await out.read(), expected.data, { atol: c.fwdTol }, `${c.name} forward`);
  out.dispose();

  // d/dx Σ cpu(x)·upstream by central differences, in float64.
  let absObjective = 0;
  const objective = (inputs: Cpu[]) => {
    const y = c.cpu(...inputs).data;
    let s = 0;
    absObjective = 0;
    for (let i = 0; i < y.length; i++) {
      s += y[i] * upstream[i];
      absObjective += Math.abs(y[i] * upstream[i]);
    }
    return s;
  };
  for (let i = 0; i < ts.length; i++) {
    if (!c.inputs[i].grad) continue;
    const grad = ts[i].grad;
    expect(grad, `${c.name}: input ${i} got no gradient`).toBeTruthy();
    const got = await grad!.read();
    const n = values[i].length;
    const count = Math.min(n, c.fdSamples ?? 64);
    const picks = count === n ? [...Array(n).keys()] : rng.shuffle([...Array(n).keys()]).slice(0, count);
    const fd: number[] = [];
    const gpuAt: number[] = [];
    // Central differences in float64 are off by the objective's rounding over 2h (≈ n·u₆₄·Σ|y·g| / h, more
    // when the reference itself sums many terms) plus O(h²) ≈ 1e-10 truncation: we add that estimate, and
    // never less than 1e-9 relative, to the tolerance. Both are far below float32 error.
    let fdError = 0;
    for (const j of picks) {
      const h = 1e-5 * Math.max(1, Math.abs(values[i][j]));
      const x0 = values[i][j];
      values[i][j] = x0 + h;
      const up = objective(cpuInputs);
      values[i][j] = x0 - h;
      const down = objective(cpuInputs);
      values[i][j] = x0;
      const d = (up - down) / (2 * h);
      fdError = Math.max(fdError, (upstream.length * 2 ** -53 * absObjective) / h, 1e-9 * Math.max(1, Math.abs(d)));
      fd.push(d);
      gpuAt.push(got[j]);
    }
    expectAllClose(gpuAt, fd, { atol: c.gradTol + fdError }, `${c.name} gradient of input ${i}`);
  }
  ts.forEach((t) => t.dispose());
}
