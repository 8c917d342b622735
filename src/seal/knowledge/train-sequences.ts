// A self-edit becomes the inner loop's fine-tuning data: SEAL's build_train_sequences
// (knowledge-incorporation/src/utils.py), ported line for line.
//
//   1. split the completion on `---` into stripped, non-empty segments (none → the whole stripped text);
//   2. with split_newlines (SEAL's scripts always pass it):
//      - a self-QA completion (has "Question N:" and "Answer:") is split before each "Question N:" line
//        instead, and its first segment gets the "Question 1: " that the prompt ended with;
//      - otherwise every non-empty stripped line is its own sequence, and the first line is dropped when
//        the second starts with "1." (a preamble such as "Sure, here are the implications:");
//   3. each sequence is "{title}\n{segment}", and "{title}\n{stripped context}" comes last.
import { PY_WHITESPACE, pyLstrip, pySplitLines, pyStrip } from './python-text.ts';
import type { SquadPassage } from './squad-data.ts';

export interface TrainSequenceOptions {
  /**
   * One sequence per line (SEAL's `--split_newlines`). SEAL's Python function defaults to false, but every
   * SEAL experiment script sets it, and the published results use it; so here it defaults to true.
   */
  splitNewlines?: boolean;
}

// Python's \s and \d in a str pattern are Unicode-aware; these classes say the same in JavaScript.
const PY_S = `[${PY_WHITESPACE}]`;
const QUESTION_N = new RegExp(`Question${PY_S}+\\p{Nd}+:`, 'u');
const ANSWER = new RegExp(`Answer${PY_S}*:`, 'u');
const BEFORE_QUESTION_N = new RegExp(`\\n(?=Question${PY_S}+\\p{Nd}+:)`, 'u');

export function trainSequence(title: string, text: string): string {
  return `${title}\n${text}`;
}

export function buildTrainSequences(
  completion: string,
  passage: Pick<SquadPassage, 'title' | 'context'>,
  { splitNewlines = true }: TrainSequenceOptions = {},
): string[] {
  let segments = splitSegments(completion);
  if (segments.length === 0) segments = [pyStrip(completion)];
  if (splitNewlines) {
    if (QUESTION_N.test(completion) && ANSWER.test(completion)) {
      // Self-QA: one sequence per question-answer pair. Note SEAL splits the raw completion here, so `---`
      // separators stay inside the pairs.
      segments = pyStrip(completion).split(BEFORE_QUESTION_N);
      if (!pyLstrip(segments[0]).startsWith('Question')) segments[0] = `Question 1: ${pyStrip(segments[0])}`;
    } else {
      segments = segments.flatMap((segment) =>
        pySplitLines(segment)
          .map(pyStrip)
          .filter((line) => line !== ''),
      );
      if (segments.length > 1 && segments[1].startsWith('1.')) segments = segments.slice(1);
    }
  }
  const sequences = segments.map((segment) => trainSequence(passage.title, segment));
  sequences.push(trainSequence(passage.title, pyStrip(passage.context)));
  return sequences;
}

function splitSegments(text: string): string[] {
  return text
    .split('---')
    .map(pyStrip)
    .filter((segment) => segment !== '');
}
