// Plain TypeScript float64 twins of the GPU ops, written for clarity, not speed. Tests compare every kernel
// against them, and differentiate them by central finite differences to check every backward.
// Dimension letters as everywhere: B batch, T time, C channels, V vocabulary, H heads, D head size.

export interface Cpu {
  data: Float64Array;
  shape: number[];
}

export function cpu(data: ArrayLike<number>, shape: number[]): Cpu {
  return { data: Float64Array.from(data), shape };
}

const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

// ---------------------------------------------------------------------------------------------------------
// Elementwise (numpy broadcasting)

function broadcast(a: Cpu, b: Cpu, f: (x: number, y: number) => number): Cpu {
  const rank = Math.max(a.shape.length, b.shape.length);
  const pa = [...Array(rank - a.shape.length).fill(1), ...a.shape];
  const pb = [...Array(rank - b.shape.length).fill(1), ...b.shape];
  const shape = pa.map((d, i) => Math.max(d, pb[i]));
  const out = new Float64Array(numel(shape));
  const idx = new Array(rank).fill(0);
  const offset = (p: number[]) => {
    let o = 0;
    for (let i = 0; i < rank; i++) o = o * p[i] + (p[i] === 1 ? 0 : idx[i]);
    return o;
  };
  for (let i = 0; i < out.length; i++) {
    let r = i;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d] = r % shape[d];
      r = Math.floor(r / shape[d]);
    }
    out[i] = f(a.data[offset(pa)], b.data[offset(pb)]);
  }
  return { data: out, shape };
}

const map = (a: Cpu, f: (x: number) => number): Cpu => ({ data: a.data.map(f), shape: [...a.shape] });
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export const add = (a: Cpu, b: Cpu) => broadcast(a, b, (x, y) => x + y);
export const sub = (a: Cpu, b: Cpu) => broadcast(a, b, (x, y) => x - y);
export const mul = (a: Cpu, b: Cpu) => broadcast(a, b, (x, y) => x * y);
export const scale = (a: Cpu, s: number) => map(a, (x) => x * s);
export const silu = (a: Cpu) => map(a, (x) => x * sigmoid(x));
export const sigmoidOp = (a: Cpu) => map(a, sigmoid);

// ---------------------------------------------------------------------------------------------------------
// Reductions along the last axis

function reduceLast(a: Cpu, f: (row: Float64Array) => number): Cpu {
  const cols = a.shape[a.shape.length - 1];
  const rows = a.data.length / cols;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) out[r] = f(a.data.subarray(r * cols, (r + 1) * cols));
  return { data: out, shape: a.shape.slice(0, -1) };
}

export const sum = (a: Cpu) => reduceLast(a, (row) => row.reduce((s, x) => s + x, 0));
export const mean = (a: Cpu) => reduceLast(a, (row) => row.reduce((s, x) => s + x, 0) / row.length);
export const max = (a: Cpu) => reduceLast(a, (row) => Math.max(...row));
