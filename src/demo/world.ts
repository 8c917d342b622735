// The tiny fictional world of the SEAL demo: people with five one-token attributes, split into pretraining,
// RL-training and evaluation people that never overlap, plus the texts about them (passages, bios,
// restatements, questions). A fixed seed gives the same world on every machine.
//
// Why these splits (notes/tiny-world.md has the measurements):
//  - pretraining people are what the model memorises, in many phrasings, and (most of them) are asked about,
//    so that it learns to answer questions from facts it has stored;
//  - RL and evaluation people use first+last name combinations no pretraining text ever contains, and their
//    attribute combinations are drawn independently, so the model cannot know them;
//  - "exercise" people are drawn fresh for every passage → implications example in pretraining, from name
//    combinations no other split uses: their facts are never stored anywhere, so the only way to write
//    their implications is to copy from the passage. Examples about memorised people taught the earlier
//    prototype to write values from memory instead (1–4 % correct).
import { Rng } from '../util/random.ts';
import { inventWords } from './invented-words.ts';
import { ATTRIBUTES, type AttributeKey, MAJORS, POOL_SIZES, PRONOUNS, type Pronoun, YEARS, attributeSchema } from './world-schema.ts';

export interface Person {
  first: string;
  last: string;
  /** "First Last": two tokens. */
  name: string;
  pronoun: Pronoun;
  values: Record<AttributeKey, string>;
}

/** An RL or evaluation person: the world fixes the one passage the model is given about them. */
export interface PassagePerson extends Person {
  passage: string;
  /** The order in which the passage states the attributes. */
  passageOrder: AttributeKey[];
}

export interface WorldOptions {
  seed: number;
  /** People the pretraining corpus describes (bios). */
  pretrainPeople: number;
  /** Of those, how many also have QA documents in pretraining (the rest are a memorisation-only probe). */
  pretrainQaPeople: number;
  rlPeople: number;
  evalPeople: number;
}

export const DEFAULT_WORLD_OPTIONS: WorldOptions = {
  seed: 0,
  pretrainPeople: 200,
  pretrainQaPeople: 150,
  rlPeople: 64,
  evalPeople: 64,
};

export interface World {
  options: WorldOptions;
  firstNames: string[];
  lastNames: string[];
  values: Record<AttributeKey, string[]>;
  pretrain: Person[];
  rl: PassagePerson[];
  eval: PassagePerson[];
  /** Name combinations reserved for exercise people (disjoint from every split above). */
  exerciseNames: ReadonlyArray<readonly [string, string]>;
}

export interface Question {
  attribute: AttributeKey;
  /** "Question : … ? Answer :" */
  question: string;
  /** The value token. */
  answer: string;
}

export function generateWorld(options: Partial<WorldOptions> = {}): World {
  const opts = { ...DEFAULT_WORLD_OPTIONS, ...options };
  if (opts.pretrainQaPeople > opts.pretrainPeople) throw new Error('pretrainQaPeople exceeds pretrainPeople');
  const rng = new Rng(opts.seed);
  const taken = new Set<string>();
  const firstNames = inventWords(rng, POOL_SIZES.firstNames, taken);
  const lastNames = inventWords(rng, POOL_SIZES.lastNames, taken);
  const values: Record<AttributeKey, string[]> = {
    year: [...YEARS],
    city: inventWords(rng, POOL_SIZES.city, taken),
    university: inventWords(rng, POOL_SIZES.university, taken),
    major: [...MAJORS],
    employer: inventWords(rng, POOL_SIZES.employer, taken),
  };
  const combos: Array<readonly [string, string]> = [];
  for (const f of firstNames) for (const l of lastNames) combos.push([f, l] as const);
  rng.shuffle(combos);
  const used = opts.pretrainPeople + opts.rlPeople + opts.evalPeople;
  if (used > combos.length / 2) throw new Error(`too many people (${used}) for ${combos.length} name combinations`);
  const makePerson = (combo: readonly [string, string]): Person => newPerson(rng, combo, values);
  const pretrain = combos.slice(0, opts.pretrainPeople).map(makePerson);
  const withPassage = (combo: readonly [string, string]): PassagePerson => {
    const person = makePerson(combo);
    const { text, order } = passageText(person, rng);
    return { ...person, passage: text, passageOrder: order };
  };
  const rlEnd = opts.pretrainPeople + opts.rlPeople;
  const rl = combos.slice(opts.pretrainPeople, rlEnd).map(withPassage);
  const evalPeople = combos.slice(rlEnd, used).map(withPassage);
  return { options: opts, firstNames, lastNames, values, pretrain, rl, eval: evalPeople, exerciseNames: combos.slice(used) };
}

function newPerson(rng: Rng, [first, last]: readonly [string, string], values: Record<AttributeKey, string[]>): Person {
  const pronoun = rng.pick(PRONOUNS);
  const chosen = {} as Record<AttributeKey, string>;
  for (const a of ATTRIBUTES) chosen[a.key] = rng.pick(values[a.key]);
  return { first, last, name: `${first} ${last}`, pronoun, values: chosen };
}

/** A fresh exercise person (random name from the reserved combinations, random values) for pretraining. */
export function exercisePerson(world: World, rng: Rng): Person {
  return newPerson(rng, rng.pick(world.exerciseNames), world.values);
}

function fill(form: string, slots: { S?: string; N?: string; V: string }): string {
  return form
    .replace('{S}', slots.S ?? '')
    .replace('{N}', slots.N ?? '')
    .replace('{V}', slots.V);
}

/**
 * The passage about a person: every attribute once, in random order, each in a random passage form; the
 * first sentence names the person, the others say He/She (one phrasing of each fact, as in a real text).
 */
export function passageText(person: Person, rng: Rng): { text: string; order: AttributeKey[] } {
  const order = rng.shuffle(ATTRIBUTES.map((a) => a.key));
  const sentences = order.map((key, i) =>
    fill(rng.pick(attributeSchema(key).passageForms), { S: i === 0 ? person.name : person.pronoun, V: person.values[key] }),
  );
  return { text: sentences.join(' '), order };
}

/**
 * A pretraining bio: every attribute, random order, each sentence in any passage or restatement form, the
 * subject named or (after the first sentence, half the time) a pronoun. Many phrasings of the same facts are
 * what teaches a model to store facts so that questions can extract them (Allen-Zhu & Li, Physics of LMs 3.1).
 */
export function bioText(person: Person, rng: Rng): string {
  const order = rng.shuffle(ATTRIBUTES.map((a) => a.key));
  const sentences = order.map((key, i) => {
    const schema = attributeSchema(key);
    const forms = [...schema.passageForms, ...schema.restatementForms];
    const form = rng.pick(forms);
    const named = i === 0 || form.includes('{N}') || rng.uniform() < 0.5;
    return fill(form, { S: named ? person.name : person.pronoun, N: person.name, V: person.values[key] });
  });
  return sentences.join(' ');
}

/** One restatement of one fact: restatement form `formIndex` of the attribute, with the full name. */
export function restatement(person: Person, key: AttributeKey, formIndex: number): string {
  const forms = attributeSchema(key).restatementForms;
  if (formIndex < 0 || formIndex >= forms.length) throw new Error(`no restatement form ${formIndex} for ${key}`);
  return fill(forms[formIndex], { N: person.name, V: person.values[key] });
}

/** The fact the passage's way: passage form `formIndex` with the pronoun as subject (not self-contained). */
export function pronounStatement(person: Person, key: AttributeKey, formIndex: number): string {
  const forms = attributeSchema(key).passageForms;
  if (formIndex < 0 || formIndex >= forms.length) throw new Error(`no passage form ${formIndex} for ${key}`);
  return fill(forms[formIndex], { S: person.pronoun, V: person.values[key] });
}

/** Every restatement of every fact ("perfect implications"), attribute by attribute. */
export function allRestatements(person: Person): string[] {
  return ATTRIBUTES.flatMap((a) => a.restatementForms.map((_, k) => restatement(person, a.key, k)));
}

/** The questions about a person, one per attribute, with the value token as gold answer. */
export function questionsFor(person: Person): Question[] {
  return ATTRIBUTES.map((a) => ({
    attribute: a.key,
    question: a.question.replace('{N}', person.name),
    answer: person.values[a.key],
  }));
}
