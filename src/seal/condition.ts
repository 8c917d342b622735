// The conditions an experiment scores, parsed once from their labels (a flag, the demo's list) and written
// back the same way: a label is a log key's part and a table row, so format(parse(label)) === label for
// every label parse accepts, and parse refuses the rest with the error the runs always gave.
//
// Knowledge incorporation (knowledge/run.ts):
//   base                no adaptation
//   passage             fine-tune on the passage alone
//   self-edits:<name>   fine-tune on the passage + the first self-edit a named file stores for it
//   round-<r>           the round-r policy writes a self-edit (round-0 = before RL), then fine-tune on it
//   repeated:<c>        the passage repeated to as many tokens as condition c's training data (c not cpt:)
//   cpt:<c>             continued pretraining on every passage's c completions at once
// Few-shot ARC (arc/run.ts):
//   in-context          the model answers from the demonstrations alone (no test-time training)
//   oracle              test-time training with one fixed configuration for every task (the paper's Oracle TTT)
//   best                test-time training with a fixed configuration chosen per task (the per-task best
//                       configuration; the run is given the table, e.g. the ARC demo's per-family one)
//   round-<r>           test-time training on the self-edits the round-r policy writes

export interface RoundCondition {
  kind: 'round';
  /** r: the policy after r ReST-EM rounds (0: before RL). */
  round: number;
}

/** A condition whose training texts come passage by passage (what `repeated:` can match). */
export type PassageCondition =
  | { kind: 'base' }
  | { kind: 'passage' }
  | { kind: 'self-edits'; name: string }
  | RoundCondition
  | { kind: 'repeated'; of: PassageCondition };

export type KnowledgeCondition = PassageCondition | { kind: 'cpt'; of: KnowledgeCondition };

export type ArcCondition = { kind: 'in-context' } | { kind: 'oracle' } | { kind: 'best' } | RoundCondition;

export type Condition = KnowledgeCondition | ArcCondition;

/** A label that names no condition of the domain; the message says which labels do. */
export class ConditionError extends Error {
  override name = 'ConditionError';
}

const ROUND = /^round-(0|[1-9]\d*)$/;

export const roundCondition = (round: number): RoundCondition => ({ kind: 'round', round });

function parseRound(label: string): RoundCondition | null {
  const m = ROUND.exec(label);
  return m && Number.isSafeInteger(Number(m[1])) ? roundCondition(Number(m[1])) : null;
}

const KNOWLEDGE_LABELS = 'use base, passage, self-edits:<name>, round-<r>, repeated:<condition> or cpt:<condition>';

export function parseKnowledgeCondition(label: string): KnowledgeCondition {
  if (label.startsWith('cpt:')) return { kind: 'cpt', of: parseKnowledgeCondition(label.slice(4)) };
  return parsePassageCondition(label);
}

function parsePassageCondition(label: string): PassageCondition {
  if (label === 'base' || label === 'passage') return { kind: label };
  if (label.startsWith('self-edits:') && label.length > 11) return { kind: 'self-edits', name: label.slice(11) };
  if (label.startsWith('repeated:')) return { kind: 'repeated', of: parsePassageCondition(label.slice(9)) };
  const round = parseRound(label);
  if (round) return round;
  throw new ConditionError(`unknown condition "${label}": ${KNOWLEDGE_LABELS}`);
}

export function parseArcCondition(label: string): ArcCondition {
  if (label === 'in-context' || label === 'oracle' || label === 'best') return { kind: label };
  const round = parseRound(label);
  if (round) return round;
  throw new ConditionError(`unknown condition "${label}": use in-context, oracle, best or round-<r>`);
}

export function formatCondition(c: Condition): string {
  switch (c.kind) {
    case 'base':
    case 'passage':
    case 'in-context':
    case 'oracle':
    case 'best':
      return c.kind;
    case 'self-edits':
      return `self-edits:${c.name}`;
    case 'round':
      return `round-${c.round}`;
    case 'repeated':
    case 'cpt':
      return `${c.kind}:${formatCondition(c.of)}`;
  }
}

/**
 * The round whose policy a condition needs: round-r's r, inherited by repeated: and cpt: from the
 * condition they are built on; null when no policy writes its texts.
 */
export function policyRound(c: Condition): number | null {
  switch (c.kind) {
    case 'round':
      return c.round;
    case 'repeated':
    case 'cpt':
      return policyRound(c.of);
    default:
      return null;
  }
}
