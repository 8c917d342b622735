import { describe, expect, it } from 'vitest';
import * as ref from '../../src/tensor/cpu-reference.ts';
import { type Tensor, add, clone, fill, mul, scale, sigmoid, silu, sub, swiglu, tensor, tidy, engine, backward } from '../../src/tensor/index.ts';
import { UNIT_ROUNDOFF, checkOp, expectAllClose } from '../helpers/check.ts';

// One f32 operation per element: the result is the exactly rounded value, within u·|x| ≤ u·6 for our
// N(0,1) inputs (|x| < 6 with overwhelming probability); exp-based ones (silu, sigmoid) go through exp()
// whose WGSL accuracy is 3 + 2·|x| ULP, so we allow 16 ULP of values of magnitude ≤ 6.
const ONE_OP = 6 * 2 * UNIT_ROUNDOFF.f32;
const EXP_OP = 6 * 16 * 2 * UNIT_ROUNDOFF.f32;
// Gradients are compared with float64 central differences (truncation error ~h² ≈ 1e-10), so the same
// per-element bounds apply; a broadcast operand's gradient sums up to 7 of them.
const shapes: [number[], number[]][] = [
  [
    [3, 5],
    [3, 5],
  ],
  [[2, 3, 5], [5]],
  [
    [2, 1, 5],
    [3, 1],
  ],
  [[7], [1]],
  [
    [2, 3, 4, 5],
    [1, 3, 1, 5],
  ],
];

describe('elementwise ops against the float64 reference', () => {
  for (const [sa, sb] of shapes) {
    it(`add/sub/mul ${JSON.stringify(sa)} ⊕ ${JSON.stringify(sb)}`, async () => {
      for (const [name, g, c] of [
        ['add', add, ref.add],
        ['sub', sub, ref.sub],
        ['mul', mul, ref.mul],
      ] as const) {
        await checkOp({
          name,
          inputs: [
            { shape: sa, grad: true },
            { shape: sb, grad: true },
          ],
          gpu: g,
          cpu: c,
          fwdTol: ONE_OP * 6,
          gradTol: ONE_OP * 6 * 7,
        });
      }
    });
  }

  it('scale, silu, sigmoid, clone on a shape that is not a multiple of the workgroup (257 × 3)', async () => {
    const inputs = [{ shape: [257, 3], grad: true }];
    await checkOp({ name: 'scale', inputs, gpu: (x) => scale(x, -1.75), cpu: (x) => ref.scale(x, -1.75), fwdTol: ONE_OP * 2, gradTol: ONE_OP * 2 });
    await checkOp({ name: 'silu', inputs, gpu: silu, cpu: ref.silu, fwdTol: EXP_OP, gradTol: EXP_OP * 2 });
    await checkOp({ name: 'sigmoid', inputs, gpu: sigmoid, cpu: ref.sigmoidOp, fwdTol: EXP_OP, gradTol: EXP_OP });
    await checkOp({ name: 'clone', inputs, gpu: clone, cpu: (x) => x, fwdTol: 0, gradTol: 0 });
  });

  it('swiglu: silu(gate) ⊙ up, against the reference and bit for bit as silu then mul', async () => {
    const inputs = [
      { shape: [257, 3], grad: true },
      { shape: [257, 3], grad: true },
    ];
    // silu's error (EXP_OP) times |up| ≤ 6, plus the product's rounding at magnitude ≤ 36; d gate applies
    // silu' (≤ 1.1) to dy·up (≤ 36), so silu_grad's 2·EXP_OP grows 6× and dy·up adds its own rounding.
    await checkOp({ name: 'swiglu', inputs, gpu: swiglu, cpu: ref.swiglu, fwdTol: 6 * (EXP_OP + ONE_OP), gradTol: 12 * EXP_OP + 7 * ONE_OP });

    const values = (seed: number) => Array.from({ length: 257 * 3 }, (_, i) => Math.sin(i * 0.37 + seed) * 4);
    const run = async (f: (g: Tensor, u: Tensor) => Tensor) => {
      const [g, u] = [tensor(values(1), [257, 3]), tensor(values(2), [257, 3])];
      g.requiresGrad = u.requiresGrad = true;
      const y = tidy(() => {
        const out = f(g, u);
        backward(out, tensor(values(3), [257, 3]));
        return out;
      });
      return [await y.read(), await g.grad!.read(), await u.grad!.read()];
    };
    const fused = await run(swiglu);
    const unfused = await run((g, u) => mul(silu(g), u));
    fused.forEach((v, i) => expectAllClose(v, unfused[i], { atol: 0 }, ['forward', 'd gate', 'd up'][i]));
    expect(() => swiglu(tensor([1, 2], [2]), tensor([1, 2, 3], [3]))).toThrow(/swiglu: gate .* and up .* differ in shape/);
  });

  it('names the op and both shapes when shapes do not broadcast', () => {
    const a = tensor([1, 2, 3], [3]);
    const b = tensor([1, 2], [2]);
    expect(() => add(a, b)).toThrow('add: shapes [3] and [2] do not broadcast');
  });

  it('names the op and the dtype on a wrong dtype', () => {
    const a = tensor([1, 2], [2], 'i32');
    const b = tensor([1, 2], [2]);
    expect(() => mul(a, b)).toThrow(/mul: Tensor i32\[2\] has dtype i32; expected f32/);
  });

  it('accumulates gradients over several uses and several backward passes', async () => {
    const x = tensor([1, 2, 3], [3]);
    x.requiresGrad = true;
    for (let pass = 0; pass < 2; pass++) {
      tidy(() => {
        // y = x·x + x  →  dy/dx = 2x + 1 per pass
        const y = add(mul(x, x), x);
        backward(y, tensor([1, 1, 1], [3]));
      });
    }
    expectAllClose(await x.grad!.read(), [6, 10, 14], { atol: 0 }, 'accumulated gradient');
  });
});

describe('limits', () => {
  it('splits a tensor larger than one storage binding (and a grid above 65,535 workgroups)', async () => {
    const { limits } = engine().gpu;
    // 1.25 × the binding limit in f32 elements: more than one window, and n/256 workgroups > 65,535.
    const n = Math.floor((limits.maxStorageBufferBindingSize / 4) * 1.25) + 3;
    expect(n / 256).toBeGreaterThan(limits.maxComputeWorkgroupsPerDimension);
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = (i % 1000) - 500;
    const a = tensor(values, [n]);
    const b = fill([n], 0.5);
    const c = add(a, b);
    const got = await c.read();
    // Check every element, with exact expectations (x + 0.5 is exact for these integers).
    let bad = -1;
    for (let i = 0; i < n; i++)
      if (got[i] !== (i % 1000) - 500 + 0.5) {
        bad = i;
        break;
      }
    expect(bad, `first wrong element (of ${n})`).toBe(-1);
    [a, b, c].forEach((t) => t.dispose());
  });

  it('broadcasts a small operand against a tensor larger than one binding', async () => {
    const { limits } = engine().gpu;
    const cols = 1024;
    const rows = Math.ceil((limits.maxStorageBufferBindingSize / 4 / cols) * 1.1);
    const a = fill([rows, cols], 1);
    const bias = tensor(
      Array.from({ length: cols }, (_, i) => i),
      [cols],
    );
    const c = mul(a, bias);
    const got = await c.read();
    for (const r of [0, rows >> 1, rows - 1]) {
      expectAllClose(got.subarray(r * cols, (r + 1) * cols), [...Array(cols).keys()], { atol: 0 }, `row ${r}`);
    }
    [a, bias, c].forEach((t) => t.dispose());
  });
});

describe('the vec4 form', () => {
  it('runs where element counts are a multiple of 4 and gives the scalar form’s bits', async () => {
    // 1,028 elements take the vec4 kernels (four elements an invocation); the first 1,027 of the same
    // values take the scalar ones. Each element takes the same f32 steps either way: equal bits.
    const values = Float32Array.from({ length: 1028 }, (_, i) => Math.sin(i * 0.37) * 5);
    const others = Float32Array.from({ length: 1028 }, (_, i) => Math.cos(i * 0.11) * 3);
    const { cmd, gpu } = engine();
    const profiler = gpu.hasTimestamps ? cmd.startProfiling() : null; // names the kernels that ran
    profiler?.reset();
    const run = (n: number) =>
      tidy(() => {
        const a = tensor(values.subarray(0, n), [n]);
        const b = tensor(others.subarray(0, n), [n]);
        return [add(a, b), swiglu(a, b), silu(a), scale(a, 0.3), fill([n], 0.25)];
      });
    const dispatches = cmd.dispatches;
    const wide = run(1028);
    const narrow = run(1027);
    expect(cmd.dispatches - dispatches).toBe(10);
    if (profiler) {
      await cmd.sync();
      const ran = (await profiler.times()).map((t) => t.kernel);
      cmd.profiler = null;
      expect(ran).toContain('elementwise BINARY FN=op_swiglu VEC4');
      expect(ran).toContain('elementwise BINARY FN=op_swiglu');
      expect(ran).toContain('elementwise FILL VEC4');
    }
    for (let i = 0; i < wide.length; i++) {
      const [w, s] = [await wide[i].readF32(), await narrow[i].readF32()];
      expect(Array.from(w.subarray(0, 1027))).toEqual(Array.from(s));
    }
    [...wide, ...narrow].forEach((t) => t.dispose());
  });
});
