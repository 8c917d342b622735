import { describe, expect, it } from 'vitest';
import { answerTokens, squadNormalise } from '../../../src/seal/knowledge/answer-normalise.ts';
import { cutRunOn, goldAlternatives, gradeByContainment, makeContainmentGrader, plainContainment } from '../../../src/seal/knowledge/containment-grader.ts';
import { numberWordsToDigits } from '../../../src/seal/knowledge/number-words.ts';
import { porterStem } from '../../../src/seal/knowledge/porter-stemmer.ts';

describe('SQuAD normalisation', () => {
  it('lower-cases, deletes punctuation and articles, collapses whitespace', () => {
    expect(squadNormalise('  The Port of  Los-Angeles, an "ocean" port! ')).toBe('port of losangeles ocean port');
    expect(squadNormalise('A\tb\nthe')).toBe('b');
  });

  it('plain containment: substring of the normalised prediction; empty predictions are wrong', () => {
    expect(plainContainment('Otrar', 'The massacre was in Otrar.')).toBe(true);
    expect(plainContainment('1830', 'the 1830s')).toBe(true); // substring, not word: the weakness the grader fixes
    expect(plainContainment('x', '   ')).toBe(false);
  });
});

describe('number words', () => {
  const digits = (text: string) => numberWordsToDigits(text.split(' ')).join(' ');
  it('reads cardinals, ordinals and scales as digits', () => {
    expect(digits('ten million people')).toBe('10000000 people');
    expect(digits('a thousand times')).toBe('1000 times');
    expect(digits('nineteenth century')).toBe('19 century');
    expect(digits('19th century')).toBe('19 century');
    expect(digits('two hundred and five thousand')).toBe('205000');
    expect(digits('twenty five')).toBe('25');
    expect(digits('twenty first')).toBe('21');
    expect(digits('1.5 million')).toBe('1500000');
  });
  it('keeps separate numbers separate and leaves digit strings alone', () => {
    expect(digits('five five')).toBe('5 5');
    expect(digits('two and three')).toBe('2 and 3');
    expect(digits('007 agents')).toBe('007 agents');
  });
});

describe('Porter stemmer', () => {
  it("gives the paper's stems", () => {
    const stems = Object.fromEntries(
      ['caresses', 'ponies', 'agreed', 'hopping', 'filing', 'happy', 'relational', 'generalizations', 'adoption', 'hopeful'].map((w) => [w, porterStem(w)]),
    );
    expect(stems).toEqual({
      caresses: 'caress',
      ponies: 'poni',
      agreed: 'agre',
      hopping: 'hop',
      filing: 'file',
      happy: 'happi',
      relational: 'relat',
      generalizations: 'gener',
      adoption: 'adopt',
      hopeful: 'hope',
    });
  });
});

describe('answer tokens', () => {
  it('folds diacritics, ligatures and typographic punctuation', () => {
    expect(answerTokens('Ögedei Khan', { stem: false })).toEqual(['ogedei', 'khan']);
    expect(answerTokens('Æthelred’s straße', { stem: false })).toEqual(['aethelred', 'strasse']);
  });
  it('splits on hyphens, keeps decimals, drops thousands separators, reads % as percent', () => {
    expect(answerTokens('polynomial-time', { stem: false })).toEqual(['polynomial', 'time']);
    expect(answerTokens('3.5 km and 10,000 and 46%', { stem: false, units: false })).toEqual(['3.5', 'km', 'and', '10000', 'and', '46', 'percent']);
  });
  it('spells British words the American way', () => {
    expect(answerTokens('the television programme in the centre', { stem: false })).toEqual(['television', 'program', 'in', 'center']);
    expect(answerTokens('colour organised', { stem: false })).toEqual(['color', 'organized']);
  });
});

describe('the deterministic grader', () => {
  it('matches whole words, not substrings', () => {
    expect(gradeByContainment('1830', 'It split in the 1830s.')).toBe(false);
    expect(gradeByContainment('8 November 2010', 'It was released on 28 November 2010.')).toBe(false);
    expect(gradeByContainment('Otrar', 'The town was Otrar.')).toBe(true);
  });
  it('accepts numbers however they are written', () => {
    expect(gradeByContainment('ten million', 'about 10 million people')).toBe(true);
    expect(gradeByContainment('nineteenth', 'The 19th century.')).toBe(true);
    expect(gradeByContainment('up to a thousand times', 'up to 1000 times higher')).toBe(true);
    expect(gradeByContainment('$50,000', '50,000 dollars')).toBe(true);
  });
  it('accepts unit abbreviations after a number', () => {
    expect(gradeByContainment('5 kilometres', 'about 5 km away')).toBe(true);
    expect(gradeByContainment('six feet', 'It is 6 ft tall.')).toBe(true);
    expect(gradeByContainment('60 mph', 'sixty miles per hour')).toBe(true);
    expect(answerTokens('in km', { stem: false })).toEqual(['in', 'km']); // not after a number: left alone
  });
  it('accepts diacritics, hyphenation, inflection and spelling variants', () => {
    expect(gradeByContainment('Ögedei Khan', 'Ogedei Khan')).toBe(true);
    expect(gradeByContainment('polynomial time algorithm', 'a "polynomial-time algorithm"')).toBe(true);
    expect(gradeByContainment('hospitals', 'A hospital would.')).toBe(true);
    expect(gradeByContainment('scariest TV programme', 'the scariest TV program')).toBe(true);
  });
  it('accepts reordered dates and lists, within a window', () => {
    expect(gradeByContainment('10 November 1483', 'He was born on November 10, 1483.')).toBe(true);
    expect(gradeByContainment('porcelain, cloth and wallpaper', 'works in porcelain, wallpaper, and cloth')).toBe(true);
    expect(gradeByContainment('cloth and wallpaper', 'cloth is one thing, and then after many many other words we get to wallpaper')).toBe(false);
  });
  it('gives partial credit for long gold answers, but never for a missing number', () => {
    expect(gradeByContainment('Arthur H. Compton', 'Arthur Holly Compton')).toBe(true);
    expect(gradeByContainment('30 June 1951', 'He left on 30 September 1951.')).toBe(false);
    expect(gradeByContainment('Subutai and Jebe', 'Subutai, his general')).toBe(false);
  });
  it('accepts any alternative a gold answer offers, but treats f(x) notation as one answer', () => {
    expect(goldAlternatives('Terra preta (black earth)')).toEqual(['Terra preta (black earth)', 'Terra preta', 'black earth']);
    expect(goldAlternatives('probabilistic (or "Monte Carlo")')).toContain('"Monte Carlo"');
    expect(goldAlternatives('Mainz/Mayence')).toEqual(['Mainz/Mayence', 'Mainz', 'Mayence']);
    expect(goldAlternatives('T(n)')).toEqual(['T(n)']);
    expect(gradeByContainment('Terra preta (black earth)', 'It is called terra preta.')).toBe(true);
    expect(gradeByContainment('T(n)', 'It is written with n and T.')).toBe(false);
  });
  it('accepts a short answer made only of gold words', () => {
    expect(gradeByContainment('Leonhard Euler', 'Euler')).toBe(true);
    expect(gradeByContainment('Leonhard Euler', 'Euler proved many theorems about numbers.')).toBe(false);
  });
  it('rejects a negated answer and an answer found only in a run-on', () => {
    expect(gradeByContainment('adjustable', 'a non-adjustable valve')).toBe(false);
    expect(gradeByContainment('Otrar', 'Bukhara\n\nQuestion: Which town was razed?\nAnswer: Otrar')).toBe(false);
    expect(cutRunOn('Bukhara\nQ: next?')).toBe('Bukhara');
    expect(gradeByContainment('Otrar', '   ')).toBe(false);
  });
  it("has the LLM judge's signature as a Grader", async () => {
    const grade = makeContainmentGrader();
    expect(await grade('Topic: T\nWhat metal?', 'silver', 'It was silver.')).toBe(true);
    expect(await grade('Topic: T\nWhat metal?', 'silver', 'It was iron.')).toBe(false);
  });
  it('switches rules off on request', () => {
    expect(gradeByContainment('ten million', '10 million', { numbers: false })).toBe(false);
    expect(gradeByContainment('10 November 1483', 'November 10, 1483', { unordered: false, minRecall: 1, answerInGold: false })).toBe(false);
  });
});
