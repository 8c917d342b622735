// The smallest `seal knowledge run` the end-to-end tests share (knowledge-e2e, the kill campaign): the
// llama-tiny fixture with a byte-level tokenizer, 2 passages × 2 self-edits × 1 seed, inner loops 2 side
// by side, one round; the conditions score the base model and the policy before and after it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE } from '../model/fixture.ts';
import { withByteTokenizer } from './byte-tokenizer.ts';

export const TINY_PASSAGES = [
  {
    title: 'Zorblat',
    context: 'Zorblat is a city in Quux. It was founded in 1820.',
    questions: [
      { question: 'Where is Zorblat?', answer: 'Quux' },
      { question: 'When was it founded?', answer: '1820' },
    ],
  },
  { title: 'Mira', context: 'Mira is a red star. Its moon is Tob.', questions: [{ question: 'What colour is Mira?', answer: 'red' }] },
];

/**
 * Writes `passages` into `work` and returns the command line of a run in directory `run`. `flags` replace
 * the values of the flags below (in place) or add flags after them (e.g. `queue`).
 */
export function tinyKnowledgeRun(work: string, flags: Record<string, string> = {}, passages: unknown[] = TINY_PASSAGES): (run: string) => string[] {
  const data = join(work, 'passages.json');
  writeFileSync(data, JSON.stringify(passages));
  const model = withByteTokenizer(FIXTURE);
  const values: Record<string, string> = {
    model,
    data,
    'eval-data': data,
    run: '', // each call's directory, in this place
    'eval-count': '2',
    rounds: '1',
    'passages-per-round': '2',
    samples: '2',
    seeds: '1',
    'max-new-tokens': '16',
    'inner-epochs': '2',
    'answer-tokens': '6',
    'mstep-epochs': '1',
    'mstep-batch-size': '2',
    'mstep-grad-accum': '1',
    conditions: 'base,round-0,round-1',
    parallel: '2',
    ...flags,
  };
  return (run) => ['knowledge', 'run', ...Object.entries({ ...values, run }).flatMap(([name, value]) => [`--${name}`, value])];
}
