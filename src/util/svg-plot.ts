// A tiny SVG plot: line or grouped-bar charts of one or more series, with error bars, axis labels, a
// legend and a title, as one self-contained SVG document (no scripts, no external fonts or styles).
// Enough for "accuracy per round, ± std, for each condition".

export interface PlotPoint {
  /** A number (numeric x axis) or a category name ("base", "round 1"). */
  x: number | string;
  y: number;
  /** Half-height of the error bar (e.g. one standard deviation); none when absent or 0. */
  error?: number;
}

export interface PlotSeries {
  name: string;
  points: PlotPoint[];
  /** CSS colour; default from a colour-blind-safe palette. */
  color?: string;
}

export interface PlotOptions {
  kind?: 'line' | 'bar';
  title?: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
  /** Y range; default from the data (with 0 included for bars), rounded out to tick values. */
  yMin?: number;
  yMax?: number;
  /** Show y tick labels as percentages of 1 (0.47 → "47%"). */
  percent?: boolean;
}

// Okabe–Ito: distinguishable with every common form of colour blindness.
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#F0E442', '#000000'];
const MARGIN = { top: 40, right: 20, bottom: 56, left: 64 };
const LEGEND_ROW = 18;

export function svgPlot(series: readonly PlotSeries[], options: PlotOptions = {}): string {
  const { kind = 'line', title, xLabel, yLabel, width = 640, height = 400, percent = false } = options;
  if (series.length === 0) throw new Error('svgPlot: no series to plot; pass at least one {name, points}');
  for (const s of series) {
    for (const p of s.points) {
      if (!Number.isFinite(p.y) || (p.error !== undefined && !Number.isFinite(p.error))) {
        throw new Error(`svgPlot: series "${s.name}" has a non-finite value at x=${p.x} (y=${p.y}, error=${p.error})`);
      }
    }
  }
  const categorical = kind === 'bar' || series.some((s) => s.points.some((p) => typeof p.x === 'string'));
  const categories = [...new Set(series.flatMap((s) => s.points.map((p) => String(p.x))))];

  // Y range from the data, error bars included, then rounded out to ticks.
  const lows = series.flatMap((s) => s.points.map((p) => p.y - (p.error ?? 0)));
  const highs = series.flatMap((s) => s.points.map((p) => p.y + (p.error ?? 0)));
  let lo = options.yMin ?? Math.min(...lows, ...(kind === 'bar' ? [0] : []));
  let hi = options.yMax ?? Math.max(...highs, ...(kind === 'bar' ? [0] : []));
  if (!(hi > lo)) [lo, hi] = [lo - 1, hi + 1];
  const ticks = niceTicks(lo, hi, 5);
  if (options.yMin === undefined) lo = Math.min(lo, ticks[0]);
  if (options.yMax === undefined) hi = Math.max(hi, ticks[ticks.length - 1]);
  const yTicks = ticks.filter((t) => t >= lo - 1e-12 && t <= hi + 1e-12);

  const legendHeight = series.length > 1 ? LEGEND_ROW * series.length : 0;
  const plot = { left: MARGIN.left, top: MARGIN.top + legendHeight, right: width - MARGIN.right, bottom: height - MARGIN.bottom };
  if (plot.bottom - plot.top < 40) throw new Error(`svgPlot: height ${height} leaves no room for the plot; make it taller`);
  const yOf = (y: number) => plot.bottom - ((y - lo) / (hi - lo)) * (plot.bottom - plot.top);

  let xOf: (x: number | string) => number;
  let xTicks: Array<{ at: number; label: string }>;
  const band = (plot.right - plot.left) / Math.max(1, categories.length);
  if (categorical) {
    xOf = (x) => plot.left + band * (categories.indexOf(String(x)) + 0.5);
    xTicks = categories.map((c) => ({ at: xOf(c), label: c }));
  } else {
    const xs = series.flatMap((s) => s.points.map((p) => p.x as number));
    let xlo = Math.min(...xs);
    let xhi = Math.max(...xs);
    if (!(xhi > xlo)) [xlo, xhi] = [xlo - 1, xhi + 1];
    const xt = niceTicks(xlo, xhi, 6).filter((t) => t >= xlo - 1e-12 && t <= xhi + 1e-12);
    xOf = (x) => plot.left + (((x as number) - xlo) / (xhi - xlo)) * (plot.right - plot.left);
    xTicks = xt.map((t) => ({ at: xOf(t), label: formatTick(t, false) }));
  }

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
  );
  if (title) out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`);

  // Grid and axes.
  for (const t of yTicks) {
    const y = num(yOf(t));
    out.push(`<line x1="${plot.left}" y1="${y}" x2="${plot.right}" y2="${y}" stroke="#e0e0e0"/>`);
    out.push(`<text x="${plot.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(formatTick(t, percent))}</text>`);
  }
  out.push(`<line x1="${plot.left}" y1="${plot.bottom}" x2="${plot.right}" y2="${plot.bottom}" stroke="#000000"/>`);
  out.push(`<line x1="${plot.left}" y1="${plot.top}" x2="${plot.left}" y2="${plot.bottom}" stroke="#000000"/>`);
  for (const t of xTicks) {
    out.push(`<line x1="${num(t.at)}" y1="${plot.bottom}" x2="${num(t.at)}" y2="${plot.bottom + 4}" stroke="#000000"/>`);
    out.push(`<text x="${num(t.at)}" y="${plot.bottom + 18}" text-anchor="middle">${escapeXml(t.label)}</text>`);
  }
  if (xLabel) out.push(`<text x="${num((plot.left + plot.right) / 2)}" y="${height - 12}" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  if (yLabel) {
    const cy = num((plot.top + plot.bottom) / 2);
    out.push(`<text x="16" y="${cy}" text-anchor="middle" transform="rotate(-90 16 ${cy})">${escapeXml(yLabel)}</text>`);
  }

  // Data.
  series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    out.push(`<g class="series" fill="${escapeXml(color)}" stroke="${escapeXml(color)}">`);
    out.push(`<title>${escapeXml(s.name)}</title>`);
    if (kind === 'bar') {
      const barWidth = (band * 0.8) / series.length;
      for (const p of s.points) {
        const x = xOf(p.x) - band * 0.4 + barWidth * i;
        const y0 = yOf(Math.max(lo, Math.min(hi, 0)));
        const y1 = yOf(p.y);
        out.push(`<rect x="${num(x)}" y="${num(Math.min(y0, y1))}" width="${num(barWidth * 0.9)}" height="${num(Math.abs(y1 - y0))}" stroke="none"/>`);
        errorBar(out, x + barWidth * 0.45, p, yOf);
      }
    } else {
      const points = [...s.points].sort((a, b) => (categorical ? 0 : (a.x as number) - (b.x as number)));
      const path = points.map((p, j) => `${j === 0 ? 'M' : 'L'}${num(xOf(p.x))},${num(yOf(p.y))}`).join(' ');
      if (points.length > 1) out.push(`<path d="${path}" fill="none" stroke-width="2"/>`);
      for (const p of points) {
        out.push(`<circle cx="${num(xOf(p.x))}" cy="${num(yOf(p.y))}" r="3.5" stroke="none"/>`);
        errorBar(out, xOf(p.x), p, yOf);
      }
    }
    out.push('</g>');
  });

  // Legend, above the plot, one row per series.
  if (series.length > 1) {
    series.forEach((s, i) => {
      const color = s.color ?? PALETTE[i % PALETTE.length];
      const y = MARGIN.top + LEGEND_ROW * i;
      out.push(`<rect x="${plot.left}" y="${y - 5}" width="14" height="10" fill="${escapeXml(color)}"/>`);
      out.push(`<text x="${plot.left + 20}" y="${y}" dominant-baseline="middle">${escapeXml(s.name)}</text>`);
    });
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function errorBar(out: string[], x: number, p: PlotPoint, yOf: (y: number) => number): void {
  if (!p.error) return;
  const top = num(yOf(p.y + p.error));
  const bottom = num(yOf(p.y - p.error));
  out.push(
    `<path d="M${num(x)},${top} L${num(x)},${bottom} M${num(x - 4)},${top} L${num(x + 4)},${top} M${num(x - 4)},${bottom} L${num(x + 4)},${bottom}" fill="none" stroke="#333333" stroke-width="1.2"/>`,
  );
}

/** About `count` round tick values (1, 2 or 5 times a power of ten apart) spanning [lo, hi]. */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  const raw = (hi - lo) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const first = Math.floor(lo / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let t = first; t <= hi + step * 1e-9 || ticks.length < 2; t += step) ticks.push(Number(t.toPrecision(12)));
  if (ticks[ticks.length - 1] < hi - step * 1e-9) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

function formatTick(value: number, percent: boolean): string {
  if (percent) return `${Number((value * 100).toPrecision(12))}%`;
  return String(Number(value.toPrecision(12)));
}

function num(value: number): string {
  return String(Math.round(value * 100) / 100);
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}
