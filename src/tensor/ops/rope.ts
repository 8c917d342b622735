// Rotary position embedding (shaders/rope.wgsl), forward and backward side by side, and the cos/sin tables.
import { type Tensor, assertDtype, empty, keep, parameter, recordOp } from '../tensor.ts';
import { engine, groups, k, ranges } from './launch.ts';

/**
 * cos/sin of pos·inv_freq for positions [0, P), as Hugging Face computes them: the angle is one f32
 * multiply of f32 values, then cos/sin of that f32 angle (here in f64, rounded once to f32 — torch's f32
 * cos/sin are within an ulp of that). Tables grow on demand.
 */
export class RopeTable {
  cos: Tensor | null = null;
  sin: Tensor | null = null;
  positions = 0;

  constructor(readonly invFreq: Float32Array) {}

  get half(): number {
    return this.invFreq.length;
  }

  /** Makes sure positions [0, P) are in the tables. */
  ensure(P: number): void {
    if (P <= this.positions) return;
    const n = Math.max(P, this.positions * 2, 256);
    const half = this.half;
    const cos = new Float32Array(n * half);
    const sin = new Float32Array(n * half);
    for (let pos = 0; pos < n; pos++) {
      for (let i = 0; i < half; i++) {
        const angle = Math.fround(Math.fround(pos) * this.invFreq[i]);
        cos[pos * half + i] = Math.cos(angle);
        sin[pos * half + i] = Math.sin(angle);
      }
    }
    this.dispose();
    this.cos = keep(parameter([n, half]));
    this.cos.write(cos);
    this.sin = keep(parameter([n, half]));
    this.sin.write(sin);
    this.positions = n;
  }

  dispose(): void {
    this.cos?.dispose();
    this.sin?.dispose();
    this.cos = this.sin = null;
    this.positions = 0;
  }
}

function rotate(x: Tensor, positions: Tensor, table: RopeTable, heads: number, sign: 1 | -1): Tensor {
  const half = table.half;
  const D = 2 * half;
  const N = x.size / D;
  const y = empty(x.shape);
  const kern = k('rope.wgsl', 'main');
  for (const [r0, r1] of ranges(N, D * 4, heads)) {
    const wx = x.bind(r0 * D, r1 * D);
    const wy = y.bind(r0 * D, r1 * D);
    const wp = positions.bind(r0 / heads, Math.ceil(r1 / heads));
    const p = { pairs: (r1 - r0) * half, heads, half, base_x: wx.base, base_y: wy.base, base_pos: wp.base, sign, max_pos: table.positions };
    const bindings = [wx.binding, wp.binding, table.cos!.bind().binding, table.sin!.bind().binding, wy.binding];
    engine().cmd.dispatch(kern, bindings, p, groups((r1 - r0) * half, kern));
  }
  return y;
}

// x (B, T, H, D) or (B, T, H·D) with `heads` = H, positions i32 (B, T) → y of x's shape
export function rope(x: Tensor, positions: Tensor, table: RopeTable, heads: number): Tensor {
  assertDtype('rope', x, 'f32');
  assertDtype('rope positions', positions, 'i32');
  const D = 2 * table.half;
  if (x.size !== positions.size * heads * D) {
    throw new TypeError(`rope: ${x.describe()} is not (tokens = ${positions.size}) × ${heads} heads × ${D}`);
  }
  const y = rotate(x, positions, table, heads, 1);
  recordOp('rope', y, [x], [positions], (g) => [rotate(g, positions, table, heads, -1)]);
  return y;
}
