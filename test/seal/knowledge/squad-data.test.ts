import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadJudgedAnswers } from '../../../src/seal/knowledge/judged-answers.ts';
import {
  loadEvalPassages,
  loadSelfEditPassages,
  loadSftRows,
  loadSquadPassages,
  loadTrainPassages,
  sealShuffle,
} from '../../../src/seal/knowledge/squad-data.ts';

// SEAL's SQuAD files, read from the shared data folder next to the project; tests on them skip without it.
const SQUAD_DIR = resolve(import.meta.dirname, '../../../../shared/data/squad');
const HAVE_SQUAD = existsSync(SQUAD_DIR);
if (!HAVE_SQUAD) console.warn(`SKIPPING tests on SEAL's SQuAD files: ${SQUAD_DIR} not found`);

function tmpFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'squad-')), name);
  writeFileSync(path, text);
  return path;
}

describe('loaders reject malformed files with the record and the fix', () => {
  it('names a passage missing its questions', () => {
    const path = tmpFile(
      'bad.json',
      JSON.stringify([
        { title: 'T', context: 'c', questions: [{ question: 'q', answer: 'a' }] },
        { title: 'U', context: 'c' },
      ]),
    );
    expect(() => loadSquadPassages(path)).toThrow(/record 1 \("U"\): "questions" must be an array/);
  });
  it('names a question without an answer', () => {
    const path = tmpFile('bad.json', JSON.stringify([{ title: 'T', context: 'c', questions: [{ question: 'q' }] }]));
    expect(() => loadSquadPassages(path)).toThrow(/questions\[0\] needs string fields "question" and "answer"/);
  });
  it('says a self-edit file needs completions', () => {
    const path = tmpFile('bad.json', JSON.stringify([{ title: 'T', context: 'c', questions: [] }]));
    expect(() => loadSelfEditPassages(path)).toThrow(/"completions" must be an array of strings/);
  });
  it('names the bad line of an SFT file', () => {
    const path = tmpFile('bad.jsonl', '{"prompt":"p","completion":"c"}\n{"prompt":"p"}\n');
    expect(() => loadSftRows(path)).toThrow(/line 2 needs string fields "prompt" and "completion"/);
  });
  it('says the evaluation set needs 200 passages', () => {
    const path = tmpFile('small.json', JSON.stringify([{ title: 'T', context: 'c', questions: [] }]));
    expect(() => loadEvalPassages(path)).toThrow(/has 1 passages but the evaluation set needs 200/);
  });
  it('reports an unreadable file by its path', () => {
    expect(() => loadSquadPassages('/nonexistent/squad.json')).toThrow(/cannot read \/nonexistent\/squad.json/);
  });
});

describe.skipIf(!HAVE_SQUAD)("SEAL's SQuAD files", () => {
  it('evaluation set: the first 200 passages of naive_val.json, 974 questions', () => {
    const passages = loadEvalPassages(`${SQUAD_DIR}/naive_val.json`);
    expect(passages).toHaveLength(200);
    expect(passages.reduce((n, p) => n + p.questions.length, 0)).toBe(974);
    expect(passages[0].title).toBe('Genghis Khan');
    expect(passages[0].questions[1]).toEqual({
      question: "Which town's massacre did Genghis Khan order in retribution for the treatment of his envoys?",
      answer: 'Otrar',
    });
  });
  it('self-edit files: 5 completions per passage, with the prompt', () => {
    const passages = loadSelfEditPassages(`${SQUAD_DIR}/self-edits/base_val.json`);
    expect(passages).toHaveLength(200);
    expect(passages.every((p) => p.completions.length === 5)).toBe(true);
    expect(passages[0].prompt?.startsWith("Let's read the following passage and produce a list of implications")).toBe(true);
  });
  it('SFT rows', () => {
    const rows = loadSftRows(`${SQUAD_DIR}/sft/sft_best1of5_iter0.jsonl`);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows[0].prompt.endsWith('\n\nImplications:\n')).toBe(true);
    expect(rows[0].completion.startsWith('1. The Estophile Enlightenment Period')).toBe(true);
  });
  it('judged answers: a baseline and an adapter verdict per question', () => {
    const answers = loadJudgedAnswers(`${SQUAD_DIR}/judged/base.json`);
    expect(answers).toHaveLength(2 * 974);
    expect(answers[2]).toMatchObject({ gold: 'Otrar', model: 'baseline', correct: false });
    expect(answers[3]).toMatchObject({ gold: 'Otrar', model: 'adapter', correct: true });
  });
});

describe("the RL training passages in SEAL's order (make_squad_data.py l. 116-119: random.seed(42); random.shuffle(raw))", () => {
  it('shuffles as CPython does', () => {
    // Expected values computed with /usr/bin/python3 3.11.2: random.seed(42); p = list(range(n));
    // random.shuffle(p). n = 18,896 (SQuAD v1.1's training paragraphs, if squad_train.json has one record
    // each, notes/seal-fidelity.md point 3): p[:10]; n = 10: all of it.
    const ids = (n: number) => [...Array(n).keys()];
    expect(sealShuffle(ids(18896)).slice(0, 10)).toEqual([13921, 6265, 1107, 1787, 2188, 3618, 7420, 6674, 9049, 6185]);
    expect(sealShuffle(ids(10))).toEqual([7, 3, 2, 8, 5, 6, 9, 4, 0, 1]);
    const input = ids(10);
    sealShuffle(input);
    expect(input).toEqual(ids(10)); // a copy is shuffled
  });

  it("--data-order seal shuffles a plain passage file, but keeps SEAL's own output (records with completions) in file order", () => {
    const passages = ['A', 'B', 'C', 'D'].map((title) => ({ title, context: `${title} is a place.`, questions: [] }));
    const plain = tmpFile('plain.json', JSON.stringify(passages));
    // random.seed(42); random.shuffle([0, 1, 2, 3]) → [2, 1, 3, 0] (python3 3.11.2).
    expect(loadTrainPassages(plain, 'seal')).toMatchObject({ shuffled: true, passages: [2, 1, 3, 0].map((i) => passages[i]) });
    expect(loadTrainPassages(plain, 'file')).toEqual({ shuffled: false, passages });
    const generated = tmpFile('generated.json', JSON.stringify(passages.map((p) => ({ ...p, completions: ['x'] }))));
    expect(loadTrainPassages(generated, 'seal')).toEqual({ shuffled: false, passages });
  });

  it.skipIf(!HAVE_SQUAD)('on squad_val.json: the order whose first 250 are naive_val.json', () => {
    // notes/seal-fidelity.md point 3 (SEAL's shuffle of the dev set gives naive_val.json); titles rerun
    // with /usr/bin/python3.
    const { passages, shuffled } = loadTrainPassages(join(SQUAD_DIR, 'squad_val.json'), 'seal');
    expect(shuffled).toBe(true);
    expect(passages.slice(0, 5).map((p) => p.title)).toEqual(['Genghis Khan', 'European Union law', '1973 oil crisis', 'Genghis Khan', 'Chloroplast']);
    // iter0_train.json is SEAL's output (round 1 = its first 50): read as it is.
    const iter0 = loadTrainPassages(join(SQUAD_DIR, 'self-edits', 'iter0_train.json'), 'seal');
    expect(iter0.shuffled).toBe(false);
    expect(iter0.passages.slice(0, 5).map((p) => p.title)).toEqual(['Estonian language', 'Adolescence', 'YouTube', 'Child labour', 'Botany']);
  });
});
