// Answer normalisation for the deterministic grader.
//
// squadNormalise is the official SQuAD v1.1 evaluation script's normalize_answer: lower-case, delete ASCII
// punctuation, drop the articles a/an/the, collapse whitespace. answerTokens goes further with rules that
// hold for any English short answer, so that the same answer written differently compares equal:
//   - Unicode folding: NFKD, combining marks dropped ("Ögedei" = "Ogedei"), ligatures and a few letters
//     NFKD leaves alone (ß, æ, ø, ł…) spelled out, typographic quotes and dashes made plain;
//   - punctuation separates words instead of gluing them ("polynomial-time" = "polynomial time"), but a
//     possessive 's goes and an inner apostrophe joins ("don't" = "dont");
//   - numbers: thousands separators dropped ("10,000" = "10000"), decimals kept ("3.5"), number words and
//     ordinals as digits ("ten million" = "10 million" = "10000000", "nineteenth" = "19th" = "19"),
//     % as "percent", & as "and", currency symbols dropped, unit abbreviations after a number spelled out
//     ("5 km" = "5 kilometres", "6 ft" = "6 feet");
//   - British spellings as American ("programme" = "program", "colour" = "color", "organise" = "organize");
//   - Porter stemming ("hospitals" = "hospital", "diverges" ≈ "divergence").
import { numberWordsToDigits } from './number-words.ts';
import { porterStem } from './porter-stemmer.ts';

const ASCII_PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

/** SQuAD v1.1's normalize_answer, exactly. */
export function squadNormalise(text: string): string {
  return text
    .toLowerCase()
    .replace(ASCII_PUNCTUATION, '')
    .replace(/\b(a|an|the)\b/g, ' ')
    .split(/\s+/)
    .filter((word) => word !== '')
    .join(' ');
}

export interface TokenOptions {
  /** Number words and ordinals to digits (default true). */
  numbers?: boolean;
  /** British to American spelling (default true). */
  spelling?: boolean;
  /** Porter stemming (default true). */
  stem?: boolean;
  /** Unit abbreviations after a number spelled out ("5 km" = "5 kilometres") (default true). */
  units?: boolean;
}

// Letters that NFKD does not decompose but that readers treat as their base letters.
const LETTER_FOLDS: Record<string, string> = {
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  ł: 'l',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ı: 'i',
  ħ: 'h',
  ŧ: 't',
};
const QUOTES = /[\u2018\u2019\u201a\u201b\u2032\u00b4`]/g;
const DOUBLE_QUOTES = /[\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb]/g;
const DASHES = /[\u2010-\u2015\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d]/g;
const CURRENCY = /[$€£¥₹₩₽]/g;
const ARTICLES = new Set(['a', 'an', 'the']);

/** The Unicode-folded, lower-cased text, before tokenising. */
export function foldUnicode(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[ßæœøłđðþıħŧ]/g, (letter) => LETTER_FOLDS[letter])
    .replace(QUOTES, "'")
    .replace(DOUBLE_QUOTES, '"')
    .replace(DASHES, '-');
}

/** The answer as a list of normalised words (see the rules above). */
export function answerTokens(text: string, { numbers = true, spelling = true, stem = true, units = true }: TokenOptions = {}): string[] {
  const folded = foldUnicode(text)
    .replace(/(\d),(?=\d{3}(?!\d))/g, '$1') // 10,000,000 → 10000000 (a comma before exactly three digits)
    .replace(/%/g, ' percent ')
    .replace(/\bper cent\b/g, 'percent')
    .replace(/&/g, ' and ')
    .replace(CURRENCY, ' ')
    .replace(/'s\b/g, '') // possessive
    .replace(/(\p{L})'(?=\p{L})/gu, '$1'); // don't → dont
  // Words are runs of letters and digits; a decimal point between digits stays inside the number.
  let tokens: string[] = folded.match(/\d+(?:\.\d+)+|[\p{L}\p{N}]+/gu) ?? [];
  if (numbers) tokens = numberWordsToDigits(tokens);
  if (units) tokens = spellOutUnits(tokens);
  tokens = tokens.filter((token) => !ARTICLES.has(token));
  if (spelling) tokens = tokens.map(americanSpelling);
  if (stem) tokens = tokens.map(porterStem);
  return tokens;
}

// Unambiguous unit abbreviations, and irregular unit plurals, as the unit's (American) singular name.
// Only after a number: "in" or "m" alone are words, "5 m" is not certain enough either, so they are left out.
const UNIT_NAMES: Record<string, string> = {
  km: 'kilometer',
  kms: 'kilometer',
  cm: 'centimeter',
  mm: 'millimeter',
  mi: 'mile',
  ft: 'foot',
  feet: 'foot',
  yd: 'yard',
  yds: 'yard',
  kg: 'kilogram',
  kgs: 'kilogram',
  mg: 'milligram',
  lb: 'pound',
  lbs: 'pound',
  oz: 'ounce',
  mph: 'mile per hour',
  kph: 'kilometer per hour',
  kmh: 'kilometer per hour',
  sq: 'square',
  ha: 'hectare',
  hr: 'hour',
  hrs: 'hour',
  min: 'minute',
  mins: 'minute',
  sec: 'second',
  secs: 'second',
  yr: 'year',
  yrs: 'year',
  mw: 'megawatt',
  kw: 'kilowatt',
  gw: 'gigawatt',
  kwh: 'kilowatt hour',
  ghz: 'gigahertz',
  mhz: 'megahertz',
  khz: 'kilohertz',
  c: 'celsius',
  f: 'fahrenheit',
  deg: 'degree',
  bn: 'billion',
};

/** Replaces a unit abbreviation right after a number by the unit's name (possibly several words). */
function spellOutUnits(tokens: readonly string[]): string[] {
  const out: string[] = [];
  tokens.forEach((token, i) => {
    const name = i > 0 && /^\d+(\.\d+)?$/.test(tokens[i - 1]) ? UNIT_NAMES[token] : undefined;
    if (name === undefined) out.push(token);
    else out.push(...name.split(' '));
  });
  return out;
}

/**
 * British → American spelling by regular suffix patterns, applied to both answers alike, so a rare
 * collision only merges two spellings that were already close.
 */
export function americanSpelling(word: string): string {
  if (word.length < 5) return word;
  if (word.endsWith('programme')) return word.slice(0, -2);
  if (/[^aeiou]our(s?)$/.test(word) && word.length >= 6) return word.replace(/our(s?)$/, 'or$1'); // colour, honours
  if (/our(ed|ing|ite|ites|able|ful)$/.test(word) && word.length >= 8) return word.replace(/our(?=[a-z]+$)/, 'or'); // favourite
  if (/(?:tre|bre)s?$/.test(word)) return word.replace(/re(s?)$/, 'er$1'); // centre, theatre, fibre
  if (/i[sz]ation(s?)$/.test(word)) return word.replace(/isation/, 'ization');
  if (/i(se|sed|ses|sing)$/.test(word) && word.length >= 7) return word.replace(/is(e|ed|es|ing)$/, 'iz$1'); // organise
  if (/ys(e|ed|es|ing)$/.test(word) && word.length >= 7) return word.replace(/ys(e|ed|es|ing)$/, 'yz$1'); // analyse
  if (/(?:def|off|lic|pret)ence$/.test(word)) return word.replace(/ence$/, 'ense');
  if (/ogue$/.test(word) && word.length >= 7) return word.slice(0, -2); // catalogue, dialogue
  return word;
}
