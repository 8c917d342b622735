import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadJudgedAnswers } from '../../../src/seal/knowledge/judged-answers.ts';
import { loadEvalPassages, loadSelfEditPassages, loadSftRows, loadSquadPassages } from '../../../src/seal/knowledge/squad-data.ts';

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
