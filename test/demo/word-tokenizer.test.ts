import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { loadTokenizer, type Tokenizer } from '../../src/io/tokenizer.ts';
import { implicationsCompletion, implicationsPrompt, parseImplications, questionAnswerText } from '../../src/demo/prompts.ts';
import { WordTokenizer, tokenizerConfig, tokenizerJson, worldVocabulary, writeTokenizerFiles } from '../../src/demo/word-tokenizer.ts';
import { allRestatements, bioText, generateWorld, questionsFor } from '../../src/demo/world.ts';
import { Rng } from '../../src/util/random.ts';

const world = generateWorld({ seed: 0 });
const vocab = worldVocabulary(world);
const local = new WordTokenizer(vocab);

/** A sample of every kind of text the world writes. */
function worldTexts(): string[] {
  const rng = new Rng(9);
  const texts: string[] = [];
  for (const p of world.eval.slice(0, 8)) {
    texts.push(implicationsPrompt(p.passage) + implicationsCompletion(allRestatements(p)));
    for (const q of questionsFor(p)) texts.push(questionAnswerText(q.question, q.answer));
  }
  for (const p of world.pretrain.slice(0, 8)) texts.push(bioText(p, rng));
  return texts;
}

describe('word-level tokenizer', () => {
  let dir: string;
  let project: Tokenizer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tiny-tok-'));
    await writeTokenizerFiles(dir, vocab);
    project = await loadTokenizer(dir);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('has a small vocabulary with fixed special ids', () => {
    expect(vocab.slice(0, 5)).toEqual(['<pad>', '<bos>', '<eos>', '<unk>', '\n']);
    expect(vocab.length).toBeLessThan(400);
    expect(new Set(vocab).size).toBe(vocab.length);
  });

  it("loads in @huggingface/tokenizers and gives the local encoder's ids, with BOS from the post-processor", () => {
    const hf = new HfTokenizer(tokenizerJson(vocab), tokenizerConfig());
    for (const text of worldTexts()) {
      const ids = local.encode(text);
      expect(hf.encode(text).ids).toEqual([local.bosId, ...ids]);
      expect(hf.encode(text, { add_special_tokens: false }).ids).toEqual(ids);
      expect(ids).not.toContain(local.unkId);
      expect(hf.decode(ids)).toBe(local.decode(ids));
    }
  });

  it("round-trips the world's texts through the project's loader", () => {
    expect(project.bosId).toBe(local.bosId);
    expect(project.eosIds).toEqual([local.eosId]);
    expect(project.padId).toBe(local.padId);
    expect(project.vocabSize).toBe(vocab.length);
    for (const text of worldTexts()) {
      const ids = project.encode(text);
      expect(ids).toEqual(local.encode(text, { bos: true }));
      const decoded = project.decode(ids, { skipSpecial: true });
      // Decoding joins tokens with single spaces: the same words, lines and order.
      expect(decoded.split(/[ ]+/).join(' ')).toBe(text.replace(/\n/g, ' \n ').trim());
    }
  });

  it('splits a decoded self-edit back into its lines', () => {
    const p = world.eval[2];
    const lines = allRestatements(p).slice(0, 4);
    const ids = local.encode(implicationsCompletion(lines), { eos: true });
    const text = project.decode(ids, { skipSpecial: true });
    expect(parseImplications(text)).toEqual(lines);
  });

  it('maps an unknown word to <unk> in the HF file and refuses it locally', () => {
    const hf = new HfTokenizer(tokenizerJson(vocab), tokenizerConfig());
    expect(hf.encode('Passage : Zzyzx', { add_special_tokens: false }).ids).toEqual([local.id('Passage'), local.id(':'), local.unkId]);
    expect(() => local.encode('Passage : Zzyzx')).toThrow(/not in the world's vocabulary/);
  });
});
