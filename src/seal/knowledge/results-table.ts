// The final results table: one row per condition (baselines, then each round), each a mean ± standard
// deviation, as markdown for a report or as aligned plain text for a terminal.
import { type MeanStd, meanStd } from './scoring.ts';

export interface ResultRow extends MeanStd {
  label: string;
}

export interface ResultsTableOptions {
  format?: 'markdown' | 'text';
  /** Header of the value column (default "accuracy"). */
  metric?: string;
  /** Show values as percentages (default true: accuracies are fractions). */
  percent?: boolean;
  /** Decimal places (default 1). */
  digits?: number;
  /** Header of the n column, saying what was counted (default "n"). */
  countLabel?: string;
}

/** A row from raw values (per-passage accuracies, per-seed scores, …). */
export function resultRow(label: string, values: readonly number[]): ResultRow {
  return { label, ...meanStd(values) };
}

export function renderResultsTable(rows: readonly ResultRow[], options: ResultsTableOptions = {}): string {
  const { format = 'markdown', metric = 'accuracy', percent = true, digits = 1, countLabel = 'n' } = options;
  const scale = percent ? 100 : 1;
  const unit = percent ? ' %' : '';
  const cells = rows.map((row) => {
    if (!Number.isFinite(row.mean) || !Number.isFinite(row.std)) {
      throw new Error(`results row "${row.label}" has a non-finite mean or std (${row.mean} ± ${row.std}); check that it had values`);
    }
    return [row.label, `${(row.mean * scale).toFixed(digits)} ± ${(row.std * scale).toFixed(digits)}${unit}`, String(row.n)];
  });
  const header = ['', metric, countLabel];
  if (format === 'markdown') {
    const line = (cols: string[]) => `| ${cols.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
    return [line(header), '| --- | ---: | ---: |', ...cells.map(line)].join('\n') + '\n';
  }
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (cols: string[]) =>
    cols
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n') + '\n';
}
