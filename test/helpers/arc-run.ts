// The smallest `seal arc run` the end-to-end tests share (arc-e2e, the kill campaign): the llama-tiny
// fixture with a byte-level tokenizer, evaluated on task 6150a2bd of the shared filtered training set with
// 2 self-edits, trained on `trainTasks` for one round of 2 samples each; the conditions score in-context
// answers and the policy before and after the round.
import { join } from 'node:path';
import { FIXTURE } from '../model/fixture.ts';
import { withByteTokenizer } from './byte-tokenizer.ts';
import { ROOT } from './cli.ts';

const ARC = join(ROOT, '..', 'shared', 'data', 'arc');
export const ARC_CHALLENGES = join(ARC, 'arc-agi_training_challenges_filtered_1B_training_set.json');
export const ARC_SOLUTIONS = join(ARC, 'arc-agi_training_solutions_filtered_1B_training_set.json');

/** The command line of a run in directory `run`. */
export function tinyArcRun(trainTasks = '6150a2bd'): (run: string) => string[] {
  const model = withByteTokenizer(FIXTURE);
  // biome-ignore format: flag-value pairs read best one pair per line
  return (run) => [
    'arc', 'run',
    '--model', model,
    '--challenges', ARC_CHALLENGES,
    '--solutions', ARC_SOLUTIONS,
    '--run', run,
    '--tasks', '6150a2bd',
    '--train-tasks', trainTasks,
    '--rounds', '1',
    '--samples', '2',
    '--eval-self-edits', '2',
    '--max-new-tokens', '8',
    '--max-sample-attempts', '2',
    '--answer-tokens', '8',
    '--conditions', 'in-context,round-0,round-1',
  ];
}
