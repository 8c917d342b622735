// A progress bar on stderr: label, step/total, rate, ETA and any extra fields (loss, tokens/s, …).
// On a terminal it redraws one line in place; elsewhere (a log file, CI) it prints a plain line every
// `intervalSeconds` instead, so logs stay readable and small.

export type ProgressFields = Record<string, string | number>;

export interface ProgressOptions {
  label: string;
  /** Number of steps; leave out for an open-ended count (no bar, no ETA). */
  total?: number;
  /** Where to draw (default process.stderr). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Seconds between lines when not drawing on a terminal (default 5: a log shows that work moves). */
  intervalSeconds?: number;
  /** Clock in milliseconds (for tests; default Date.now). */
  now?: () => number;
  /** Decides terminal or plain-line mode (default: the stream's isTTY). */
  tty?: boolean;
}

const BAR_WIDTH = 24;
const REDRAW_MS = 100; // a terminal need not redraw faster than the eye can read

export class Progress {
  private step = 0;
  private fields: ProgressFields = {};
  private readonly start: number;
  private lastDraw = -Infinity;
  private finished = false;
  private readonly stream: NonNullable<ProgressOptions['stream']>;
  private readonly tty: boolean;
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(private readonly options: ProgressOptions) {
    if (options.total !== undefined && !(Number.isFinite(options.total) && options.total >= 0)) {
      throw new Error(`progress "${options.label}": total must be a non-negative number, got ${options.total}`);
    }
    this.stream = options.stream ?? process.stderr;
    this.tty = options.tty ?? Boolean(this.stream.isTTY);
    this.intervalMs = (options.intervalSeconds ?? 5) * 1000;
    this.now = options.now ?? Date.now;
    this.start = this.now();
    // A plain log gets its first line now, so it shows what started; a terminal draws at once too.
    this.draw(true);
  }

  /** Advances by `n` steps and merges `fields` into the extra fields shown. */
  tick(n = 1, fields?: ProgressFields): void {
    this.update(this.step + n, fields);
  }

  /** Sets the step (and extra fields). */
  update(step: number, fields?: ProgressFields): void {
    this.step = step;
    if (fields) this.fields = { ...this.fields, ...fields };
    this.draw(false);
  }

  /** Prints a message above the bar without garbling it. */
  log(message: string): void {
    if (this.tty && !this.finished) this.stream.write(`\r\x1b[K${message}\n`);
    else this.stream.write(`${message}\n`);
    if (this.tty && !this.finished) this.draw(true);
  }

  /** Draws the final state and ends the line. */
  done(fields?: ProgressFields): void {
    if (this.finished) return;
    if (fields) this.fields = { ...this.fields, ...fields };
    this.draw(true);
    if (this.tty) this.stream.write('\n');
    this.finished = true;
  }

  /** The current line, as it would be drawn. */
  render(): string {
    const { label, total } = this.options;
    const elapsed = (this.now() - this.start) / 1000;
    const rate = elapsed > 0 ? this.step / elapsed : 0;
    const parts = [label];
    if (total !== undefined) {
      const fraction = total === 0 ? 1 : Math.min(1, this.step / total);
      const filled = Math.round(fraction * BAR_WIDTH);
      parts.push(`[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`, `${formatStep(this.step)}/${total}`, `${(100 * fraction).toFixed(0)}%`);
    } else {
      parts.push(String(this.step));
    }
    parts.push(`${formatRate(rate)}/s`, `elapsed ${formatDuration(elapsed)}`);
    if (total !== undefined && this.step < total) parts.push(`ETA ${rate > 0 ? formatDuration((total - this.step) / rate) : '?'}`);
    for (const [key, value] of Object.entries(this.fields)) parts.push(`${key}=${typeof value === 'number' ? formatNumber(value) : value}`);
    return parts.join(' ');
  }

  private draw(force: boolean): void {
    if (this.finished) return;
    const now = this.now();
    if (this.tty) {
      if (!force && now - this.lastDraw < REDRAW_MS) return;
      let line = this.render();
      const columns = this.stream.columns;
      if (columns && line.length > columns - 1) line = line.slice(0, columns - 1);
      this.stream.write(`\r\x1b[K${line}`);
    } else {
      if (!force && now - this.lastDraw < this.intervalMs) return;
      this.stream.write(`${this.render()}\n`);
    }
    this.lastDraw = now;
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(h > 0 ? 2 : 1, '0');
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(sec).padStart(2, '0')}`;
}

/** Steps may be fractional (work reported as it trains): one decimal then. */
function formatStep(step: number): string {
  return Number.isInteger(step) ? String(step) : step.toFixed(1);
}

function formatRate(rate: number): string {
  return rate >= 100 ? rate.toFixed(0) : rate >= 1 ? rate.toFixed(1) : rate.toPrecision(2);
}

function formatNumber(value: number): string {
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  return abs !== 0 && (abs < 1e-3 || abs >= 1e6) ? value.toExponential(2) : value.toPrecision(4);
}
