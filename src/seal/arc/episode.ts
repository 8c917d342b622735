// One self-edit's reward in the few-shot domain (SEAL self-edit.py + eval-self-edits.py, the paper's
// inner loop): parse the configuration; build its test-time training set and plan; if refused, reward 0;
// otherwise train a fresh adapter, answer every inference query of every test input with it, map the
// answers back, vote, and reward 1 when the task is solved. The model-dependent steps are hooks, supplied
// by the loop that owns the model.
import type { ArcTask } from './arc-data.ts';
import type { Grid } from './grid.ts';
import { type InferenceQuery, type Prediction, buildInferenceQueries, readPrediction } from './inference-queries.ts';
import type { ChatMessage, CountTokens } from './messages.ts';
import { type ParsedSelfEdit, parseSelfEdit } from './self-edit.ts';
import { type TttExample, buildTttSet } from './ttt-data.ts';
import { type TttPlan, planTtt } from './ttt-plan.ts';
import { isTaskSolved, vote } from './voting.ts';

export interface ArcModelHooks<Adapter> {
  /** Trains a fresh LoRA adapter as the plan says on these sequences (system, user, assistant each). */
  train(plan: TttPlan, examples: readonly TttExample[]): Promise<Adapter>;
  /** The adapted model's greedy completions, one per query (system and user messages each). */
  answer(adapter: Adapter, queries: readonly ChatMessage[][]): Promise<string[]>;
  /** Frees the adapter once its answers are in. */
  release?(adapter: Adapter): Promise<void> | void;
}

export interface SelfEditOutcome {
  selfEdit: ParsedSelfEdit;
  plan: TttPlan;
  /** The two attempts per test input (null where no answer parsed); empty when refused. */
  attempts: ([Grid, Grid] | null)[];
  /** Answers that did not parse or could not be mapped back. */
  droppedAnswers: number;
  solved: boolean;
  reward: 0 | 1;
}

export interface EvaluateOptions {
  countTokens: CountTokens;
  /** Seed of the inference queries' shuffles (and, unless dataSeed is given, of nothing else here). */
  seed?: number;
  /**
   * Seed of the test-time training data (its random translations, colour permutations, demonstration
   * shuffles): SEAL's self-edit.py calls process_task(…, seed=0) for every self-edit, so 0 by default.
   */
  dataSeed?: number;
  /** The test-time training set's cap (SEAL: MAX_TTT_EXAMPLES, 250); smaller for a tiny model's demo. */
  maxExamples?: number;
}

/** SEAL's seed of every test-time training set (self-edit.py: process_task(…, seed=0)). */
export const SEAL_TTT_DATA_SEED = 0;

export async function evaluateSelfEdit<Adapter>(
  task: ArcTask,
  selfEdit: ParsedSelfEdit,
  hooks: ArcModelHooks<Adapter>,
  { countTokens, seed = 0, dataSeed = SEAL_TTT_DATA_SEED, maxExamples }: EvaluateOptions,
): Promise<SelfEditOutcome> {
  const missing = task.test.findIndex((t) => t.output === undefined);
  if (missing >= 0) throw new Error(`task ${task.id}: test input ${missing} has no solution; load the solutions file to compute rewards`);
  const set = buildTttSet(task.train, selfEdit.config.tools, { countTokens, seed: dataSeed, maxExamples });
  const plan = planTtt(selfEdit.config, set.examples.length, selfEdit.fallbacks);
  if (plan.refusal !== null) return { selfEdit, plan, attempts: [], droppedAnswers: 0, solved: false, reward: 0 };

  const adapter = await hooks.train(plan, set.examples);
  try {
    const answered = await answerTask(task, (queries) => hooks.answer(adapter, queries), { countTokens, seed });
    return { selfEdit, plan, ...answered, reward: answered.solved ? 1 : 0 };
  } finally {
    await hooks.release?.(adapter);
  }
}

export interface TaskAnswers {
  /** The two attempts per test input (null where no answer parsed). */
  attempts: ([Grid, Grid] | null)[];
  droppedAnswers: number;
  solved: boolean;
}

/**
 * Asks every inference query of every test input (`answer` gives one completion per query), maps the
 * answers back, votes, and checks the two attempts against the solutions. With the base model as
 * `answer`, this is the in-context baseline.
 */
export async function answerTask(
  task: ArcTask,
  answer: (queries: ChatMessage[][]) => Promise<string[]>,
  { countTokens, seed = 0 }: EvaluateOptions,
): Promise<TaskAnswers> {
  const solutions = task.test.map((test, i) => {
    if (test.output === undefined) throw new Error(`task ${task.id}: test input ${i} has no solution; load the solutions file to compute rewards`);
    return test.output;
  });
  const attempts: ([Grid, Grid] | null)[] = [];
  let droppedAnswers = 0;
  for (let testIndex = 0; testIndex < task.test.length; testIndex++) {
    const { queries } = buildInferenceQueries(task, testIndex, { countTokens, seed });
    const completions = queries.length === 0 ? [] : await answer(queries.map((q) => q.messages));
    if (completions.length !== queries.length) {
      throw new Error(`the answer hook returned ${completions.length} completions for ${queries.length} queries; return one per query`);
    }
    const predictions = queries.map((query: InferenceQuery, i) => readPrediction(query, completions[i])).filter((p): p is Prediction => p !== null);
    droppedAnswers += queries.length - predictions.length;
    attempts.push(vote(predictions));
  }
  return { attempts, droppedAnswers, solved: isTaskSolved(attempts, solutions) };
}

/**
 * Samples self-edits until one parses (SEAL resamples without bound; here at most `maxAttempts`), and
 * counts the failures. Null when none parsed.
 */
export async function sampleParsedSelfEdit(
  sample: () => Promise<string>,
  maxAttempts = 10,
): Promise<{ completion: string; selfEdit: ParsedSelfEdit; failures: number } | null> {
  for (let failures = 0; failures < maxAttempts; failures++) {
    const completion = await sample();
    const selfEdit = parseSelfEdit(completion);
    if (selfEdit.parsed) return { completion, selfEdit, failures };
  }
  return null;
}
