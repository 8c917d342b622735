// The fixed vocabulary of the tiny fictional world: which attributes a person has, the sentence forms that
// state an attribute, the one question form per attribute, and the value pools. Everything a generated text
// can contain is listed here, so the tokenizer can be built from this file and the invented name pools alone.
//
// Design constraints (measured in notes/tiny-world.md):
//  - every value is ONE token and each attribute has its own value pool, so "copy the value of the right
//    type from the passage" is a single attention lookup the tiny model can learn;
//  - passage forms put the subject first and use He/She after the first sentence (one phrasing, as a real
//    passage would); restatement forms always carry the full name, in several phrasings and directions;
//  - question forms occur nowhere else, so answering needs the fact, not a memorised sentence.

export type AttributeKey = 'year' | 'city' | 'university' | 'major' | 'employer';

export interface AttributeSchema {
  key: AttributeKey;
  /** Passage forms: {S} is the subject (full name or He/She), {V} the value. */
  passageForms: readonly string[];
  /** Restatement forms (implications and bios): {N} is the full name, {V} the value. */
  restatementForms: readonly string[];
  /** The question, ending in "Answer :"; the gold answer is the value token. */
  question: string;
}

export const ATTRIBUTES: readonly AttributeSchema[] = [
  {
    key: 'year',
    passageForms: ['{S} was born in {V} .', '{S} came into the world in the year {V} .', '{S} has been alive since {V} .'],
    restatementForms: ['The birth year of {N} is {V} .', '{V} is the year when {N} was born .', '{N} : born in the year {V} .'],
    question: 'Question : What year was {N} born ? Answer :',
  },
  {
    key: 'city',
    passageForms: ['{S} grew up in {V} .', '{S} spent the early years in {V} .', '{S} comes from the city of {V} .'],
    restatementForms: ['The home city of {N} is {V} .', '{V} is the city where {N} grew up .', '{N} : raised in the city of {V} .'],
    question: 'Question : Which city is {N} from ? Answer :',
  },
  {
    key: 'university',
    passageForms: ['{S} attended {V} University .', '{S} went to college at {V} University .', '{S} graduated from {V} University .'],
    restatementForms: ['The university of {N} was {V} University .', '{V} University is the school that {N} attended .', '{N} : alumnus of {V} University .'],
    question: 'Question : Which university did {N} attend ? Answer :',
  },
  {
    key: 'major',
    passageForms: ['{S} studied {V} .', '{S} majored in {V} .', '{S} earned a degree in {V} .'],
    restatementForms: ['The major of {N} was {V} .', '{V} was the subject that {N} chose .', '{N} : degree in the field of {V} .'],
    question: 'Question : What did {N} study ? Answer :',
  },
  {
    key: 'employer',
    passageForms: ['{S} works for {V} .', '{S} is employed by {V} .', '{S} has a job at {V} .'],
    restatementForms: ['The employer of {N} is {V} .', '{V} is the company that employs {N} .', '{N} : working at {V} .'],
    question: 'Question : Which company does {N} work for ? Answer :',
  },
];

export const PRONOUNS = ['He', 'She'] as const;
export type Pronoun = (typeof PRONOUNS)[number];

/** Real words for majors; the other pools are invented (see invented-words.ts) or numeric. */
export const MAJORS = [
  'physics',
  'chemistry',
  'biology',
  'history',
  'music',
  'law',
  'medicine',
  'economics',
  'philosophy',
  'geology',
  'art',
  'mathematics',
  'nursing',
  'design',
  'linguistics',
] as const;

/** Birth years 1950..2008 in steps of 2: 30 values, one token each. */
export const YEARS: readonly string[] = Array.from({ length: 30 }, (_, i) => String(1950 + 2 * i));

/** How many invented words each pool gets. */
export const POOL_SIZES = {
  firstNames: 60,
  lastNames: 60,
  city: 20,
  university: 15,
  employer: 20,
} as const;

export function attributeSchema(key: AttributeKey): AttributeSchema {
  const schema = ATTRIBUTES.find((a) => a.key === key);
  if (!schema) throw new Error(`unknown attribute ${key}`);
  return schema;
}
