// A self-edit becomes the inner loop's fine-tuning data: SEAL's build_train_sequences
// (knowledge-incorporation/src/utils.py), ported line for line, and its later version
// (general-knowledge/src/utils.py l. 193–237, used by CPT v2's CPT_fullFT.py) behind options.
//
//   0. (v2, `implicationsMarker`) keep only the text after the first `\nImplications:\s*`, left-stripped;
//   1. split the completion on `---` into stripped, non-empty segments (none → the whole stripped text);
//   2. with split_newlines (query_server.py's flag; see TrainSequenceOptions for who set it):
//      - a self-QA completion (has "Question N:" and "Answer:") is split before each "Question N:" line
//        instead, and its first segment gets the "Question 1: " that the prompt ended with;
//      - otherwise every non-empty stripped line is its own sequence, and the first line is dropped when
//        the second starts with "1." (a preamble such as "Sure, here are the implications:");
//   3. (v2) at most `maxSegments` segments (MAX_TRAIN_SEQS_PER_COMPLETION = 30), then empty ones dropped;
//   4. each sequence is "{title}\n{segment}", and "{title}\n{stripped context}" comes last (v2: only with
//      `addContext`).
import { PY_WHITESPACE, pyLstrip, pySplitLines, pyStrip } from './python-text.ts';
import type { SquadPassage } from './squad-data.ts';

export interface TrainSequenceOptions {
  /**
   * One sequence per line (SEAL's `--split_newlines`). SEAL's Python function and query_server.py's flag
   * default to false; knowledge-incorporation/scripts/query_server.sh sets it (SPLIT_NEWLINES=true), and
   * SEAL's evaluations (results/query_server/eval/*.json), its round-1 E-step (train/rank_iter0.json) and
   * continual_self_edits.py (l. 262) ran with it, so here it defaults to true. The exceptions: SEAL's
   * round-2 E-step (train/rank_iter1.json) ran without it (see `--e-step-split-newlines`), and CPT.py /
   * CPT_fullFT.py never pass it.
   */
  splitNewlines?: boolean;
  /** v2: keep only the text after the first "\nImplications:" marker (general-knowledge/src/utils.py l. 212–214). Default false. */
  implicationsMarker?: boolean;
  /** v2: at most this many segments, cut before empty ones are dropped (MAX_TRAIN_SEQS_PER_COMPLETION = 30). Default: no cap. */
  maxSegments?: number;
  /** v2: drop empty segments, so "" gives no bare "{title}\n" sequence (l. 233). Default false (v1 keeps it). */
  dropEmpty?: boolean;
  /** Append the passage as the last sequence (v2's add_context; v1 always does). Default true. */
  addContext?: boolean;
}

/** general-knowledge/src/utils.py's build_train_sequences (CPT v2), without split_newlines as CPT_fullFT.sh runs it. */
export const SEAL_V2_SEQUENCES: TrainSequenceOptions = { splitNewlines: false, implicationsMarker: true, maxSegments: 30, dropEmpty: true };

// Python's \s and \d in a str pattern are Unicode-aware; these classes say the same in JavaScript.
const PY_S = `[${PY_WHITESPACE}]`;
const QUESTION_N = new RegExp(`Question${PY_S}+\\p{Nd}+:`, 'u');
const ANSWER = new RegExp(`Answer${PY_S}*:`, 'u');
const BEFORE_QUESTION_N = new RegExp(`\\n(?=Question${PY_S}+\\p{Nd}+:)`, 'u');
const IMPLICATIONS = new RegExp(`\\nImplications:${PY_S}*`, 'u');

export function trainSequence(title: string, text: string): string {
  return `${title}\n${text}`;
}

export function buildTrainSequences(
  completionRaw: string,
  passage: Pick<SquadPassage, 'title' | 'context'>,
  { splitNewlines = true, implicationsMarker = false, maxSegments = Number.POSITIVE_INFINITY, dropEmpty = false, addContext = true }: TrainSequenceOptions = {},
): string[] {
  const m = implicationsMarker ? IMPLICATIONS.exec(completionRaw) : null;
  const completion = m ? pyLstrip(completionRaw.slice(m.index + m[0].length)) : completionRaw;
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
  if (segments.length > maxSegments) segments = segments.slice(0, maxSegments);
  if (dropEmpty) segments = segments.filter((segment) => pyStrip(segment) !== '');
  const sequences = segments.map((segment) => trainSequence(passage.title, segment));
  if (addContext) sequences.push(trainSequence(passage.title, pyStrip(passage.context)));
  return sequences;
}

function splitSegments(text: string): string[] {
  return text
    .split('---')
    .map(pyStrip)
    .filter((segment) => segment !== '');
}
