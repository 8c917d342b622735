// Numbers written in words become digits, so "ten million", "10 million" and "10,000,000" all read
// "10000000", and "nineteenth" and "19th" both read "19". Works on lower-case tokens (punctuation and
// hyphens already split off), left to right, taking the longest run of number words it can.

const UNITS: Record<string, number> = {
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
};
const TENS: Record<string, number> = {
  twenty: 20,
  thirty: 30,
  forty: 40,
  fourty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
};
const SCALES: Record<string, number> = {
  hundred: 100,
  thousand: 1e3,
  million: 1e6,
  billion: 1e9,
  trillion: 1e12,
};
const ORDINALS: Record<string, number> = {
  first: 1,
  second: 2,
  third: 3,
  fourth: 4,
  fifth: 5,
  sixth: 6,
  seventh: 7,
  eighth: 8,
  ninth: 9,
  tenth: 10,
  eleventh: 11,
  twelfth: 12,
  thirteenth: 13,
  fourteenth: 14,
  fifteenth: 15,
  sixteenth: 16,
  seventeenth: 17,
  eighteenth: 18,
  nineteenth: 19,
  twentieth: 20,
  thirtieth: 30,
  fortieth: 40,
  fiftieth: 50,
  sixtieth: 60,
  seventieth: 70,
  eightieth: 80,
  ninetieth: 90,
  hundredth: 100,
  thousandth: 1000,
  millionth: 1e6,
};
// Fractions and multiples that stand for a number on their own ("a dozen eggs", "half").
const STANDALONE: Record<string, string> = { dozen: '12', half: '0.5', twice: '2', once: '1', double: '2', triple: '3' };

const DIGITS = /^\d+(\.\d+)?$/;
const DIGIT_ORDINAL = /^(\d+)(st|nd|rd|th)$/;

/** Rewrites number words (cardinal and ordinal) and digit ordinals as plain digit strings. */
export function numberWordsToDigits(tokens: readonly string[]): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < tokens.length) {
    const parsed = parseNumber(tokens, i);
    if (parsed) {
      // A bare digit string stays as written ("007"); only words and scales are rewritten.
      out.push(parsed.end === i + 1 && DIGITS.test(tokens[i]) ? tokens[i] : formatNumber(parsed.value));
      i = parsed.end;
      continue;
    }
    const token = tokens[i];
    const ordinal = DIGIT_ORDINAL.exec(token);
    out.push(ordinal ? ordinal[1] : (STANDALONE[token] ?? token));
    i++;
  }
  return out;
}

type Kind = 'digits' | 'unit' | 'teen-or-tens' | 'tens' | 'scale' | 'ordinal';

/**
 * The longest number starting at `start`: digits or number words, optionally scaled ("1.5 million",
 * "two hundred and five thousand", "a hundred"). Returns null when no number starts here.
 */
function parseNumber(tokens: readonly string[], start: number): { value: number; end: number } | null {
  let total = 0; // completed groups above the current one (the 2,000,000 of "two million five")
  let group = 0; // the group being built (the 205 of "two hundred five thousand")
  let last: Kind | null = null;
  let i = start;
  // "a hundred", "a thousand": the article stands for one.
  if (tokens[i] === 'a' && SCALES[tokens[i + 1]] !== undefined) {
    group = 1;
    last = 'unit';
    i++;
  }
  for (; i < tokens.length && last !== 'ordinal'; i++) {
    const token = tokens[i];
    // Which word may come next: a unit after nothing, a tens word or a scale ("twenty five", "hundred
    // five"); a teen or tens word after nothing or a scale. "five five" is two numbers, not ten.
    const unitSlot = last === null || last === 'tens' || last === 'scale';
    const tensSlot = last === null || last === 'scale';
    if (last === null && DIGITS.test(token)) {
      group = Number(token);
      last = 'digits';
    } else if (UNITS[token] !== undefined && (UNITS[token] < 10 ? unitSlot : tensSlot)) {
      group += UNITS[token];
      last = UNITS[token] < 10 ? 'unit' : 'teen-or-tens';
    } else if (TENS[token] !== undefined && tensSlot) {
      group += TENS[token];
      last = 'tens';
    } else if (SCALES[token] !== undefined && last !== null) {
      if (SCALES[token] === 100) {
        group = (group || 1) * 100;
      } else {
        total += (group || 1) * SCALES[token];
        group = 0;
      }
      last = 'scale';
    } else if (ORDINALS[token] !== undefined) {
      const value = ORDINALS[token];
      if (value >= 100 && last !== null) group = (group || 1) * value;
      else if (value < 10 ? unitSlot : tensSlot) group += value;
      else break;
      last = 'ordinal';
    } else if (token === 'and' && last === 'scale' && isNumberWord(tokens[i + 1])) {
      // "two hundred and five": the British "and" inside a number.
    } else {
      break;
    }
  }
  if (last === null) return null;
  return { value: total + group, end: i };
}

function isNumberWord(token: string | undefined): boolean {
  return token !== undefined && (UNITS[token] !== undefined || TENS[token] !== undefined || ORDINALS[token] !== undefined);
}

function formatNumber(value: number): string {
  // Integers print without exponent up to 1e21; round away float noise from 1.5 × 1e6 and the like.
  const rounded = Math.round(value * 1e6) / 1e6;
  return Number.isInteger(rounded) ? rounded.toFixed(0) : String(rounded);
}
