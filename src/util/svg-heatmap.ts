// A tiny SVG heatmap: a matrix of values in [lo, hi] as coloured cells with their values written in,
// row and column labels, a title and a colour bar; empty cells (null) are left blank. One self-contained
// SVG document, like svg-plot.ts. Enough for a forgetting matrix (rows: after update i, columns: passage j).

export interface HeatmapOptions {
  title?: string;
  rowLabels: string[];
  columnLabels: string[];
  /** Axis titles. */
  rowTitle?: string;
  columnTitle?: string;
  /** Colour scale range (default [0, 1]). */
  lo?: number;
  hi?: number;
  /** Cell text: values as percentages of 1 (default true). */
  percent?: boolean;
  /** A second line per cell, e.g. "± 3" (null for none). */
  notes?: (string | null)[][];
  cell?: number;
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Viridis at t ∈ [0, 1] (5 stops, linear between them): perceptually even and colour-blind safe. */
function viridis(t: number): string {
  const stops = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ];
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const c = stops[i].map((v, k) => Math.round(v + f * (stops[i + 1][k] - v)));
  return `rgb(${c.join(',')})`;
}

export function svgHeatmap(values: (number | null)[][], options: HeatmapOptions): string {
  const { title, rowLabels, columnLabels, rowTitle, columnTitle, lo = 0, hi = 1, percent = true, notes, cell = 56 } = options;
  if (values.length !== rowLabels.length || values.some((row) => row.length !== columnLabels.length)) {
    throw new Error(`svgHeatmap: ${values.length} rows of ${values[0]?.length} values for ${rowLabels.length} row and ${columnLabels.length} column labels`);
  }
  if (!(hi > lo)) throw new Error(`svgHeatmap: the colour range [${lo}, ${hi}] is empty`);
  for (const row of values) for (const v of row) if (v !== null && !Number.isFinite(v)) throw new Error(`svgHeatmap: a cell is ${v}`);
  const labelWidth = 16 + 7 * Math.max(...rowLabels.map((l) => l.length));
  const left = labelWidth + (rowTitle ? 20 : 0);
  const top = (title ? 36 : 12) + (columnTitle ? 20 : 0) + 18;
  // Wide enough for the grid and its colour bar, and for the title (about 8 px a character at 15 px).
  const width = Math.max(left + cell * columnLabels.length + 80, title ? 8 * title.length + 24 : 0);
  const height = top + cell * rowLabels.length + 16;
  const text = (v: number) => (percent ? `${(100 * v).toFixed(0)}%` : v.toPrecision(3));
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  if (title) out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`);
  if (columnTitle) out.push(`<text x="${left + (cell * columnLabels.length) / 2}" y="${top - 24}" text-anchor="middle">${escapeXml(columnTitle)}</text>`);
  if (rowTitle) {
    const y = top + (cell * rowLabels.length) / 2;
    out.push(`<text x="14" y="${y}" text-anchor="middle" transform="rotate(-90 14 ${y})">${escapeXml(rowTitle)}</text>`);
  }
  columnLabels.forEach((l, j) => out.push(`<text x="${left + cell * (j + 0.5)}" y="${top - 6}" text-anchor="middle">${escapeXml(l)}</text>`));
  rowLabels.forEach((l, i) => out.push(`<text x="${left - 6}" y="${top + cell * (i + 0.5) + 4}" text-anchor="end">${escapeXml(l)}</text>`));
  values.forEach((row, i) =>
    row.forEach((v, j) => {
      const x = left + cell * j;
      const y = top + cell * i;
      if (v === null) {
        out.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="#f4f4f4" stroke="white"/>`);
        return;
      }
      const t = (v - lo) / (hi - lo);
      const ink = t > 0.6 ? 'black' : 'white';
      const note = notes?.[i]?.[j];
      out.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${viridis(t)}" stroke="white"/>`);
      out.push(`<text x="${x + cell / 2}" y="${y + cell / 2 + (note ? -1 : 4)}" text-anchor="middle" fill="${ink}">${text(v)}</text>`);
      if (note) out.push(`<text x="${x + cell / 2}" y="${y + cell / 2 + 13}" text-anchor="middle" fill="${ink}" font-size="10">${escapeXml(note)}</text>`);
    }),
  );
  // Colour bar.
  const barX = left + cell * columnLabels.length + 24;
  const barH = cell * rowLabels.length;
  for (let k = 0; k < 20; k++) {
    out.push(`<rect x="${barX}" y="${top + (barH * k) / 20}" width="14" height="${barH / 20 + 0.5}" fill="${viridis(1 - (k + 0.5) / 20)}"/>`);
  }
  out.push(`<text x="${barX + 18}" y="${top + 10}">${text(hi)}</text>`, `<text x="${barX + 18}" y="${top + barH}">${text(lo)}</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
