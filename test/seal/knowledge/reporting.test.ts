// Scoring, the results table, the SVG plot and the progress bar: how a run reports what it measured.
import { describe, expect, it } from 'vitest';
import { renderResultsTable, resultRow } from '../../../src/seal/knowledge/results-table.ts';
import { macroAccuracy, meanStd, passageAccuracy } from '../../../src/seal/knowledge/scoring.ts';
import { Progress, formatDuration } from '../../../src/util/progress.ts';
import { niceTicks, svgPlot } from '../../../src/util/svg-plot.ts';

describe("SEAL's score", () => {
  it('macro-averages per-passage accuracy, with the sample std across passages', () => {
    // Passage accuracies 1/2, 1/1, 0/3: mean 1/2; squared deviations 0 + 1/4 + 1/4 = 1/2, over n − 1 = 2
    // gives variance 1/4, std 1/2.
    const score = macroAccuracy([[true, false], [true], [false, false, false]]);
    expect(score.mean).toBeCloseTo(0.5, 12);
    expect(score.std).toBeCloseTo(0.5, 12);
    expect(score.n).toBe(3);
    // A micro average would give 2/6; the macro average weighs passages equally.
    expect(passageAccuracy([])).toBe(0);
    expect(meanStd([0.3])).toEqual({ mean: 0.3, std: 0, n: 1 });
  });
});

describe('results table', () => {
  const rows = [resultRow('base model', [0.25, 0.75]), { label: 'round 1', mean: 0.437, std: 0.2, n: 200 }];
  it('renders markdown with mean ± std in percent', () => {
    expect(renderResultsTable(rows)).toBe(
      '|  | accuracy | n |\n| --- | ---: | ---: |\n| base model | 50.0 ± 35.4 % | 2 |\n| round 1 | 43.7 ± 20.0 % | 200 |\n',
    );
  });
  it('renders aligned plain text', () => {
    expect(renderResultsTable(rows, { format: 'text', metric: 'acc', countLabel: 'passages' })).toBe(
      '                      acc  passages\n' +
        '----------  -------------  --------\n' +
        'base model  50.0 ± 35.4 %         2\n' +
        'round 1     43.7 ± 20.0 %       200\n',
    );
  });
  it('names a row without values', () => {
    expect(() => renderResultsTable([{ label: 'empty', mean: NaN, std: 0, n: 0 }])).toThrow(/"empty" has a non-finite mean/);
  });
});

/**
 * A small XML well-formedness check: every tag closes in order, attributes are quoted, text has no raw
 * "<" or stray "&", and there is exactly one root element.
 */
function checkWellFormedXml(xml: string): { root: string; elements: Map<string, number> } {
  const stack: string[] = [];
  const elements = new Map<string, number>();
  let roots = 0;
  let root = '';
  const token = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/g;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = token.exec(xml)) !== null) {
    end = token.lastIndex;
    const [, closing, name, , selfClosing, text, stray] = m;
    if (stray) throw new Error(`malformed tag at ${m.index}: ${xml.slice(m.index, m.index + 40)}`);
    if (text !== undefined) {
      if (stack.length === 0 && text.trim() !== '') throw new Error(`text outside the root: ${text.slice(0, 40)}`);
      if (/&(?!(?:lt|gt|amp|quot|apos|#\d+);)/.test(text)) throw new Error(`unescaped & in: ${text.slice(0, 40)}`);
      continue;
    }
    if (closing) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
      continue;
    }
    if (stack.length === 0) {
      roots++;
      root = name;
    }
    elements.set(name, (elements.get(name) ?? 0) + 1);
    if (!selfClosing) stack.push(name);
  }
  if (end !== xml.length) throw new Error('unparsed trailing input');
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('>, <')}>`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
  return { root, elements };
}

describe('SVG plot', () => {
  const rounds = ['base', 'round 1', 'round 2'];
  const series = [
    { name: 'SEAL <implications> & co', points: rounds.map((x, i) => ({ x, y: [0.397, 0.437, 0.47][i], error: 0.02 })) },
    { name: 'GPT-4.1', points: rounds.map((x) => ({ x, y: 0.463 })) },
  ];

  it('writes a well-formed line plot with series, error bars, axis labels and a legend', () => {
    const svg = svgPlot(series, { title: 'Accuracy "per" round', xLabel: 'round', yLabel: 'accuracy', percent: true });
    const { root, elements } = checkWellFormedXml(svg);
    expect(root).toBe('svg');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(elements.get('circle')).toBe(6); // one marker per point
    expect(elements.get('g')).toBe(2); // one group per series
    expect(svg).toContain('SEAL &lt;implications&gt; &amp; co');
    expect(svg).toContain('Accuracy &quot;per&quot; round');
    expect(svg).toContain('>round 1</text>');
    expect(svg).toContain('>45%</text>');
    // Three error bars for the series that has them: three vertical strokes with caps.
    expect(svg.match(/stroke="#333333"/g)).toHaveLength(3);
  });

  it('writes a well-formed grouped bar chart', () => {
    const { elements } = checkWellFormedXml(svgPlot(series, { kind: 'bar' }));
    // 6 bars + the background + 2 legend swatches.
    expect(elements.get('rect')).toBe(9);
  });

  it('plots numeric x on a linear axis', () => {
    const svg = svgPlot([{ name: 'loss', points: [0, 5, 10].map((x) => ({ x, y: 10 - x })) }], { xLabel: 'step' });
    checkWellFormedXml(svg);
    expect(svg).toMatch(/<path d="M64,[\d.]+ L342,[\d.]+ L620,[\d.]+"/); // x = 0, 5, 10 at the left edge, middle, right edge of 64..620
  });

  it('chooses round ticks', () => {
    expect(niceTicks(0.35, 0.5, 5)).toEqual([0.35, 0.4, 0.45, 0.5]);
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  });

  it('rejects non-finite values and empty input, naming them', () => {
    expect(() => svgPlot([])).toThrow(/no series/);
    expect(() => svgPlot([{ name: 's', points: [{ x: 1, y: NaN }] }])).toThrow(/series "s" has a non-finite value at x=1/);
  });
});

class FakeStream {
  isTTY: boolean;
  columns = 200;
  written = '';
  constructor(tty: boolean) {
    this.isTTY = tty;
  }
  write(chunk: string): boolean {
    this.written += chunk;
    return true;
  }
}

describe('progress bar', () => {
  it('on a terminal redraws one line in place with rate, ETA and fields', () => {
    let now = 0;
    const stream = new FakeStream(true);
    const bar = new Progress({ label: 'self-edits', total: 10, stream: stream as never, now: () => now });
    now = 2000;
    bar.tick(4, { loss: 1.23456, 'tok/s': 512 });
    // 4 steps in 2 s → 2/s; 6 left → 3 s.
    expect(bar.render()).toBe('self-edits [##########..............] 4/10 40% 2.0/s elapsed 0:02 ETA 0:03 loss=1.235 tok/s=512');
    expect(stream.written.endsWith(`\r\x1b[K${bar.render()}`)).toBe(true);
    expect(stream.written).not.toContain('\n');
    now = 2050;
    const before = stream.written;
    bar.tick(); // within 100 ms of the last draw: no redraw
    expect(stream.written).toBe(before);
    bar.done();
    expect(stream.written.endsWith('5/10 50% 2.4/s elapsed 0:02 ETA 0:02 loss=1.235 tok/s=512\n')).toBe(true);
  });

  it('elsewhere prints a plain line every interval', () => {
    let now = 0;
    const stream = new FakeStream(false);
    const bar = new Progress({ label: 'eval', total: 100, stream: stream as never, now: () => now, intervalSeconds: 10 });
    for (let i = 1; i <= 100; i++) {
      now = i * 1000; // one step a second
      bar.tick();
    }
    bar.done();
    const lines = stream.written.split('\n').filter(Boolean);
    // The start line, one every 10 s (steps 10, 20, …, 100), and the final line.
    expect(lines).toHaveLength(12);
    expect(lines[0]).toBe('eval [........................] 0/100 0% 0.0/s elapsed 0:00 ETA ?');
    expect(lines[1]).toBe('eval [##......................] 10/100 10% 1.0/s elapsed 0:10 ETA 1:30');
    expect(stream.written).not.toContain('\r');
  });

  it('counts without a total', () => {
    let now = 0;
    const bar = new Progress({ label: 'tokens', stream: new FakeStream(false) as never, now: () => now });
    now = 4000;
    bar.update(1000);
    expect(bar.render()).toBe('tokens 1000 250/s elapsed 0:04');
    expect(formatDuration(3725)).toBe('1:02:05');
  });
});
