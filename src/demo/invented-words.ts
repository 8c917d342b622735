// Invented proper nouns (names, cities, universities, companies) built from a small syllable set, so that the
// world has no facts the tiny model could know from anywhere else, and every word is one token.
import type { Rng } from '../util/random.ts';

const SYLLABLES = [
  'ka',
  'lo',
  'mi',
  'ren',
  'tas',
  'vo',
  'dru',
  'pel',
  'sin',
  'ga',
  'tor',
  'bel',
  'nu',
  'shi',
  'ram',
  'fe',
  'zo',
  'quin',
  'har',
  'mol',
  'dey',
  'kri',
  'van',
  'ost',
  'lu',
  'bri',
] as const;

/**
 * `count` distinct capitalised words of 2–3 syllables, none of which is in `taken` (which is updated), so
 * pools drawn one after another never share a word.
 */
export function inventWords(rng: Rng, count: number, taken: Set<string>): string[] {
  const words: string[] = [];
  while (words.length < count) {
    const syllables = 2 + rng.int(2);
    let word = '';
    for (let i = 0; i < syllables; i++) word += rng.pick(SYLLABLES);
    word = word[0].toUpperCase() + word.slice(1);
    if (taken.has(word)) continue;
    taken.add(word);
    words.push(word);
  }
  return words;
}
