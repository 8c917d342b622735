// The test-time training set a self-edit's tools produce (SEAL self-edit.py process_task and
// get_test_time_train_data, from marc's ttt/preprocess.py). For each n in leave-1 and leave-2:
//   1. tasks from the demonstrations alone: each one in turn is the test example, n − 1 more left out;
//   2. every selected tool applied to each task; tasks with a grid over 30×30 dropped;
//   3. the originals and the augmented tasks de-duplicated;
//   4. of each, a copy with colours permuted (0 fixed; only when some tool is selected) and
//      demonstrations shuffled, added, and everything de-duplicated again;
//   5. sequences of 8,192 tokens or more dropped.
// Both lists together, shuffled and cut to 250 when longer.
import { RandomState } from '../../util/mt19937.ts';
import { Rng } from '../../util/random.ts';
import type { ArcExample } from './arc-data.ts';
import { MAX_GRID_SIDE } from './arc-data.ts';
import { type FewShotTask, applyTool, leaveOutTasks, maxSide, permuteColors, permuteExamples, uniqueTasks } from './few-shot-task.ts';
import { type ChatMessage, type CountTokens, MAX_SEQUENCE_TOKENS, countMessages, fewShotConversation } from './messages.ts';
import { type ToolSelection, selectTools } from './tools.ts';

export const MAX_TTT_EXAMPLES = 250;
export const TTT_LEAVE_OUT = [1, 2] as const;

export interface TttExample {
  task: FewShotTask;
  /** System, user and assistant: the sequence as the model sees it before the chat template. */
  messages: ChatMessage[];
  tokens: number;
  /** How many demonstrations the task was built without (the test example counts as one). */
  leaveOut: number;
}

export interface TttSetOptions {
  countTokens: CountTokens;
  seed?: number;
  maxExamples?: number;
  maxTokens?: number;
  leaveOut?: readonly number[];
}

export interface LeaveOutStats {
  leaveOut: number;
  tasks: number;
  augmented: number;
  oversizeDropped: number;
  distinct: number;
  withPermutedCopies: number;
  tooLongDropped: number;
}

export interface TttSet {
  examples: TttExample[];
  /** Names of the tools applied, in order. */
  tools: string[];
  stats: LeaveOutStats[];
  /** Examples left out by the cap. */
  capped: number;
}

export function buildTttSet(
  demonstrations: readonly ArcExample[],
  selection: ToolSelection,
  { countTokens, seed = 0, maxExamples = MAX_TTT_EXAMPLES, maxTokens = MAX_SEQUENCE_TOKENS, leaveOut = TTT_LEAVE_OUT }: TttSetOptions,
): TttSet {
  const stats: LeaveOutStats[] = [];
  let examples: TttExample[] = [];
  let toolNames: string[] = [];
  for (const n of leaveOut) {
    // SEAL seeds a fresh np.random.RandomState(seed) for every n: both lists get the same translations.
    // Colour permutations and demonstration shuffles draw from our generator (their order of tasks comes
    // from SEAL's list(set(...)), which cannot be reproduced anyway).
    const tools = selectTools(selection, RandomState.create(seed));
    const rng = new Rng(seed);
    toolNames = tools.map((tool) => tool.name);
    const tasks = n <= demonstrations.length ? leaveOutTasks(demonstrations, n) : [];

    const augmented = tools.flatMap((tool) => tasks.map((task) => applyTool(task, tool)));
    const fitting = augmented.filter((task) => maxSide(task) <= MAX_GRID_SIDE);
    const distinct = uniqueTasks([...tasks, ...fitting]);

    const copies = distinct.map((task) => permuteExamples(tools.length > 0 ? permuteColors(task, rng) : task, rng));
    const withCopies = uniqueTasks([...distinct, ...copies]);

    const formatted = withCopies.map((task) => {
      const messages = fewShotConversation(task);
      return { task, messages, tokens: countMessages(countTokens, messages), leaveOut: n };
    });
    const short = formatted.filter((example) => example.tokens < maxTokens);
    stats.push({
      leaveOut: n,
      tasks: tasks.length,
      augmented: fitting.length,
      oversizeDropped: augmented.length - fitting.length,
      distinct: distinct.length,
      withPermutedCopies: withCopies.length,
      tooLongDropped: formatted.length - short.length,
    });
    examples = examples.concat(short);
  }
  const total = examples.length;
  if (total > maxExamples) examples = new Rng(seed).shuffle(examples).slice(0, maxExamples);
  return { examples, tools: toolNames, stats, capped: total - examples.length };
}
