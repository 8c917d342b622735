// Matrix products: gemm (the raw strided, batched kernel call every other op builds on), matmul and
// linear with their backward passes. Kernels: shaders/matmul-*.wgsl, chosen per adapter in
// matmul-kernels.ts; splitting work so operand windows fit a binding: matmul-plan.ts.
import { type Tensor, assertDtype, empty, numel, recordOp, shapeStr } from '../tensor.ts';
import { type GemmVariant, NAIVE, chooseVariant, dispatchGemm } from './matmul-kernels.ts';
import { cacheFriendly } from './matmul-pack.ts';
import { type GemmPiece, type Operand, extent, layout, planGemm } from './matmul-plan.ts';
import { engine } from './launch.ts';

/** One GEMM operand: matrix (o, i) of a two-level batch (outer o, inner i) starts at element
 *  offset + o*strides[0] + i*strides[1] of t; row r of the stored matrix starts ld elements after row r-1.
 *  With trans, the stored matrix is the transpose of the logical one (A stored (K, M), B stored (N, K)). */
export interface GemmOperand {
  t: Tensor;
  offset?: number;
  ld: number;
  trans?: boolean;
  strides?: [number, number];
}

export interface GemmDesc {
  a: GemmOperand;
  b: GemmOperand;
  c: Omit<GemmOperand, 'trans'>;
  M: number;
  N: number;
  K: number;
  batch?: [number, number];
  alpha?: number;
  accumulate?: boolean;
}

function operand(x: GemmOperand): Operand {
  return { t: x.t, offset: x.offset ?? 0, ld: x.ld, trans: x.trans ?? false, strides: x.strides ?? [0, 0] };
}

const isCount = (v: number) => Number.isInteger(v) && v >= 0;

/** The operands for an error message (built only when one is thrown: gemm runs for every GEMM dispatch). */
function describeGemm(d: GemmDesc): string {
  return `A ${d.a.t.describe()} · B ${d.b.t.describe()} → C ${d.c.t.describe()}`;
}

/** C[o,i] (M×N) = alpha · op(A[o,i]) (M×K) · op(B[o,i]) (K×N)  (+ C[o,i] when accumulate).
 *  A and C are f32; B may be f32, f16 or bf16 (weights, decoded in the kernel). No autograd. Works when any
 *  operand is larger than one storage binding (split M / N / K / batch so each window fits; K splits
 *  accumulate) and when the grid exceeds 65,535 workgroups per dimension. */
export function gemm(d: GemmDesc): void {
  // Shape comment: A (M, K) or stored (K, M); B (K, N) or stored (N, K); C (M, N); batch (O, I).
  const { M, N, K } = d;
  const [O, I] = d.batch ?? [1, 1];
  const a = operand(d.a);
  const b = operand(d.b);
  const c = operand(d.c);
  if (![M, N, K, O, I].every(isCount)) throw new RangeError(`gemm: bad sizes M=${M} N=${N} K=${K} batch=[${O}, ${I}] for ${describeGemm(d)}`);
  assertDtype('gemm (A)', a.t, 'f32');
  assertDtype('gemm (B)', b.t, 'f32', 'bf16', 'f16');
  assertDtype('gemm (C)', c.t, 'f32');
  const whole: GemmPiece = { o: [0, O], i: [0, I], m: [0, M], n: [0, N], k: [0, K], accumulate: !!d.accumulate };
  const operands = [
    { name: 'A', x: a, dims: layout('a', a.trans) },
    { name: 'B', x: b, dims: layout('b', b.trans) },
    { name: 'C', x: c, dims: layout('c', false) },
  ];
  for (const { name, x, dims } of operands) {
    if (![x.offset, x.ld, ...x.strides].every(isCount)) {
      throw new RangeError(`gemm: operand ${name} has a negative or fractional offset, ld or stride (${describeGemm(d)})`);
    }
    const cols = whole[dims[1]][1];
    if (x.ld < cols && whole[dims[0]][1] > 1) {
      throw new RangeError(`gemm: operand ${name} has ld ${x.ld} below its ${cols} stored columns (${describeGemm(d)})`);
    }
    const span = extent(x, dims, whole);
    if (span && span[1] >= x.t.size) {
      throw new RangeError(
        `gemm: operand ${name} reaches element ${span[1]} of ${x.t.describe()} (M=${M} N=${N} K=${K} batch=[${O}, ${I}]; ${describeGemm(d)})`,
      );
    }
  }
  if (M === 0 || N === 0 || O === 0 || I === 0) return;

  const { limits } = engine().gpu;
  const bindingLimit = limits.maxStorageBufferBindingSize;
  // A window starts up to one alignment before its first byte, and its end is rounded up to 16 bytes.
  const budget = bindingLimit - limits.minStorageBufferOffsetAlignment - 16;
  const variant = chooseVariant(M, a.trans, b.trans);
  const alpha = d.alpha ?? 1;
  // Copies of operands the kernel reads better with another row stride (disposed once recorded); not for
  // a transposed A, which the packing variant leaves to its fallback.
  const pack = !!variant.pack && !a.trans;
  const pa = pack ? cacheFriendly('a', a, M, N, K, O * I) : a;
  const pb = pack ? cacheFriendly('b', b, M, N, K, O * I) : b;
  const read = [
    { x: pa, dims: operands[0].dims },
    { x: pb, dims: operands[1].dims },
    { x: c, dims: operands[2].dims },
  ];
  const run = (v: GemmVariant, piece: GemmPiece) => {
    const spans = {
      a: extent(pa, read[0].dims, piece),
      b: extent(pb, read[1].dims, piece),
      c: extent(c, read[2].dims, piece)!,
    };
    dispatchGemm(v, { a: pa, b: pb, c }, pb.t.dtype, piece, alpha, spans);
  };
  for (const piece of planGemm(read, whole, bindingLimit, budget)) {
    const [k0, k1] = piece.k;
    // A kernel that takes K in fours leaves the last K % 4 to the naive kernel, adding onto its result.
    const cut = variant.k4 ? k1 - ((k1 - k0) % 4) : k1;
    if (cut > k0 || cut === k1) run(variant, { ...piece, k: [k0, cut] });
    if (cut < k1) run(NAIVE, { ...piece, k: [cut, k1], accumulate: piece.accumulate || cut > k0 });
  }
  if (pa !== a) pa.t.dispose();
  if (pb !== b) pb.t.dispose();
}

// ---------------------------------------------------------------------------------------------------------
// matmul

interface MatmulShape {
  batch: number; // 1 for rank 2
  M: number;
  N: number;
  K: number;
  sharedB: boolean; // rank-3 a with a rank-2 b
}

function matmulShape(a: Tensor, b: Tensor, transA: boolean, transB: boolean): MatmulShape {
  const both = `a ${shapeStr(a.shape)}${transA ? 'ᵀ' : ''} · b ${shapeStr(b.shape)}${transB ? 'ᵀ' : ''}`;
  assertDtype('matmul', a, 'f32');
  assertDtype('matmul', b, 'f32');
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || ra > 3 || rb < 2 || rb > 3) throw new TypeError(`matmul: operands must have rank 2 or 3: ${both}`);
  if (ra === 2 && rb === 3) throw new TypeError(`matmul: a rank-3 b needs a rank-3 a: ${both}`);
  if (ra === 3 && rb === 3 && a.shape[0] !== b.shape[0]) throw new TypeError(`matmul: batch sizes differ: ${both}`);
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const [M, Ka] = transA ? [ac, ar] : [ar, ac];
  const [Kb, N] = transB ? [bc, br] : [br, bc];
  if (Ka !== Kb) throw new TypeError(`matmul: inner dimensions differ: ${both}`);
  return { batch: ra === 3 ? a.shape[0] : 1, M, N, K: Ka, sharedB: ra === 3 && rb === 2 };
}

/** The gemm operands of matmul(a, b): batched through the outer batch index. */
function matmulOperands(a: Tensor, b: Tensor, s: MatmulShape, transA: boolean, transB: boolean) {
  return {
    a: { t: a, ld: transA ? s.M : s.K, trans: transA, strides: [s.M * s.K, 0] as [number, number] },
    b: { t: b, ld: transB ? s.K : s.N, trans: transB, strides: [s.sharedB ? 0 : s.K * s.N, 0] as [number, number] },
  };
}

/** a (..., M, K) · b (..., K, N) → (..., M, N); transA / transB read a as (..., K, M) / b as (..., N, K).
 *  Rank 2 or 3 (same batch size, or a rank-2 b shared by every batch). f32. Differentiable in both. */
export function matmul(a: Tensor, b: Tensor, opts: { transA?: boolean; transB?: boolean } = {}): Tensor {
  // a (B, M, K) · b (B, K, N) → (B, M, N), B optional
  const transA = !!opts.transA;
  const transB = !!opts.transB;
  const s = matmulShape(a, b, transA, transB);
  const outShape = a.shape.length === 3 ? [s.batch, s.M, s.N] : [s.M, s.N];
  const out = empty(outShape);
  matmulInto(out, a, b, s, transA, transB);
  // Backward reads b for dA and a for dB: keep only what a wanted gradient needs.
  const saved = [...(a.requiresGrad ? [b] : []), ...(b.requiresGrad ? [a] : [])];
  recordOp('matmul', out, [a, b], saved, (g, needs) => [
    needs[0] ? matmulGradA(g, a, b, s, transA, transB) : null,
    needs[1] ? matmulGradB(g, a, b, s, transA, transB) : null,
  ]);
  return out;
}

function matmulInto(out: Tensor, a: Tensor, b: Tensor, s: MatmulShape, transA: boolean, transB: boolean): void {
  if (s.sharedB && !transA) {
    // (B, M, K) with one shared b is a single (B·M, K) product: bigger tiles, one dispatch.
    gemm({ a: { t: a, ld: s.K }, b: { t: b, ld: transB ? s.K : s.N, trans: transB }, c: { t: out, ld: s.N }, M: s.batch * s.M, N: s.N, K: s.K });
    return;
  }
  const ops = matmulOperands(a, b, s, transA, transB);
  gemm({ ...ops, c: { t: out, ld: s.N, strides: [s.M * s.N, 0] }, M: s.M, N: s.N, K: s.K, batch: [s.batch, 1] });
}

// With C = op(A)·op(B) and upstream G = dC:  d op(A) = G·op(B)ᵀ  and  d op(B) = op(A)ᵀ·G.
function matmulGradA(g: Tensor, a: Tensor, b: Tensor, s: MatmulShape, transA: boolean, transB: boolean): Tensor {
  // dA (B, M, K) or, with transA, stored (B, K, M)
  const da = empty(a.shape);
  const gOp = { t: g, ld: s.N, strides: [s.M * s.N, 0] as [number, number] };
  const bStrides: [number, number] = [s.sharedB ? 0 : s.K * s.N, 0];
  const bLd = transB ? s.K : s.N;
  if (!transA) {
    // dA = G (M, N) · op(B)ᵀ (N, K)
    gemm({
      a: gOp,
      b: { t: b, ld: bLd, trans: !transB, strides: bStrides },
      c: { t: da, ld: s.K, strides: [s.M * s.K, 0] },
      M: s.M,
      N: s.K,
      K: s.N,
      batch: [s.batch, 1],
    });
  } else {
    // dAᵀ stored: dA (K, M) = op(B) (K, N) · Gᵀ (N, M)
    gemm({
      a: { t: b, ld: bLd, trans: transB, strides: bStrides },
      b: { ...gOp, trans: true },
      c: { t: da, ld: s.M, strides: [s.K * s.M, 0] },
      M: s.K,
      N: s.M,
      K: s.N,
      batch: [s.batch, 1],
    });
  }
  return da;
}

function matmulGradB(g: Tensor, a: Tensor, b: Tensor, s: MatmulShape, transA: boolean, transB: boolean): Tensor {
  // dB (B, K, N) or, with transB, stored (B, N, K); a shared b sums over the batch.
  const db = empty(b.shape);
  const aLd = transA ? s.M : s.K;
  const mk = s.M * s.K;
  const mn = s.M * s.N;
  // One gemm per (batch slice) group; a shared b accumulates its slices in one output.
  const run = (bt: number, count: number, accumulate: boolean) => {
    const aOp = { t: a, offset: bt * mk, ld: aLd, strides: [mk, 0] as [number, number] };
    const gOp = { t: g, offset: bt * mn, ld: s.N, strides: [mn, 0] as [number, number] };
    const cStrides: [number, number] = [s.sharedB ? 0 : s.K * s.N, 0];
    const cOffset = s.sharedB ? 0 : bt * s.K * s.N;
    if (!transB) {
      // dB = op(A)ᵀ (K, M) · G (M, N)
      gemm({
        a: { ...aOp, trans: !transA },
        b: gOp,
        c: { t: db, offset: cOffset, ld: s.N, strides: cStrides },
        M: s.K,
        N: s.N,
        K: s.M,
        batch: [count, 1],
        accumulate,
      });
    } else {
      // dBᵀ stored: dB (N, K) = Gᵀ (N, M) · op(A) (M, K)
      gemm({
        a: { ...gOp, trans: true },
        b: { ...aOp, trans: transA },
        c: { t: db, offset: cOffset, ld: s.K, strides: cStrides },
        M: s.N,
        N: s.K,
        K: s.M,
        batch: [count, 1],
        accumulate,
      });
    }
  };
  if (!s.sharedB) run(0, s.batch, false);
  else if (!transA) {
    // A (B·M, K) is contiguous: the batch folds into the reduction.
    const aOp = { t: a, ld: s.K };
    const gOp = { t: g, ld: s.N };
    if (!transB) gemm({ a: { ...aOp, trans: true }, b: gOp, c: { t: db, ld: s.N }, M: s.K, N: s.N, K: s.batch * s.M });
    else gemm({ a: { ...gOp, trans: true }, b: aOp, c: { t: db, ld: s.K }, M: s.N, N: s.K, K: s.batch * s.M });
  } else for (let bt = 0; bt < s.batch; bt++) run(bt, 1, bt > 0);
  return db;
}

// ---------------------------------------------------------------------------------------------------------
// linear

/** x (..., Cin) · Wᵀ with W (Cout, Cin) in f32 / f16 / bf16 → (..., Cout) f32 — every Linear layer of the model.
 *  Differentiable in x; in W only when W is f32 and requiresGrad (half weights are frozen storage). */
export function linear(x: Tensor, w: Tensor): Tensor {
  // x (T, Cin) · W (Cout, Cin)ᵀ → (T, Cout), T = every leading dim
  assertDtype('linear', x, 'f32');
  assertDtype('linear', w, 'f32', 'bf16', 'f16');
  const both = `x ${shapeStr(x.shape)} · W ${shapeStr(w.shape)}ᵀ`;
  if (w.shape.length !== 2) throw new TypeError(`linear: the weight must have rank 2 (Cout, Cin): ${both}`);
  if (x.shape.length < 1) throw new TypeError(`linear: x must have rank ≥ 1: ${both}`);
  const [Cout, Cin] = w.shape;
  if (x.shape[x.shape.length - 1] !== Cin) throw new TypeError(`linear: inner dimensions differ: ${both}`);
  if (w.requiresGrad && w.dtype !== 'f32') {
    throw new TypeError(`linear: ${w.describe()} requires grad, but half-precision weights are frozen storage (${both})`);
  }
  const T = numel(x.shape.slice(0, -1));
  const out = empty([...x.shape.slice(0, -1), Cout]);
  gemm({ a: { t: x, ld: Cin }, b: { t: w, ld: Cin, trans: true }, c: { t: out, ld: Cout }, M: T, N: Cout, K: Cin });
  // dX reads W, dW reads X: a frozen weight keeps no activation alive.
  const saved = [...(x.requiresGrad ? [w] : []), ...(w.requiresGrad ? [x] : [])];
  recordOp('linear', out, [x, w], saved, (g, needs) => {
    let dx: Tensor | null = null;
    let dw: Tensor | null = null;
    if (needs[0]) {
      // dX (T, Cin) = G (T, Cout) · W (Cout, Cin)
      dx = empty(x.shape);
      gemm({ a: { t: g, ld: Cout }, b: { t: w, ld: Cin }, c: { t: dx, ld: Cin }, M: T, N: Cin, K: Cout });
    }
    if (needs[1]) {
      // dW (Cout, Cin) = Gᵀ (Cout, T) · X (T, Cin)
      dw = empty(w.shape);
      gemm({ a: { t: g, ld: Cout, trans: true }, b: { t: x, ld: Cin }, c: { t: dw, ld: Cin }, M: Cout, N: Cin, K: T });
    }
    return [dx, dw];
  });
  return out;
}
