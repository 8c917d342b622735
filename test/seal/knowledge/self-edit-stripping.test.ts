// SEAL strips every self-edit (make_squad_data: `ch["text"].strip()`) and skips the empty ones
// (query_server: `[c for c in completions if c.strip()]`; build_SFT_dataset: `if c["text"].strip()`), so an
// empty self-edit earns no reward and is never imitated; its continual script trains on the passage where
// the completion is empty (`completion or context`). The knowledge domain does the same.
import { describe, expect, it } from 'vitest';
import type { Tokenizer } from '../../../src/io/tokenizer.ts';
import { KnowledgeDomain, sealFormat } from '../../../src/seal/knowledge/domain.ts';
import { SEAL_INNER_LOOP } from '../../../src/seal/knowledge/domain.ts';
import type { Policy } from '../../../src/seal/policy.ts';

const passage = { title: 'Mira', context: 'Mira is a red star.\nIts moon is Tob.', questions: [{ question: 'What colour is Mira?', answer: 'red' }] };
const tokenizer = { encode: (text: string) => [...text].map((ch) => ch.charCodeAt(0)) } as unknown as Tokenizer;

describe('self-edits are stripped, and empty ones dropped, before training and imitation', () => {
  it('the E-step keeps the stripped non-empty samples, each from its own seed', async () => {
    const seen: number[] = [];
    const samples = ['  Mira is red.\n\n', '\n \t', '', 'Tob orbits Mira.\u2028'];
    const policy = {
      sample: async (requests: { prompt: number[]; seed: number }[]) => {
        seen.push(...requests.map((r) => r.seed));
        return samples;
      },
    } as unknown as Policy;
    const domain = new KnowledgeDomain(tokenizer, sealFormat(), SEAL_INNER_LOOP);
    const { texts, details } = await domain.sampleSelfEdits(policy, { index: 0, passage }, 4, 7);
    expect(texts).toEqual(['Mira is red.', 'Tob orbits Mira.']); // Python's strip: U+2028 is whitespace
    expect(details).toEqual({ empty: 2 });
    expect(new Set(seen).size).toBe(4);
    // A context whose samples were all empty imitates nothing.
    expect(domain.select([])).toEqual([]);
    expect(domain.select([0.2, 0.8])).toEqual([1]);
  });

  it('an empty self-edit trains on the passage, as `completion or context` does', () => {
    const domain = new KnowledgeDomain(tokenizer, sealFormat(), SEAL_INNER_LOOP);
    expect(domain.sequences({ index: 0, passage }, ' \n ')).toEqual([
      'Mira\nMira is a red star.',
      'Mira\nIts moon is Tob.',
      'Mira\nMira is a red star.\nIts moon is Tob.',
    ]);
    expect(domain.sequences({ index: 0, passage }, '\n1. Mira is red.\n')).toEqual(['Mira\n1. Mira is red.', 'Mira\nMira is a red star.\nIts moon is Tob.']);
  });
});
