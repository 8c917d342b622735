// Fuzzing the data readers: JSONL training/scoring lines (src/train/examples.ts), ARC challenges and
// solutions (src/seal/arc/arc-data.ts), and SEAL's SQuAD files (src/seal/knowledge/squad-data.ts). The
// seeds are small files written here (the real ARC and SQuAD data stay in ../shared); each class's oracle
// states the layout's rules, and an accepted file must give back what it holds.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type Tokenizer, loadTokenizer } from '../../src/io/tokenizer.ts';
import { loadArcTasks } from '../../src/seal/arc/arc-data.ts';
import { loadSelfEditPassages, loadSftRows, loadSquadPassages } from '../../src/seal/knowledge/squad-data.ts';
import { DataError, type LossMode, readExamples } from '../../src/train/examples.ts';
import { withByteTokenizer } from '../helpers/byte-tokenizer.ts';
import { FIXTURE } from '../model/fixture.ts';
import { Inconsistent, isObject, runCampaign, tryParse } from './campaign.ts';
import { type Mutated, type Rng, mutateJson, mutateJsonDocument, mutateJsonText, toJsonText } from './mutate.ts';

const work = mkdtempSync(join(tmpdir(), 'fuzz-data-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

// ---------------------------------------------------------------------------------------------------------
// JSONL lines

/** The byte-level tokenizer of the tests (ids 0–299, a chat template); its vocabulary bounds pre-tokenised ids. */
const V = 512;
let byteTokenizer: Tokenizer;
beforeAll(async () => {
  byteTokenizer = await loadTokenizer(withByteTokenizer(FIXTURE));
});

const JSONL_SEED = [
  { text: 'Ada Lovelace was born in 1815.' },
  { prompt: 'Where was Ada born?', completion: ' London.' },
  {
    messages: [
      { role: 'user', content: 'Who wrote the first program?' },
      { role: 'assistant', content: 'Ada Lovelace.' },
    ],
  },
  { input_ids: [1, 70, 71, 72], labels: [-100, 70, 71, 72], attention_mask: [1, 1, 1, 1] },
  { input_ids: [1, 80, 81, 0, 0], labels: [-100, 80, 81, -100, -100], attention_mask: [1, 1, 1, 0, 0] },
  { input_ids: [5, 6, 7] },
];

interface JsonlCase {
  text: string;
  tokenizer: boolean;
  loss: LossMode;
}

/** A line's tokens and labels for pre-tokenised lines, true for other valid lines, null if invalid. */
function lineOracle(value: unknown, c: JsonlCase): { ids: number[]; labels: number[] } | true | null {
  if (!isObject(value)) return null;
  if ('input_ids' in value) {
    const ints = (v: unknown, ok: (x: number) => boolean) => Array.isArray(v) && v.every((x) => Number.isSafeInteger(x) && ok(x));
    const isId = (x: number) => x >= 0 && x < V;
    const ids = value.input_ids;
    if (!ints(ids, isId)) return null;
    const labels = 'labels' in value ? value.labels : ids;
    if (!ints(labels, (x) => x === -100 || isId(x)) || labels.length !== ids.length) return null;
    let n = ids.length;
    if ('attention_mask' in value) {
      const mask = value.attention_mask;
      if (!ints(mask, (x) => x === 0 || x === 1) || mask.length !== ids.length) return null;
      n = mask.indexOf(0) < 0 ? mask.length : mask.indexOf(0);
      if (mask.slice(n).some((m: number) => m !== 0)) return null;
    }
    return n === 0 ? null : { ids: ids.slice(0, n), labels: labels.slice(0, n) };
  }
  if (!c.tokenizer) return null;
  if (typeof value.text === 'string') return true;
  if (typeof value.prompt === 'string' && typeof value.completion === 'string') return true;
  if (!Array.isArray(value.messages)) return null;
  if (!value.messages.every((m: unknown) => isObject(m) && typeof m.role === 'string' && typeof m.content === 'string')) return null;
  return c.loss === 'all' || value.messages.some((m: { role: string }) => m.role === 'assistant') ? true : null;
}

function jsonlOracle(c: JsonlCase): ({ ids: number[]; labels: number[] } | true)[] | null {
  const out: ({ ids: number[]; labels: number[] } | true)[] = [];
  for (const raw of c.text.split('\n')) {
    if (!raw.trim()) continue;
    const p = tryParse(raw);
    const line = p.ok ? lineOracle(p.value, c) : null;
    if (line === null) return null;
    out.push(line);
  }
  return out.length ? out : null;
}

function mutateJsonl(rng: Rng): Mutated<JsonlCase> {
  const lines = JSONL_SEED.map((l) => structuredClone(l) as unknown);
  const kinds: string[] = [];
  const n = 1 + rng.int(2);
  for (let k = 0; k < n; k++) {
    const i = rng.int(lines.length);
    const m = mutateJson(rng, lines[i]);
    lines[i] = m.value;
    kinds.push(...m.kinds.map((x) => `line ${i}:${x}`));
  }
  let text = lines.map((l) => toJsonText(l)).join('\n') + '\n';
  if (rng.uniform() < 0.2) {
    const m = mutateJsonText(rng, text);
    text = m.value;
    kinds.push(...m.kinds);
  }
  return { value: { text, tokenizer: rng.uniform() < 0.85, loss: rng.uniform() < 0.5 ? 'all' : 'completion' }, kinds };
}

// ---------------------------------------------------------------------------------------------------------
// ARC

const grid = (rows: number, cols: number, seed: number) =>
  Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => (r * 3 + c + seed) % 10));
const ARC_CHALLENGES = {
  '00576224': {
    train: [
      { input: grid(2, 2, 1), output: grid(6, 6, 1) },
      { input: grid(2, 2, 4), output: grid(6, 6, 4) },
    ],
    test: [{ input: grid(2, 2, 7) }],
  },
  '6150a2bd': { train: [{ input: grid(3, 3, 2), output: grid(3, 3, 5) }], test: [{ input: grid(3, 3, 8) }, { input: grid(1, 5, 0) }] },
  abc: { train: [{ input: [[0]], output: [[9]] }], test: [{ input: grid(30, 30, 3) }] },
};
const ARC_SOLUTIONS = { '00576224': [grid(6, 6, 7)], '6150a2bd': [grid(3, 3, 1), grid(1, 5, 9)] };

function isGrid(g: unknown): g is number[][] {
  if (!Array.isArray(g) || g.length === 0 || g.length > 30 || !g.every(Array.isArray)) return false;
  const cols = g[0].length;
  return (
    cols > 0 &&
    cols <= 30 &&
    g.every((row) => row.length === cols && row.every((c: unknown) => Number.isInteger(c) && (c as number) >= 0 && (c as number) <= 9))
  );
}

/** The tasks (with solutions attached) if the challenges and solutions follow the ARC Prize layout, else null. */
function arcOracle(challenges: unknown, solutions: unknown): { id: string; train: unknown; test: unknown[] }[] | null {
  if (!isObject(challenges)) return null;
  const tasks: { id: string; train: unknown; test: { input: unknown; output?: unknown }[] }[] = [];
  for (const [id, t] of Object.entries(challenges)) {
    if (!isObject(t) || !Array.isArray(t.train) || !t.train.length || !Array.isArray(t.test) || !t.test.length) return null;
    if (!t.train.every((e: unknown) => isObject(e) && isGrid(e.input) && isGrid(e.output))) return null;
    if (!t.test.every((e: unknown) => isObject(e) && isGrid(e.input) && (e.output === undefined || isGrid(e.output)))) return null;
    tasks.push({
      id,
      train: t.train.map((e: any) => ({ input: e.input, output: e.output })),
      test: t.test.map((e: any) => (e.output === undefined ? { input: e.input } : { input: e.input, output: e.output })),
    });
  }
  if (!isObject(solutions)) return null;
  for (const [id, grids] of Object.entries(solutions)) {
    const task = tasks.find((t) => t.id === id);
    if (!task || !Array.isArray(grids) || grids.length !== task.test.length || !grids.every(isGrid)) return null;
    grids.forEach((g, i) => (task.test[i].output = g));
  }
  return tasks;
}

// ---------------------------------------------------------------------------------------------------------
// SQuAD (SEAL's layout), self-edit files and SFT rows

const PASSAGES = [
  {
    title: 'Ada Lovelace',
    context: 'Ada Lovelace was born in London in 1815.',
    questions: [
      { question: 'Where was she born?', answer: 'London' },
      { question: 'When?', answer: '1815' },
    ],
  },
  { title: 'Mira', context: 'Mira is a red star.', questions: [] },
];
const SELF_EDITS = PASSAGES.map((p, i) => ({
  ...p,
  completions: ['Ada was born in 1815.', 'London is a city.'],
  ...(i === 0 ? { prompt: 'List implications.' } : {}),
}));

function passageOk(p: unknown): p is { title: string; context: string; questions: { question: string; answer: string }[] } {
  return (
    isObject(p) &&
    typeof p.title === 'string' &&
    typeof p.context === 'string' &&
    p.context.trim() !== '' &&
    Array.isArray(p.questions) &&
    p.questions.every((q: unknown) => isObject(q) && typeof q.question === 'string' && typeof q.answer === 'string')
  );
}

const squadOracle = (data: unknown) =>
  Array.isArray(data) && data.every(passageOk)
    ? data.map((p) => ({ title: p.title, context: p.context, questions: p.questions.map((q: any) => ({ question: q.question, answer: q.answer })) }))
    : null;

function selfEditOracle(data: unknown) {
  const passages = squadOracle(data);
  if (!passages) return null;
  const records = data as Record<string, any>[];
  if (
    !records.every(
      (r) =>
        Array.isArray(r.completions) && r.completions.every((c: unknown) => typeof c === 'string') && (r.prompt === undefined || typeof r.prompt === 'string'),
    )
  )
    return null;
  return passages.map((p, i) => ({ ...p, completions: records[i].completions, ...(records[i].prompt === undefined ? {} : { prompt: records[i].prompt }) }));
}

function sftOracle(text: string) {
  const rows: { prompt: string; completion: string }[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const p = tryParse(line);
    if (!p.ok || !isObject(p.value) || typeof p.value.prompt !== 'string' || typeof p.value.completion !== 'string') return null;
    rows.push({ prompt: p.value.prompt, completion: p.value.completion });
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------------

describe('fuzzing the data readers', { timeout: 300_000 }, () => {
  it('JSONL data lines: 1,500 mutated files', async () => {
    const file = (i: number) => join(work, `data-${i % 4}.jsonl`);
    await runCampaign<JsonlCase>({
      name: 'JSONL lines',
      seed: 6,
      cases: 1500,
      make: mutateJsonl,
      valid: (c) => jsonlOracle(c) !== null,
      async run(c, i) {
        writeFileSync(file(i), c.text);
        const examples = await readExamples(file(i), c.tokenizer ? byteTokenizer : null, { loss: c.loss, appendEos: c.loss === 'completion', vocabSize: V });
        const want = jsonlOracle(c)!;
        if (examples.length !== want.length) throw new Inconsistent(`${examples.length} examples from ${want.length} lines`);
        examples.forEach((e, k) => {
          const w = want[k];
          if (w !== true && !(same(e.ids, w.ids) && same(e.labels, w.labels))) throw new Inconsistent(`line ${k}: ${JSON.stringify(e)} ≠ ${JSON.stringify(w)}`);
          if (!e.ids.length || e.ids.length !== e.labels.length || !e.ids.every((id) => Number.isSafeInteger(id) && id >= 0 && id < V)) {
            throw new Inconsistent(`line ${k}: ids ${e.ids.slice(0, 8)} / ${e.labels.length} labels`);
          }
        });
      },
      errors: [DataError],
      names: (i) => file(i),
    });
  });

  it('ARC challenges and solutions: 1,200 mutated files', async () => {
    const paths = (i: number) => ({ challenges: join(work, `arc-${i % 4}-challenges.json`), solutions: join(work, `arc-${i % 4}-solutions.json`) });
    type Case = { challenges: string; solutions: string };
    await runCampaign<Case>({
      name: 'ARC JSON',
      seed: 7,
      cases: 1200,
      make(rng) {
        const mutateSolutions = rng.uniform() < 0.3;
        const m = mutateJsonDocument(rng, mutateSolutions ? ARC_SOLUTIONS : ARC_CHALLENGES, 2);
        return mutateSolutions
          ? { value: { challenges: JSON.stringify(ARC_CHALLENGES), solutions: m.value }, kinds: m.kinds.map((k) => `solutions:${k}`) }
          : { value: { challenges: m.value, solutions: JSON.stringify(ARC_SOLUTIONS) }, kinds: m.kinds };
      },
      valid(c) {
        const [ch, so] = [tryParse(c.challenges), tryParse(c.solutions)];
        return ch.ok && so.ok && arcOracle(ch.value, so.value) !== null;
      },
      async run(c, i) {
        const p = paths(i);
        writeFileSync(p.challenges, c.challenges);
        writeFileSync(p.solutions, c.solutions);
        const tasks = loadArcTasks(p.challenges, p.solutions);
        const want = arcOracle(JSON.parse(c.challenges), JSON.parse(c.solutions));
        if (!same(tasks, want)) throw new Inconsistent(`read ${JSON.stringify(tasks).slice(0, 200)}, the files say ${JSON.stringify(want).slice(0, 200)}`);
      },
      errors: [Error],
      names: (i) => join(work, `arc-${i % 4}-`),
    });
  });

  it("SEAL's SQuAD passages, self-edit files and SFT rows: 1,500 mutated files", async () => {
    const kinds = ['passages', 'self-edits', 'sft'] as const;
    const file = (i: number) => join(work, `squad-${i % 4}.json`);
    type Case = { kind: (typeof kinds)[number]; text: string };
    const sftText = SELF_EDITS.map((p) => JSON.stringify({ prompt: p.context, completion: p.completions[0] })).join('\n') + '\n';
    await runCampaign<Case>({
      name: 'SQuAD JSON',
      seed: 8,
      cases: 1500,
      make(rng) {
        const kind = rng.pick(kinds);
        if (kind === 'sft') {
          const rows = sftText
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l));
          const r = rng.int(rows.length);
          const m = mutateJsonDocument(rng, rows[r], 2);
          const lines = rows.map((row, k) => (k === r ? m.value.replace(/\n\s*/g, '') : JSON.stringify(row)));
          return { value: { kind, text: lines.join('\n') + '\n' }, kinds: m.kinds.map((k) => `sft:${k}`) };
        }
        const m = mutateJsonDocument(rng, kind === 'passages' ? PASSAGES : SELF_EDITS, 2);
        return { value: { kind, text: m.value }, kinds: m.kinds.map((k) => `${kind}:${k}`) };
      },
      valid(c) {
        if (c.kind === 'sft') return sftOracle(c.text) !== null;
        const p = tryParse(c.text);
        return p.ok && (c.kind === 'passages' ? squadOracle(p.value) : selfEditOracle(p.value)) !== null;
      },
      async run(c, i) {
        writeFileSync(file(i), c.text);
        const got = c.kind === 'passages' ? loadSquadPassages(file(i)) : c.kind === 'self-edits' ? loadSelfEditPassages(file(i)) : loadSftRows(file(i));
        const want = c.kind === 'sft' ? sftOracle(c.text) : (c.kind === 'passages' ? squadOracle : selfEditOracle)(JSON.parse(c.text));
        if (!same(got, want)) throw new Inconsistent(`read ${JSON.stringify(got).slice(0, 200)}, the file says ${JSON.stringify(want).slice(0, 200)}`);
      },
      errors: [Error],
      names: (i) => file(i),
    });
  });
});
