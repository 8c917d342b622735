// "Implications" of a passage as the pretraining corpus shows them: restatements of the passage's facts, one
// per line, each with the full name, in restatement forms (other phrasings and directions than the passage's).
// They are always correct copies of the passage's values — the earlier prototype's noisy examples left the
// model unable to copy — but how many facts they cover, and how often each is restated, is a style knob:
// that variation is the room ReST-EM has to improve the policy (notes/tiny-world.md).
import type { Rng } from '../util/random.ts';
import type { AttributeKey } from './world-schema.ts';
import { attributeSchema } from './world-schema.ts';
import { type Person, restatement } from './world.ts';

export interface ImplicationStyle {
  /** Probability that a fact is restated at all; at least one fact always is. */
  keepProbability: number;
  /** Restatements per kept fact, drawn uniformly in [min, max], each in a different form. */
  minRestatements: number;
  maxRestatements: number;
  /** Facts in the passage's order, or shuffled (which forces the model to look values up by type). */
  order: 'passage' | 'shuffled';
}

export const COMPLETE_IMPLICATIONS: ImplicationStyle = {
  keepProbability: 1,
  minRestatements: 2,
  maxRestatements: 2,
  order: 'shuffled',
};

export function implicationLines(person: Person, passageOrder: readonly AttributeKey[], rng: Rng, style: ImplicationStyle): string[] {
  if (style.minRestatements < 1 || style.maxRestatements < style.minRestatements) throw new Error('bad restatement range');
  const order = style.order === 'shuffled' ? rng.shuffle([...passageOrder]) : [...passageOrder];
  let kept = order.filter(() => rng.uniform() < style.keepProbability);
  if (kept.length === 0) kept = [rng.pick(order)];
  const lines: string[] = [];
  for (const key of kept) {
    const forms = attributeSchema(key).restatementForms.map((_, k) => k);
    const count = Math.min(forms.length, style.minRestatements + rng.int(style.maxRestatements - style.minRestatements + 1));
    for (const k of rng.shuffle(forms).slice(0, count)) lines.push(restatement(person, key, k));
  }
  return lines;
}
