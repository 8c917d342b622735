// The queries a test-time-trained model answers for one test input (marc's inference/preprocess.py
// get_leave_n_test_task, as SEAL's eval-self-edits.py calls it: leave-1-out, 2 permutations):
//   1. the demonstrations with one left out, every way, each also in 2 random orders; de-duplicated;
//   2. five transformed views — Transpose, Flip(0), Flip(1), Rotate(90), Rotate(180) — each of one randomly
//      picked task from step 1, skipped when it equals a task already there;
//   3. queries of 8,192 tokens or more (counted with the answer, as SEAL does) dropped; if none is left,
//      everything again with leave-2-out added.
// A view's answer is mapped back by the view's inverse; the inverse's name is the voting category.
import { Rng } from '../../util/random.ts';
import type { ArcTask } from './arc-data.ts';
import { type FewShotTask, applyTool, leaveOutDemonstrations, permuteExamples, taskKey, uniqueTasks } from './few-shot-task.ts';
import type { Grid } from './grid.ts';
import { parseGridAnswer } from './grid-text.ts';
import { type ChatMessage, type CountTokens, MAX_SEQUENCE_TOKENS, countMessages, fewShotConversation, fewShotQuery } from './messages.ts';
import { type GridTransform, TRANSPOSE, flip, rotate, sameForBoth } from './tools.ts';

/** The voting category of untransformed queries (SEAL's inverter None). */
export const IDENTITY_CATEGORY = 'identity';

/** The transformed views, in SEAL's order, with the name of each one's inverse. */
const VIEWS: readonly { transform: GridTransform; inverse: string }[] = [
  { transform: TRANSPOSE, inverse: 'Transpose()' },
  { transform: flip(0), inverse: 'Flip(0)' },
  { transform: flip(1), inverse: 'Flip(1)' },
  { transform: rotate(90), inverse: 'Rotate(270)' },
  { transform: rotate(180), inverse: 'Rotate(180)' },
];

export interface InferenceQuery {
  task: FewShotTask;
  /** System and user messages, before the chat template; the model's answer follows. */
  messages: ChatMessage[];
  /** The transform applied to the task, or null for the task as given. */
  view: GridTransform | null;
  /** The inverse's name (or "identity"): predictions are voted on within and across these. */
  category: string;
  leaveOut: number;
  /** Tokens of the conversation with the answer filled in (the solution, or the test input when unknown). */
  tokens: number;
}

export interface InferenceQueryOptions {
  countTokens: CountTokens;
  seed?: number;
  leaveOut?: readonly number[];
  permutations?: number;
  maxTokens?: number;
}

export interface InferenceQuerySet {
  queries: InferenceQuery[];
  /** False when every query was too long, even with leave-2-out: the task gets no predictions. */
  valid: boolean;
}

export function buildInferenceQueries(
  task: ArcTask,
  testIndex: number,
  { countTokens, seed = 0, leaveOut = [1], permutations = 2, maxTokens = MAX_SEQUENCE_TOKENS }: InferenceQueryOptions,
): InferenceQuerySet {
  const test = task.test[testIndex];
  if (test === undefined) {
    throw new Error(`task ${task.id} has ${task.test.length} test input(s); test index ${testIndex} does not exist`);
  }
  // Without a solution, marc's loader makes the test output a copy of the input; it only affects counting.
  const testExample = { input: test.input, output: test.output ?? test.input };
  const build = (ns: readonly number[]) =>
    ns
      .flatMap((n) => leaveOutQueries(task.train, testExample, n, permutations, seed))
      .map((query) => ({ ...query, tokens: countMessages(countTokens, fewShotConversation(query.task)) }))
      .filter((query) => query.tokens < maxTokens);
  let queries = build(leaveOut);
  if (queries.length === 0 && leaveOut.length > 0) queries = build([...leaveOut, leaveOut[leaveOut.length - 1] + 1]);
  return { queries, valid: queries.length > 0 };
}

function leaveOutQueries(
  demonstrations: ArcTask['train'],
  test: FewShotTask['test'],
  n: number,
  permutations: number,
  seed: number,
): Omit<InferenceQuery, 'tokens'>[] {
  if (n > demonstrations.length) return [];
  const rng = new Rng(seed);
  const orders: FewShotTask[] = [];
  for (const kept of leaveOutDemonstrations(demonstrations, n)) {
    const base: FewShotTask = { demonstrations: kept, test };
    orders.push(base);
    for (let p = 0; p < permutations; p++) orders.push(permuteExamples(base, rng));
  }
  const plain = uniqueTasks(orders);
  const known = new Set(plain.map(taskKey));
  const viewed: (FewShotTask & { view: GridTransform; inverse: string })[] = [];
  for (const { transform, inverse } of VIEWS) {
    if (plain.length === 0) break;
    const picked = rng.pick(plain);
    const task = applyTool(picked, sameForBoth('basic', transform));
    if (known.has(taskKey(task))) continue;
    viewed.push({ ...task, view: transform, inverse });
  }
  return [
    ...plain.map((task) => ({ task, messages: fewShotQuery(task), view: null, category: IDENTITY_CATEGORY, leaveOut: n })),
    ...uniqueTasks(viewed).map(({ view, inverse, ...task }) => ({ task, messages: fewShotQuery(task), view, category: inverse, leaveOut: n })),
  ];
}

export interface Prediction {
  /** In the original task's orientation. */
  grid: Grid;
  category: string;
}

/** The model's answer to a query as a prediction for the original task, or null when it does not parse. */
export function readPrediction(query: Pick<InferenceQuery, 'view' | 'category'>, completion: string): Prediction | null {
  const answer = parseGridAnswer(completion);
  if (answer === null) return null;
  const grid = query.view === null ? answer : query.view.invert(answer);
  return grid === null ? null : { grid, category: query.category };
}
