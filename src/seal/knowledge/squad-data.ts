// SQuAD in SEAL's layout, and the files built on it: self-edit sets (passages with `completions`) and the
// ReST-EM SFT sets (JSONL rows `{prompt, completion}`). Every loader validates the shape record by record,
// because a malformed file otherwise fails deep inside the loop, hours into a run.
import { readFileSync } from 'node:fs';
import { jsonSnippet } from '../../util/json.ts';
import { PyRandom } from '../../util/mt19937.ts';

export interface SquadQuestion {
  question: string;
  answer: string;
}

/** One SQuAD passage in SEAL's layout: `{title, context, questions: [{question, answer}]}`. */
export interface SquadPassage {
  title: string;
  context: string;
  questions: SquadQuestion[];
}

/** A passage with sampled self-edits, as in SEAL's `data/synthetic_data/*.json`. */
export interface SelfEditPassage extends SquadPassage {
  completions: string[];
  /** The exact prompt the self-edits were sampled from (SEAL stores it; older files may lack it). */
  prompt?: string;
}

/** One row of a ReST-EM SFT set: the self-edit prompt and the best completion for it. */
export interface SftRow {
  prompt: string;
  completion: string;
}

/** SEAL evaluates on the first 200 passages of `naive_val.json` (974 questions). */
export const EVAL_PASSAGE_COUNT = 200;

export function loadSquadPassages(path: string): SquadPassage[] {
  return readJsonArray(path).map((record, i) => checkPassage(record, `${path}: record ${i}`));
}

/** The seed of SEAL's RL data shuffle (knowledge-incorporation/src/data_generation/make_squad_data.py l. 117). */
export const SEAL_DATA_SHUFFLE_SEED = 42;

/**
 * How `seal knowledge run` orders its training passages before slicing them into rounds:
 * - `seal`: as SEAL's make_squad_data.py l. 116–119 picks its RL passages, `random.seed(42);
 *   random.shuffle(raw)` over the whole file (CPython's generator, util/mt19937.ts), unless the file is
 *   already SEAL's output (its records carry `completions`, as `iter0_train.json`): that is shuffled once
 *   already, and is read in file order;
 * - `file`: file order.
 */
export type TrainDataOrder = 'seal' | 'file';
export const TRAIN_DATA_ORDERS: readonly TrainDataOrder[] = ['seal', 'file'];

/** `random.seed(seed); random.shuffle(items)` on a copy: SEAL's order of the RL training passages. */
export function sealShuffle<T>(items: readonly T[], seed = SEAL_DATA_SHUFFLE_SEED): T[] {
  return PyRandom.seed(seed).shuffle([...items]);
}

/**
 * The training passages of a file in the order the RL rounds take them (see TrainDataOrder), and whether
 * SEAL's shuffle was applied.
 */
export function loadTrainPassages(path: string, order: TrainDataOrder): { passages: SquadPassage[]; shuffled: boolean } {
  const records = readJsonArray(path);
  const passages = records.map((record, i) => checkPassage(record, `${path}: record ${i}`));
  const sealOutput = records.length > 0 && records.every((r) => Array.isArray((r as Record<string, unknown>).completions));
  const shuffle = order === 'seal' && !sealOutput;
  return { passages: shuffle ? sealShuffle(passages) : passages, shuffled: shuffle };
}

/** SEAL's evaluation set: the first `count` passages of `naive_val.json`. */
export function loadEvalPassages(naiveValPath: string, count = EVAL_PASSAGE_COUNT): SquadPassage[] {
  const passages = loadSquadPassages(naiveValPath);
  if (passages.length < count) {
    throw new Error(
      `${naiveValPath} has ${passages.length} passages but the evaluation set needs ${count}; ` +
        "pass SEAL's naive_val.json (250 passages) or a smaller count",
    );
  }
  return passages.slice(0, count);
}

export function loadSelfEditPassages(path: string): SelfEditPassage[] {
  return readJsonArray(path).map((record, i) => {
    const where = `${path}: record ${i}`;
    const passage = checkPassage(record, where) as SelfEditPassage;
    const { completions, prompt } = record as Record<string, unknown>;
    if (!Array.isArray(completions) || !completions.every((c) => typeof c === 'string')) {
      throw new Error(`${where} ("${passage.title}"): "completions" must be an array of strings (a self-edit file), got ${describe(completions)}`);
    }
    if (prompt !== undefined && typeof prompt !== 'string') {
      throw new Error(`${where} ("${passage.title}"): "prompt" must be a string when present, got ${describe(prompt)}`);
    }
    return { ...passage, completions: [...completions], ...(prompt === undefined ? {} : { prompt }) };
  });
}

export function loadSftRows(path: string): SftRow[] {
  const text = readText(path);
  const rows: SftRow[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (e) {
      throw new Error(`${path}: line ${i + 1} is not valid JSON (${(e as Error).message}); an SFT file has one {"prompt", "completion"} object per line`);
    }
    const { prompt, completion } = (row ?? {}) as Record<string, unknown>;
    if (typeof prompt !== 'string' || typeof completion !== 'string') {
      throw new Error(`${path}: line ${i + 1} needs string fields "prompt" and "completion", got ${describe(row)}`);
    }
    rows.push({ prompt, completion });
  });
  return rows;
}

function checkPassage(record: unknown, where: string): SquadPassage {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    throw new Error(`${where}: expected a passage object {title, context, questions}, got ${describe(record)}`);
  }
  const { title, context, questions } = record as Record<string, unknown>;
  if (typeof title !== 'string') throw new Error(`${where}: "title" must be a string, got ${describe(title)}`);
  if (typeof context !== 'string' || context.trim() === '') {
    throw new Error(`${where} ("${title}"): "context" must be a non-empty string, got ${describe(context)}`);
  }
  if (!Array.isArray(questions)) {
    throw new Error(`${where} ("${title}"): "questions" must be an array of {question, answer}, got ${describe(questions)}`);
  }
  const checked = questions.map((q, j) => {
    const { question, answer } = (q ?? {}) as Record<string, unknown>;
    if (typeof question !== 'string' || typeof answer !== 'string') {
      throw new Error(`${where} ("${title}"): questions[${j}] needs string fields "question" and "answer", got ${describe(q)}`);
    }
    return { question, answer };
  });
  return { title, context, questions: checked };
}

function readJsonArray(path: string): unknown[] {
  let data: unknown;
  try {
    data = JSON.parse(readText(path));
  } catch (e) {
    throw new Error(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(data)) {
    throw new Error(`${path}: expected a JSON array of passages [{title, context, questions}], got ${describe(data)}`);
  }
  return data;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object with keys [${Object.keys(value).join(', ')}]`;
  return `${typeof value} ${jsonSnippet(value, 60)}`;
}
