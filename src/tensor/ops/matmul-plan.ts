// Splitting one GEMM into dispatches whose operand windows each fit a storage binding.
//
// A tensor no larger than maxStorageBufferBindingSize is bound whole and never forces a split. For a
// larger one, the elements a piece of work touches (from its first to its last, strides included) must
// fit one window: the plan cuts the dimension that spreads that operand's elements the most (batch, the
// stored rows, or the stored columns) into as many pieces as needed, and looks again. Cuts along K make
// partial products that later pieces add onto C (accumulate).
import { BYTES } from '../dtype.ts';
import type { Tensor } from '../tensor.ts';

/** Half-open index ranges of a piece of work. */
export interface GemmPiece {
  o: [number, number];
  i: [number, number];
  m: [number, number];
  n: [number, number];
  k: [number, number];
  /** True for every piece but the first along K: it adds to what the earlier pieces wrote. */
  accumulate: boolean;
}

/** A GEMM operand with its defaults filled in. */
export interface Operand {
  t: Tensor;
  offset: number;
  ld: number;
  trans: boolean;
  strides: [number, number];
}

type Dim = 'o' | 'i' | 'm' | 'n' | 'k';

/** Which dims index the stored rows and stored columns of each operand. */
export function layout(which: 'a' | 'b' | 'c', trans: boolean): [Dim, Dim] {
  if (which === 'a') return trans ? ['k', 'm'] : ['m', 'k'];
  if (which === 'b') return trans ? ['n', 'k'] : ['k', 'n'];
  return ['m', 'n'];
}

/** First and last (inclusive) element an operand touches in a piece; null when the piece is empty. */
export function extent(x: Operand, dims: [Dim, Dim], piece: GemmPiece): [number, number] | null {
  // Written without closures: this runs for every operand of every GEMM dispatch, and under tsx (which
  // keeps function names) each closure created costs about 0.4 µs.
  const [o, i, r, c] = [piece.o, piece.i, piece[dims[0]], piece[dims[1]]];
  if (o[1] <= o[0] || i[1] <= i[0] || r[1] <= r[0] || c[1] <= c[0]) return null;
  const first = x.offset + o[0] * x.strides[0] + i[0] * x.strides[1] + r[0] * x.ld + c[0];
  const last = x.offset + (o[1] - 1) * x.strides[0] + (i[1] - 1) * x.strides[1] + (r[1] - 1) * x.ld + (c[1] - 1);
  return [first, last];
}

/**
 * Pieces of `whole` whose windows fit `budget` bytes for every operand larger than `bindingLimit`.
 * Pieces along K come in order, the first keeping `whole.accumulate`.
 */
export function planGemm(operands: { x: Operand; dims: [Dim, Dim] }[], whole: GemmPiece, bindingLimit: number, budget: number): GemmPiece[] {
  const out: GemmPiece[] = [];
  const visit = (piece: GemmPiece) => {
    for (const { x, dims } of operands) {
      if (x.t.bytes <= bindingLimit) continue;
      const span = extent(x, dims, piece);
      if (!span) continue;
      const bytes = (span[1] - span[0] + 1) * BYTES[x.t.dtype];
      if (bytes <= budget) continue;
      // Cut the dim whose stride times extent spreads this operand's elements the most.
      const spread: [Dim, number][] = [
        ['o', x.strides[0]],
        ['i', x.strides[1]],
        [dims[0], x.ld],
        [dims[1], 1],
      ].map(([d, stride]) => [d as Dim, (stride as number) * (piece[d as Dim][1] - piece[d as Dim][0] - 1)]);
      spread.sort((p, q) => q[1] - p[1]);
      const [dim] = spread[0];
      const [s, e] = piece[dim];
      if (e - s <= 1) throw new Error(`internal: gemm cannot split ${x.t.describe()} to fit a binding`);
      const parts = Math.min(e - s, Math.max(2, Math.ceil(bytes / budget)));
      const step = Math.ceil((e - s) / parts);
      for (let lo = s; lo < e; lo += step) {
        visit({ ...piece, [dim]: [lo, Math.min(e, lo + step)], accumulate: piece.accumulate || (dim === 'k' && lo > s) });
      }
      return;
    }
    out.push(piece);
  };
  visit(whole);
  return out;
}
