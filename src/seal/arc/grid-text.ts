// Grids as text, the way SEAL's few-shot model reads and writes them: str() of a numpy array
// (marc's PythonListGridRepresenter), e.g. `[[3 3 8]\n [3 7 0]\n [5 0 0]]`, and an example as
// `{input} -> {output}#` (TextExampleRepresenter with io_sep " -> " and output_footer "#").
import type { ArcExample } from './arc-data.ts';
import type { Grid } from './grid.ts';

/**
 * numpy's str() of an integer grid. Cells are single digits, so numpy pads none; and a row of at most 30
 * cells prints in 62 characters, under numpy's 75-character line width, so numpy wraps none.
 */
export function formatGrid(grid: Grid): string {
  return `[${grid.map((row) => `[${row.join(' ')}]`).join('\n ')}]`;
}

export const IO_SEPARATOR = ' -> ';
export const ANSWER_END = '#';

/** The query half of an example: `{input} -> `. */
export function formatQuery(input: Grid): string {
  return `${formatGrid(input)}${IO_SEPARATOR}`;
}

/** The answer half of an example: `{output}#`. */
export function formatAnswer(output: Grid): string {
  return `${formatGrid(output)}${ANSWER_END}`;
}

export function formatExample(example: ArcExample): string {
  return formatQuery(example.input) + formatAnswer(example.output);
}

/**
 * Reads a model's answer back into a grid: everything from the first `#` on is ignored (SEAL deletes every
 * `#`, so text after the answer made its parse fail), then the text must be a numpy-printed grid of digits
 * 0–9 with rows of equal length. Anything else gives null, and the prediction is dropped.
 */
export function parseGridAnswer(text: string): Grid | null {
  const end = text.indexOf(ANSWER_END);
  const body = (end >= 0 ? text.slice(0, end) : text).trim();
  if (!body.startsWith('[[') || !body.endsWith(']]')) return null;
  const lines = body.split('\n');
  const grid: number[][] = [];
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    const open = i === 0 ? '[[' : '[';
    const close = i === lines.length - 1 ? ']]' : ']';
    if (!line.startsWith(open) || !line.endsWith(close) || line.length < open.length + close.length) return null;
    const cells = line
      .slice(open.length, line.length - close.length)
      .trim()
      .split(/\s+/);
    if (!cells.every((cell) => /^[0-9]$/.test(cell))) return null;
    grid.push(cells.map(Number));
  }
  if (grid.some((row) => row.length !== grid[0].length)) return null;
  return grid;
}
