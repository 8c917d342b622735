// Conditions are parsed once from their labels and written back the same way (labels are log keys and
// table rows): every label parse accepts round-trips, and the rest are refused by name.
import { describe, expect, it } from 'vitest';
import { ConditionError, formatCondition, parseArcCondition, parseKnowledgeCondition, policyRound } from '../../src/seal/condition.ts';

const KNOWLEDGE = [
  'base',
  'passage',
  'self-edits:gpt4',
  'self-edits:a=b:c',
  'round-0',
  'round-12',
  'repeated:round-2',
  'repeated:passage',
  'repeated:repeated:self-edits:x',
  'cpt:self-edits:base',
  'cpt:round-1',
  'cpt:base',
  'cpt:repeated:round-3',
  'cpt:cpt:passage',
];

describe('conditions', () => {
  it('round-trip: format(parse(label)) is the label', () => {
    for (const label of KNOWLEDGE) expect(formatCondition(parseKnowledgeCondition(label))).toBe(label);
    for (const label of ['in-context', 'oracle', 'best', 'round-0', 'round-3']) expect(formatCondition(parseArcCondition(label))).toBe(label);
  });

  it('parse into the union', () => {
    expect(parseKnowledgeCondition('repeated:round-2')).toEqual({ kind: 'repeated', of: { kind: 'round', round: 2 } });
    expect(parseKnowledgeCondition('cpt:self-edits:base')).toEqual({ kind: 'cpt', of: { kind: 'self-edits', name: 'base' } });
    expect(parseArcCondition('round-1')).toEqual({ kind: 'round', round: 1 });
  });

  it('name the round whose policy a condition needs', () => {
    const rounds = Object.fromEntries(KNOWLEDGE.map((l) => [l, policyRound(parseKnowledgeCondition(l))]));
    expect(rounds).toMatchObject({ base: null, 'self-edits:gpt4': null, 'round-12': 12, 'repeated:round-2': 2, 'cpt:round-1': 1, 'cpt:repeated:round-3': 3 });
    expect(policyRound(parseArcCondition('oracle'))).toBeNull();
    expect(policyRound(parseArcCondition('best'))).toBeNull();
  });

  it('refuse other labels, naming them and the labels there are', () => {
    for (const label of [
      '',
      'Base',
      'round-',
      'round-01',
      'round-x',
      'round-1e3',
      'self-edits:',
      'repeated:',
      'repeated:cpt:round-1',
      'cpt:frob',
      'oracle',
      'best',
    ]) {
      expect(() => parseKnowledgeCondition(label), label).toThrow(ConditionError);
    }
    expect(() => parseKnowledgeCondition('frob')).toThrow(
      'unknown condition "frob": use base, passage, self-edits:<name>, round-<r>, repeated:<condition> or cpt:<condition>',
    );
    // repeated: matches a condition's passage-by-passage texts, which cpt: has not: the inner label is named.
    expect(() => parseKnowledgeCondition('repeated:cpt:round-1')).toThrow('unknown condition "cpt:round-1"');
    expect(() => parseArcCondition('base')).toThrow('unknown condition "base": use in-context, oracle, best or round-<r>');
  });
});
