// The deterministic grader: an answer is right when it contains the gold answer. Two versions:
//   - plainContainment: SQuAD-normalised gold is a substring of the SQuAD-normalised prediction, the rule
//     commonly used in place of a judge;
//   - gradeByContainment: the same idea on normalised words (see answer-normalise.ts), plus general rules
//     for how short answers are written. Each rule can be switched off, to measure what it contributes.
import { pyStrip } from './python-text.ts';
import { answerTokens, foldUnicode, squadNormalise, type TokenOptions } from './answer-normalise.ts';
import type { Grader } from './llm-judge.ts';
import { porterStem } from './porter-stemmer.ts';

export interface ContainmentOptions extends TokenOptions {
  /**
   * Gold answers that offer alternatives count when any one is given: "Terra preta (black earth)",
   * "Mainz/Mayence" (default true).
   */
  alternatives?: boolean;
  /**
   * Order-free matching: every content word of the gold answer appears in the prediction, in any order,
   * within a window a few words wider than the gold answer ("10 November 1483" in "November 10, 1483";
   * "porcelain, cloth and wallpaper" in "porcelain, wallpaper and cloth") (default true).
   */
  unordered?: boolean;
  /**
   * Only the answer itself is graded: a base model often runs on into a made-up next question ("\n\nQ: …",
   * "\nQuestion: …"), and a gold answer that turns up there does not make the answer right (default true).
   */
  truncateRunOn?: boolean;
  /**
   * Partial credit for long gold answers: a gold answer of at least three content words, none of them a
   * number, counts as given when at least this fraction of them is in the answer, as a grader reading for
   * meaning would accept "Arthur Holly Compton" for "Arthur H. Compton" (default 2/3; 1 switches it off).
   */
  minRecall?: number;
  /**
   * A short answer made only of words of the gold answer counts ("Euler" for "Leonhard Euler", "1852" for
   * "It was founded in 1852") (default true).
   */
  answerInGold?: boolean;
  /** A gold answer right after a negation ("not", "non-", "never") does not count (default true). */
  negation?: boolean;
}

/** SQuAD-normalised containment; an empty prediction is wrong. */
export function plainContainment(gold: string, prediction: string): boolean {
  if (pyStrip(prediction) === '') return false;
  return squadNormalise(prediction).includes(squadNormalise(gold));
}

/** The deterministic grader: does the prediction give the gold answer, by the rules above? */
export function gradeByContainment(gold: string, prediction: string, options: ContainmentOptions = {}): boolean {
  const { alternatives = true, truncateRunOn = true, answerInGold = true, negation = true } = options;
  const answer = truncateRunOn ? cutRunOn(prediction) : prediction;
  if (pyStrip(answer) === '') return false;
  const words = (text: string) => (negation ? markNegated(answerTokens(text, options)) : answerTokens(text, options));
  const predicted = words(answer);
  const golds = alternatives ? goldAlternatives(gold) : [gold];
  if (golds.some((alternative) => givesGold(answer, predicted, alternative, words(alternative), options))) return true;
  return answerInGold && isShortAnswerInGold(predicted, golds.map(words));
}

/** The deterministic grader with the LLM judge's signature, so the loop can use either. */
export function makeContainmentGrader(options: ContainmentOptions = {}): Grader {
  return async (_question, gold, prediction) => gradeByContainment(gold, prediction, options);
}

function givesGold(answer: string, predicted: readonly string[], gold: string, wanted: readonly string[], options: ContainmentOptions): boolean {
  const { unordered = true, minRecall = 2 / 3 } = options;
  // A gold answer of nothing but articles and punctuation: compare the folded text instead.
  if (wanted.length === 0) return foldUnicode(answer).includes(foldUnicode(gold).trim());
  if (containsRun(predicted, wanted)) return true;
  const content = contentWords(wanted);
  // A formula ("T(n)", "1/(1-p)n") is made of symbols, and symbols only match in order.
  if (content.filter((word) => word.length === 1).length * 2 > content.length) return false;
  if (unordered && containsInWindow(predicted, content, wanted.length + UNORDERED_SLACK)) return true;
  if (minRecall < 1 && content.length >= 3) {
    const present = new Set(predicted);
    // Words may be missing from a name or a description, but not from a date or a quantity: "30 September
    // 1951" does not give "30 June 1951".
    if (content.some((word) => /\d/.test(word))) return false;
    return content.filter((word) => present.has(word)).length >= minRecall * content.length - 1e-9;
  }
  return false;
}

/** How many more words than the gold answer the order-free window may span. */
const UNORDERED_SLACK = 4;

// Lines that start a new, self-invented prompt: the answer ended before them.
const RUN_ON = /\n\s*(?:Q|Question|A|Answer|Topic|Passage|Context|Explanation|Step \d+|Note|Human|User|Assistant)\s*\d*\s*:/i;

/** The prediction up to the first line that starts a new question or prompt. */
export function cutRunOn(prediction: string): string {
  const match = RUN_ON.exec(prediction);
  return match ? prediction.slice(0, match.index) : prediction;
}

/**
 * The gold answer and the alternatives it offers: a trailing parenthesis gives another name for the same
 * thing ("Terra preta (black earth)", "probabilistic (or \"Monte Carlo\")"), and a slash between single words
 * gives variants ("Mainz/Mayence"). "X or Y" is left whole: in a SQuAD span it is usually the answer itself
 * ("savanna or desert"), not a choice of answers.
 */
export function goldAlternatives(gold: string): string[] {
  const out = new Set<string>([gold]);
  // A parenthesis right after a word, as in "T(n)", is notation, not an alternative.
  const paren = /^([^()]*\S)\s+\(\s*(?:or\s+)?([^()]+?)\s*\)[\s.]*$/i.exec(gold);
  if (paren) {
    out.add(paren[1]);
    out.add(paren[2]);
  }
  if (/^[^\s/]+(?:\s*\/\s*[^\s/]+)+$/.test(gold.trim()) && !/^[\d\s/]+$/.test(gold.trim())) {
    for (const part of gold.split('/')) if (part.trim() !== '') out.add(part.trim());
  }
  return [...out];
}

// Words that carry no answer on their own: a gold answer "in July 2015" is given by "July 2015". Kept as
// written and as stemmed, since tokens may be either.
const FUNCTION_WORD_LIST = [
  'of',
  'in',
  'on',
  'at',
  'to',
  'for',
  'by',
  'with',
  'from',
  'into',
  'onto',
  'as',
  'and',
  'or',
  'about',
  'its',
  'their',
  'his',
  'her',
  'it',
  'is',
  'was',
  'were',
  'be',
  'been',
  'are',
  'that',
  'which',
  'this',
  'these',
  'those',
  'than',
  'then',
  'so',
  'such',
  'also',
  'over',
  'under',
  'some',
  'all',
];
const FUNCTION_WORDS = new Set([...FUNCTION_WORD_LIST, ...FUNCTION_WORD_LIST.map(porterStem)]);

function contentWords(tokens: readonly string[]): string[] {
  const content = tokens.filter((token) => !FUNCTION_WORDS.has(token));
  return content.length > 0 ? content : [...tokens];
}

const NEGATIONS = new Set(['not', 'non', 'no', 'never', 'nor', 'neither', 'isnt', 'wasnt', 'arent', 'werent', 'dont', 'doesnt', 'didnt']);

/**
 * A word right after a negation becomes a different word ("non-adjustable" → non ¬adjust), in the answer
 * and the gold alike: "adjustable" is then not found in "non-adjustable", while "not guilty" still finds
 * "not guilty".
 */
function markNegated(tokens: readonly string[]): string[] {
  return tokens.map((token, i) => (i > 0 && NEGATIONS.has(tokens[i - 1]) && !NEGATIONS.has(token) ? `¬${token}` : token));
}

/** Whether `needle` occurs as consecutive words of `haystack`. */
function containsRun(haystack: readonly string[], needle: readonly string[]): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** How long (in content words) an answer may be and still be graded by its words all being in the gold answer. */
const SHORT_ANSWER_WORDS = 3;

function isShortAnswerInGold(predicted: readonly string[], golds: ReadonlyArray<readonly string[]>): boolean {
  const content = predicted.filter((word) => !FUNCTION_WORDS.has(word));
  if (content.length === 0 || content.length > SHORT_ANSWER_WORDS) return false;
  return golds.some((gold) => {
    const goldWords = new Set(gold);
    return content.every((word) => goldWords.has(word));
  });
}

/** Whether every word of `needle` (with multiplicity) occurs within some `width` consecutive words. */
function containsInWindow(haystack: readonly string[], needle: readonly string[], width: number): boolean {
  const need = new Map<string, number>();
  for (const word of needle) need.set(word, (need.get(word) ?? 0) + 1);
  const have = new Map<string, number>();
  let satisfied = 0;
  for (let i = 0; i < haystack.length; i++) {
    const enter = haystack[i];
    if (need.has(enter)) {
      have.set(enter, (have.get(enter) ?? 0) + 1);
      if (have.get(enter) === need.get(enter)) satisfied++;
    }
    const leaveAt = i - width;
    if (leaveAt >= 0) {
      const leave = haystack[leaveAt];
      if (need.has(leave)) {
        if (have.get(leave) === need.get(leave)) satisfied--;
        have.set(leave, have.get(leave)! - 1);
      }
    }
    if (satisfied === need.size) return true;
  }
  return false;
}
