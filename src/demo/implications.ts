// "Implications" of a passage as the pretraining corpus shows them: restatements of the passage's facts, one
// per line. They are always correct copies of the passage's values (the earlier prototype's noisy examples
// left the model unable to copy). What varies is their *kind*: a line either names the person in a
// restatement form (self-contained: "The employer of N is V .") or repeats the fact the passage's way, with
// the pronoun ("He works for V ."). Both are faithful; only the first teaches a model trained on several
// people at once whose fact it is. Each example is written in one kind of line, so the pretrained policy
// writes both kinds of self-edit, and ReST-EM has something to select (notes/tiny-world.md). Coverage and the
// number of restatements are knobs too; fewer copied lines per example made copying weaker (same note).
import type { Rng } from '../util/random.ts';
import type { AttributeKey } from './world-schema.ts';
import { attributeSchema } from './world-schema.ts';
import { type Person, pronounStatement, restatement } from './world.ts';

export interface ImplicationStyle {
  /** Probability that a fact is restated at all; at least one fact always is. */
  keepProbability: number;
  /** Restatements per kept fact, drawn uniformly in [min, max], each in a different form. */
  minRestatements: number;
  maxRestatements: number;
  /** Facts in the passage's order, or shuffled (which forces the model to look values up by type). */
  order: 'passage' | 'shuffled';
  /**
   * Probability that a line names the person (restatement form) rather than using the pronoun in a passage
   * form; 'per-example' draws it uniformly in [0, 1) for each example; 'whole-example' writes every line of
   * an example one way, named or pronoun, with even odds.
   */
  namedShare: number | 'per-example' | 'whole-example';
  /**
   * 'first-form': a wholly named example opens with restatement form 0 ("The employer of N is V ."), so its
   * first token is always "The", as a pronoun example's is always He/She. With any form first, the named
   * style's first-token mass was spread over "The", the first name and five values, sampling at T < 1
   * sharpened towards the one pronoun token, and the policy wrote a quarter of its self-edits named
   * although pretraining showed half (notes/tiny-world.md).
   */
  namedOpening?: 'any-form' | 'first-form';
}

/** Every fact, twice, all lines naming the person (the "perfect implications" of the demo's oracle runs). */
export const COMPLETE_IMPLICATIONS: ImplicationStyle = {
  keepProbability: 1,
  minRestatements: 2,
  maxRestatements: 2,
  order: 'shuffled',
  namedShare: 1,
};

/**
 * The pretraining style of the recipe: every fact twice, each example written wholly in one kind of line,
 * named or pronoun. The pretrained policy then writes both kinds of self-edit, and which kind it writes is
 * one early choice that ReST-EM can shift (with a per-example mix, SFT on the policy's own samples sharpened
 * it towards its commoner pronoun lines instead: notes/tiny-world.md).
 */
export const PRETRAINING_IMPLICATIONS: ImplicationStyle = { ...COMPLETE_IMPLICATIONS, namedShare: 'whole-example' };

export function implicationLines(person: Person, passageOrder: readonly AttributeKey[], rng: Rng, style: ImplicationStyle): string[] {
  if (style.minRestatements < 1 || style.maxRestatements < style.minRestatements) throw new Error('bad restatement range');
  const namedShare =
    style.namedShare === 'per-example' ? rng.uniform() : style.namedShare === 'whole-example' ? (rng.uniform() < 0.5 ? 1 : 0) : style.namedShare;
  const order = style.order === 'shuffled' ? rng.shuffle([...passageOrder]) : [...passageOrder];
  let kept = order.filter(() => rng.uniform() < style.keepProbability);
  if (kept.length === 0) kept = [rng.pick(order)];
  const lines: string[] = [];
  const opensWithFirstForm = style.namedOpening === 'first-form' && namedShare === 1;
  for (const key of kept) {
    const forms = attributeSchema(key).restatementForms.map((_, k) => k);
    const count = Math.min(forms.length, style.minRestatements + rng.int(style.maxRestatements - style.minRestatements + 1));
    const chosen = opensWithFirstForm && lines.length === 0 ? [0, ...rng.shuffle(forms.slice(1)).slice(0, count - 1)] : rng.shuffle(forms).slice(0, count);
    for (const k of chosen) {
      lines.push(rng.uniform() < namedShare ? restatement(person, key, k) : pronounStatement(person, key, k));
    }
  }
  return lines;
}
