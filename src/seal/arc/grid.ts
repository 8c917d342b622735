// ARC grids and the numpy operations SEAL's augmenters are written in (np.rot90, np.flipud, np.fliplr,
// np.transpose, np.roll, np.repeat, np.concatenate), each with numpy's exact meaning so the augmenters in
// tools.ts read like SEAL's arclib/augmenters.py.

/** A grid: a non-empty list of equally long, non-empty rows of colours 0–9. Treated as immutable. */
export type Grid = readonly (readonly number[])[];

export function height(grid: Grid): number {
  return grid.length;
}

export function width(grid: Grid): number {
  return grid[0]?.length ?? 0;
}

/** A string that identifies a grid by shape and contents, for equality, counting and de-duplication. */
export function gridKey(grid: Grid): string {
  return grid.map((row) => row.join('')).join('|');
}

export function gridsEqual(a: Grid, b: Grid): boolean {
  return gridKey(a) === gridKey(b);
}

function build(rows: number, cols: number, cell: (i: number, j: number) => number): number[][] {
  return Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => cell(i, j)));
}

/** np.rot90(grid, k): k quarter turns counter-clockwise. */
export function rot90(grid: Grid, k: 1 | 2 | 3): number[][] {
  const h = height(grid);
  const w = width(grid);
  if (k === 1) return build(w, h, (i, j) => grid[j][w - 1 - i]);
  if (k === 2) return build(h, w, (i, j) => grid[h - 1 - i][w - 1 - j]);
  return build(w, h, (i, j) => grid[h - 1 - j][i]);
}

/** np.flipud: the row order reversed. */
export function flipUpDown(grid: Grid): number[][] {
  return grid.map((row) => [...row]).reverse();
}

/** np.fliplr: every row reversed. */
export function flipLeftRight(grid: Grid): number[][] {
  return grid.map((row) => [...row].reverse());
}

export function transpose(grid: Grid): number[][] {
  return build(width(grid), height(grid), (i, j) => grid[j][i]);
}

/** np.roll(grid, (down, right), axis=(0, 1)): cyclic shift, cells leaving one edge re-enter at the other. */
export function roll(grid: Grid, down: number, right: number): number[][] {
  const h = height(grid);
  const w = width(grid);
  const mod = (x: number, n: number) => ((x % n) + n) % n;
  return build(h, w, (i, j) => grid[mod(i - down, h)][mod(j - right, w)]);
}

/** np.repeat along rows then columns: every cell becomes a rowFactor × colFactor block. */
export function repeatCells(grid: Grid, rowFactor: number, colFactor: number): number[][] {
  return build(height(grid) * rowFactor, width(grid) * colFactor, (i, j) => grid[Math.floor(i / rowFactor)][Math.floor(j / colFactor)]);
}

/** np.concatenate(grids, axis=0): stacked top to bottom. Widths must agree. */
export function stackVertically(...grids: Grid[]): number[][] {
  return grids.flatMap((grid) => grid.map((row) => [...row]));
}

/** np.concatenate(grids, axis=1): placed side by side. Heights must agree. */
export function stackHorizontally(...grids: Grid[]): number[][] {
  return Array.from({ length: height(grids[0]) }, (_, i) => grids.flatMap((grid) => [...grid[i]]));
}

/** The rows × cols block of `grid` starting at (top, left). */
export function crop(grid: Grid, top: number, left: number, rows: number, cols: number): number[][] {
  return build(rows, cols, (i, j) => grid[top + i][left + j]);
}

/** The distinct colours in the given grids, ascending. */
export function colorsOf(grids: readonly Grid[]): number[] {
  const seen = new Set<number>();
  for (const grid of grids) for (const row of grid) for (const cell of row) seen.add(cell);
  return [...seen].sort((a, b) => a - b);
}
