// Kernel interfaces (src/gpu/kernel-interface.ts): the WGSL source is the one declaration of a kernel's
// parameters and workgroup size. (a) the parser and the packing on fixture sources; (b) every op's call sites
// against the structs of the kernels they dispatch: each op runs under every variant of every kernel family,
// every dispatch packs its parameters by name (a field the struct lacks, or one the kernel reads and the op
// does not give, throws naming both), and every shader with a uniform struct is dispatched; (c) workgroup
// sizes: as declared, and the host's dispatch counts come from them, not from literals.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Kernel, SHADER_DIR, kernel, preprocess } from '../../src/gpu/pipelines.ts';
import { kernelInterface, packParams } from '../../src/gpu/kernel-interface.ts';
import {
  type Tensor,
  attention,
  backward,
  crossEntropy,
  dropout,
  embedding,
  engine,
  forceKernels,
  kernelFamilies,
  keep,
  linear,
  lowRankLinear,
  matmul,
  max,
  mul,
  parameter,
  RopeTable,
  rmsnorm,
  rope,
  silu,
  softmax,
  sum,
  tensor,
  tidy,
} from '../../src/tensor/index.ts';
import { AdamW } from '../../src/train/adamw.ts';
import { mergeAdapter } from '../../src/train/merge.ts';

const FIXTURE = `
const WG: u32 = 64u;
const NC: u32 = 4u;
const ROWS: u32 = WG / NC + 2u * (3u - 1u);   // 20
struct Inner { a: f32, b: u32 }
struct Params {
  n: u32,
  alpha: f32,   // a comment
  delta: i32,
  inner: Inner,
  v: vec4<u32>,
  quads: array<vec4u, 2>,
  unused: u32,
  // not_a_field: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@compute @workgroup_size(ROWS * NC, 2)
fn main(@builtin(local_invocation_index) lid: u32) {
  let x = p.n + u32(p.alpha) + u32(p.delta) + p.inner.b + p.v.x + p.quads[1].y;
}
`;

/** A value for every field FIXTURE's kernel reads. */
const OK = {
  n: 1,
  alpha: 1,
  delta: 1,
  inner: { a: 1, b: 1 },
  v: [1, 1, 1, 1],
  quads: [
    [1, 1, 1, 1],
    [1, 1, 1, 1],
  ],
};

describe('kernel interface: the parser and the packing', () => {
  const { params, workgroupSize } = kernelInterface(FIXTURE, 'main', 'fixture');

  it('lays out the uniform struct as WGSL does, and marks the fields the kernel reads', () => {
    expect(workgroupSize).toEqual([80, 2, 1]);
    expect(params!.fields.map((f) => [f.name, f.offset, f.read])).toEqual([
      ['n', 0, true],
      ['alpha', 4, true],
      ['delta', 8, true],
      ['inner', 12, true],
      ['v', 32, true], // vec4: 16-byte aligned
      ['quads', 48, true],
      ['unused', 80, false],
    ]);
    expect(params!.size).toBe(96);
  });

  it('packs by name, in the declared order, and leaves an unread field out as 0', () => {
    const words = new Uint32Array(24).fill(0xdead);
    const values = {
      quads: [
        [1, 2, 3, 4],
        [5, 6, 7, 8],
      ],
      v: [9, 10, 11, 12],
      inner: { b: 7, a: 0.5 },
      delta: -3,
      alpha: 1.5,
      n: 42,
    };
    packParams('fixture', params!, values, words, 0);
    const f = new Float32Array(words.buffer);
    expect([words[0], f[1], words[2] | 0, f[3], words[4]]).toEqual([42, 1.5, -3, 0.5, 7]);
    expect([...words.slice(8, 12)]).toEqual([9, 10, 11, 12]);
    expect([...words.slice(12, 20)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(words[20]).toBe(0xdead); // `unused`: not written (the dispatch's slot is zeroed beforehand)
  });

  it('names the kernel and the field of every mismatch', () => {
    const pack = (values: object) => () => packParams('fixture', params!, values as never, new Uint32Array(24), 0);
    expect(pack(OK)).not.toThrow();
    expect(pack({ ...OK, n: undefined })).toThrow('fixture: no value for parameter "n", which the kernel reads');
    expect(pack({ ...OK, inner: { a: 1 } })).toThrow('fixture: no value for parameter "inner.b"');
    expect(pack({ ...OK, count: 3 })).toThrow('fixture: struct Params has no field "count"');
    expect(pack({ ...OK, inner: { a: 1, b: 1, c: 1 } })).toThrow('fixture: struct Inner has no field "inner.c"');
    expect(pack({ ...OK, n: 1.5 })).toThrow('fixture: parameter "n" takes a u32, got 1.5');
    expect(pack({ ...OK, n: -1 })).toThrow('parameter "n" takes a u32');
    expect(pack({ ...OK, delta: 2 ** 31 })).toThrow('parameter "delta" takes an i32');
    expect(pack({ ...OK, alpha: '1' })).toThrow('parameter "alpha" takes a f32');
    expect(pack({ ...OK, v: [1, 2, 3] })).toThrow('parameter "v" takes 4 values');
    expect(pack({ ...OK, quads: [[1, 1, 1, 1]] })).toThrow('parameter "quads" takes 2 values');
  });

  it('follows the struct when its fields move: the same values land at the new offsets', () => {
    const swapped = FIXTURE.replace('  n: u32,\n  alpha: f32,', '  alpha: f32,\n  n: u32,');
    const words = new Uint32Array(24);
    packParams('fixture', kernelInterface(swapped, 'main').params!, { ...OK, n: 42, alpha: 1.5 }, words, 0);
    expect([new Float32Array(words.buffer)[0], words[1]]).toEqual([1.5, 42]);
  });

  it('rejects, by name, what it does not lay out', () => {
    const read = (src: string) => () => kernelInterface(src, 'main', 'fixture');
    expect(read(FIXTURE.replace('unused: u32', 'm: mat4x4<f32>'))).toThrow(`fixture: the parameters' type "mat4x4<f32>" is not supported`);
    expect(read(FIXTURE.replace('unused: u32', '@align(16) unused: u32'))).toThrow('struct Params: cannot read member "@align(16) unused: u32"');
    expect(read(FIXTURE.replace('array<vec4u, 2>', 'array<vec4u, LEN>'))).toThrow('fixture: cannot resolve "LEN"');
    expect(read(`${FIXTURE}\n@group(0) @binding(1) var<uniform> q: Params;`)).toThrow('fixture: 2 uniform bindings');
    expect(read(FIXTURE.replace('@workgroup_size(ROWS * NC, 2)', ''))).toThrow('fixture: entry point "main" has no @workgroup_size');
  });
});

describe('kernel interface: every op against the kernels it dispatches', () => {
  afterEach(() => {
    forceKernels(null);
    vi.restoreAllMocks();
  });

  const normals = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 2);
  const param = (shape: number[], seed: number) => {
    const t = keep(parameter(shape));
    t.write(new Float32Array(normals(t.size, seed)));
    t.requiresGrad = true;
    return t;
  };

  const total = (t: Tensor): Tensor => (t.shape.length ? total(sum(t)) : t);

  /** Small runs of every op, forward and backward, each through the ops' own call sites. */
  const WORKLOADS: Record<string, () => Tensor[]> = {
    elementwise: () => {
      const a = param([3, 37], 1);
      const b = param([1, 37], 2);
      const y = total(silu(mul(a, b)));
      backward(y);
      return [y, a.grad!, b.grad!];
    },
    reduce: () => {
      const x = param([5, 300], 3);
      const y = total(max(x));
      backward(y);
      return [y, x.grad!];
    },
    rmsnorm: () => {
      const x = param([6, 40], 4);
      const w = param([40], 5);
      const y = total(rmsnorm(x, w, 1e-5));
      backward(y);
      return [y, x.grad!, w.grad!];
    },
    softmax: () => {
      const x = param([1, 2, 3, 5], 6);
      const y = total(softmax(x, { causal: true, scale: 0.5, keyMask: tensor([1, 1, 1, 0, 1], [1, 5], 'i32') }));
      backward(y);
      return [y, x.grad!];
    },
    'cross-entropy': () => {
      const x = param([4, 11], 7);
      const y = crossEntropy(x, tensor([1, -100, 10, 0], [4], 'i32'));
      backward(y);
      return [y, x.grad!];
    },
    embedding: () => {
      const table = param([10, 8], 8);
      const y = total(embedding(table, tensor([3, 1, 3], [3], 'i32')));
      backward(y);
      return [y, table.grad!];
    },
    rope: () => {
      const x = param([2, 2, 8], 9);
      const table = new RopeTable(new Float32Array([1, 0.1, 0.01, 0.001]));
      table.ensure(8);
      const y = total(rope(x, tensor([0, 5], [2], 'i32'), table, 2));
      backward(y);
      return [y, x.grad!];
    },
    dropout: () => {
      const x = param([300], 10);
      const y = total(dropout(x, 0.25, 7));
      backward(y);
      return [y, x.grad!];
    },
    attention: () => {
      const s = { B: 1, T: 3, H: 2, Hkv: 1, D: 8, S: 3, keys: 3, past: 0 };
      const [q, k, v] = [param([1, 3, 16], 11), param([1, 3, 8], 12), param([1, 3, 8], 13)];
      const y = total(attention(q, k, v, s, { keyMask: tensor([1, 1, 0], [1, 3], 'i32') }));
      backward(y);
      return [y, q.grad!, k.grad!, v.grad!];
    },
    gemm: () => {
      // Shapes for each kind: decoding rows (GEMV), short and tall products, and one the copying (matmul-pack)
      // kernel reads through copies (f32 rows 1 KiB apart, re-read often).
      const out: Tensor[] = [];
      for (const [M, K, N] of [
        [1, 8, 5],
        [3, 8, 5],
        [9, 12, 7],
        [64, 256, 128],
      ]) {
        const x = param([M, K], M);
        const w = param([N, K], K);
        const y = total(linear(x, w));
        backward(y);
        out.push(y, x.grad!, w.grad!, matmul(x, param([K, N], N)));
      }
      return out;
    },
    'low-rank': () => {
      const x = param([10, 12], 21);
      const [w, a, b] = [param([8, 12], 22), param([2, 4, 12], 23), param([2, 8, 4], 24)];
      const y = total(lowRankLinear(x, w, a, b, { scale: 0.5, slots: 2 }));
      backward(y);
      return [y, x.grad!, w.grad!, a.grad!, b.grad!];
    },
    adamw: () => {
      const ps = [param([3, 5], 14), param([7], 15)];
      const opt = new AdamW(ps, { lr: 0.1, weightDecay: 0.01, maxGradNorm: 1 });
      ps.forEach((p, i) => (p.grad = keep(tensor(normals(p.size, 20 + i), p.shape))));
      opt.update();
      opt.update();
      return ps;
    },
    merge: () => {
      const weight = param([4, 6], 16);
      const delta = { A: param([2, 6], 17), B: param([4, 2], 18), scale: 0.5 };
      mergeAdapter({ projections: () => [{ weight, delta }] } as never, { detach: () => {} } as never);
      return [weight];
    },
  };
  /** The workloads whose kernels each family chooses between. */
  const FAMILY_WORKLOADS: Record<string, string[]> = {
    gemm: ['gemm'],
    reduce: ['reduce', 'cross-entropy', 'rmsnorm', 'softmax'],
    rmsnorm: ['rmsnorm'],
    softmax: ['softmax', 'attention'],
    attention: ['attention'],
    adamw: ['adamw'],
    lora: ['low-rank'],
  };

  it('every dispatch packs its parameters by name, under every variant, and every shader with parameters runs', async () => {
    const dispatched = new Set<string>();
    const { cmd } = engine();
    const dispatch = cmd.dispatch.bind(cmd);
    vi.spyOn(cmd, 'dispatch').mockImplementation((k: Kernel, ...rest) => {
      dispatched.add(k.label.split(':')[0]);
      dispatch(k, ...rest); // throws, naming the kernel and the field, on a mismatch
    });
    const run = async (names: string[]) => {
      for (const name of names) {
        const results = tidy(() => WORKLOADS[name]().map(keep));
        for (const t of results) expect((await t.readF32()).every(Number.isFinite), name).toBe(true);
        for (const t of results) t.dispose();
      }
    };
    await run(Object.keys(WORKLOADS));
    const families = kernelFamilies();
    expect([...families.keys()].sort()).toEqual(Object.keys(FAMILY_WORKLOADS).sort());
    for (const [family, names] of Object.entries(FAMILY_WORKLOADS)) {
      const f = families.get(family)!;
      for (const variant of f.variants.filter((v) => f.available(v))) {
        forceKernels({ [family]: variant });
        await run(names);
        forceKernels({ [family]: null });
      }
    }
    // Shader files that are kernels (not only #included) and have a uniform binding, their includes' too.
    const text = (f: string) => readFileSync(join(SHADER_DIR, f), 'utf8');
    const includes = (f: string): string[] => [...text(f).matchAll(/^\s*#include\s+"([^"]+)"/gm)].map((m) => m[1]);
    const declares = (f: string): boolean => /var\s*<\s*uniform\s*>/.test(text(f)) || includes(f).some(declares);
    const files = readdirSync(SHADER_DIR).filter((f) => f.endsWith('.wgsl'));
    const included = new Set(files.flatMap(includes));
    const withParams = files.filter((f) => !included.has(f) && declares(f));
    expect(withParams.length).toBeGreaterThan(15);
    const missed = withParams.filter((f) => !dispatched.has(f));
    // matmul-subgroup / gemv and the fused LoRA kernel need subgroups; the copying kernel runs only for the subgroup GEMM.
    const needSubgroups = ['matmul-subgroup.wgsl', 'matmul-gemv.wgsl', 'matmul-pack.wgsl', 'low-rank.wgsl'];
    expect(missed.filter((f) => engine().gpu.hasSubgroups || !needSubgroups.includes(f))).toEqual([]);
  });
});

describe('kernel interface: workgroup sizes', () => {
  it('reads them from the entry point, its constants resolved after preprocessing', () => {
    const gpu = engine().gpu;
    expect(kernel(gpu, 'attention_forward.wgsl', 'main', { D: 64, BR: 16, BC: 32, NC: 4 }).workgroupSize).toEqual([64, 1, 1]);
    expect(kernel(gpu, 'softmax.wgsl', 'main', { FORWARD: true, ROW: true, SUBGROUP_REDUCE: false }).workgroupSize).toEqual([64, 1, 1]); // workgroup.wgsl's ROWS
    expect(kernel(gpu, 'matmul-naive.wgsl', 'main', { B_F32: true }).workgroupSize).toEqual([16, 16, 1]);
    expect(kernel(gpu, 'elementwise.wgsl', 'main', { UNARY: true, FN: 'op_copy' }).workgroupSize).toEqual([256, 1, 1]);
    expect(kernelInterface(preprocess('adamw.wgsl', { MULTI_STEP: true }), 'main').workgroupSize).toEqual([256, 1, 1]);
  });

  it('the host counts workgroups from the kernel, never from a literal size', () => {
    // groups(n, kernel) (src/tensor/ops/launch.ts); a number there would be a second copy of a shader's size.
    const files = ['src/tensor/ops', 'src/train'].flatMap((dir) => readdirSync(dir).map((f) => join(dir, f))).filter((f) => f.endsWith('.ts'));
    const literal = files.flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .map((line, i) => `${f}:${i + 1}: ${line.trim()}`)
        .filter((line) => /\bgroups\([^;]*,\s*\d+\s*\)|Math\.ceil\([^;]*\/\s*(64|128|256)\s*\)/.test(line)),
    );
    expect(literal).toEqual([]);
  });
});
