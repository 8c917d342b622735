import { describe, expect, it } from 'vitest';
import { COMPLETE_IMPLICATIONS, PRETRAINING_IMPLICATIONS, implicationLines } from '../../src/demo/implications.ts';
import { packDocuments, type PretrainMix, pretrainingBatches, pretrainingPass } from '../../src/demo/pretrain-mix.ts';
import { parseImplications } from '../../src/demo/prompts.ts';
import { WordTokenizer, worldVocabulary } from '../../src/demo/word-tokenizer.ts';
import { ATTRIBUTES } from '../../src/demo/world-schema.ts';
import { generateWorld, questionsFor } from '../../src/demo/world.ts';
import { TINY_PRETRAINING, TINY_WORLD } from '../../src/demo/recipe.ts';
import { Rng } from '../../src/util/random.ts';

const world = generateWorld({ seed: 1, pretrainPeople: 40, pretrainQaPeople: 30, rlPeople: 8, evalPeople: 8 });
const tok = new WordTokenizer(worldVocabulary(world));
const mix: PretrainMix = { biosPerPerson: 2, copiesPerQuestion: 2, exercisesPerPass: 50, exerciseStyle: PRETRAINING_IMPLICATIONS };

describe('implication lines', () => {
  it('restates every fact twice, correctly and with the full name, in the complete style', () => {
    const p = world.eval[0];
    const lines = implicationLines(p, p.passageOrder, new Rng(1), COMPLETE_IMPLICATIONS);
    expect(lines).toHaveLength(2 * ATTRIBUTES.length);
    for (const l of lines) expect(l).toContain(p.name);
    for (const a of ATTRIBUTES) expect(lines.filter((l) => l.split(' ').includes(p.values[a.key]))).toHaveLength(2);
    expect(new Set(lines).size).toBe(lines.length);
  });

  it('writes each example wholly in named or wholly in pronoun lines, both kinds, every line a correct copy', () => {
    const p = world.eval[2];
    const rng = new Rng(3);
    const shares: number[] = [];
    for (let i = 0; i < 40; i++) {
      const lines = implicationLines(p, p.passageOrder, rng, PRETRAINING_IMPLICATIONS);
      expect(lines).toHaveLength(10);
      for (const l of lines) expect(l.includes(p.name) || l.startsWith(p.pronoun + ' ')).toBe(true);
      for (const a of ATTRIBUTES) expect(lines.filter((l) => l.split(' ').includes(p.values[a.key]))).toHaveLength(2);
      shares.push(lines.filter((l) => l.includes(p.name)).length / lines.length);
    }
    expect(new Set(shares)).toEqual(new Set([0, 1]));
    // Even odds: 40 draws put between 10 and 30 in each kind with probability > 0.998.
    expect(shares.filter((s) => s === 1).length).toBeGreaterThanOrEqual(10);
    expect(shares.filter((s) => s === 1).length).toBeLessThanOrEqual(30);
  });

  it("opens every wholly named example with the 'The … of N is V' form when asked, changing nothing else", () => {
    const p = world.eval[2];
    const rng = new Rng(4);
    const firstTokens = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const lines = implicationLines(p, p.passageOrder, rng, { ...PRETRAINING_IMPLICATIONS, namedOpening: 'first-form' });
      expect(lines).toHaveLength(10);
      for (const a of ATTRIBUTES) expect(lines.filter((l) => l.split(' ').includes(p.values[a.key]))).toHaveLength(2);
      expect(new Set(lines).size).toBe(lines.length);
      const named = lines[0].includes(p.name);
      expect(lines.every((l) => l.includes(p.name) === named)).toBe(true);
      if (named) expect(lines[0]).toMatch(new RegExp(`^The [a-z ]+ of ${p.name} (is|was) `));
      firstTokens.add(lines[0].split(' ')[0]);
    }
    // The style is announced by one token either way: "The" or the pronoun.
    expect(firstTokens).toEqual(new Set(['The', p.pronoun]));
  });

  it('mixes named and pronoun lines with a share drawn per example, every line a correct copy', () => {
    const p = world.eval[2];
    const rng = new Rng(3);
    const shares: number[] = [];
    for (let i = 0; i < 40; i++) {
      const lines = implicationLines(p, p.passageOrder, rng, { ...PRETRAINING_IMPLICATIONS, namedShare: 'per-example' });
      expect(lines).toHaveLength(10);
      for (const l of lines) expect(l.includes(p.name) || l.startsWith(p.pronoun + ' ')).toBe(true);
      for (const a of ATTRIBUTES) expect(lines.filter((l) => l.split(' ').includes(p.values[a.key]))).toHaveLength(2);
      shares.push(lines.filter((l) => l.includes(p.name)).length / lines.length);
    }
    expect(Math.min(...shares)).toBeLessThan(0.3);
    expect(Math.max(...shares)).toBeGreaterThan(0.7);
  });

  it('covers only some facts when facts are kept with probability < 1, never none', () => {
    const p = world.eval[1];
    const style = { keepProbability: 0.3, minRestatements: 1, maxRestatements: 1, order: 'passage' as const, namedShare: 1 };
    const counts = new Set<number>();
    const rng = new Rng(2);
    for (let i = 0; i < 50; i++) {
      const lines = implicationLines(p, p.passageOrder, rng, style);
      expect(lines.length).toBeGreaterThanOrEqual(1);
      counts.add(lines.length);
    }
    expect(counts.size).toBeGreaterThan(2);
  });
});

describe('pretraining mix', () => {
  it('has the requested number of documents of each kind, all framed by <bos> … <eos>', () => {
    const docs = pretrainingPass(world, tok, new Rng(3), mix);
    const count = (k: string) => docs.filter((d) => d.kind === k).length;
    expect(count('bio')).toBe(2 * 40);
    expect(count('qa')).toBe(2 * 30 * ATTRIBUTES.length);
    expect(count('implications')).toBe(50);
    for (const d of docs) {
      expect(d.ids[0]).toBe(tok.bosId);
      expect(d.ids[d.ids.length - 1]).toBe(tok.eosId);
    }
  });

  it('never mentions an RL or evaluation person', () => {
    const docs = pretrainingPass(world, tok, new Rng(4), mix);
    const text = docs.map((d) => tok.decode(d.ids)).join(' | ');
    for (const p of [...world.rl, ...world.eval]) expect(text.includes(p.name)).toBe(false);
  });

  it("asks only about QA people and writes implications that copy the passage's values", () => {
    const docs = pretrainingPass(world, tok, new Rng(5), mix);
    const qaNames = new Set(world.pretrain.slice(0, 30).map((p) => p.name));
    for (const d of docs.filter((x) => x.kind === 'qa')) {
      const text = tok.decode(d.ids);
      expect([...qaNames].some((n) => text.includes(n))).toBe(true);
    }
    for (const d of docs.filter((x) => x.kind === 'implications')) {
      const text = tok.decode(d.ids.slice(1, -1));
      const [prompt, completion] = text.split(' Implications : \n ');
      const passageWords = new Set(prompt.split(' '));
      for (const line of parseImplications(completion)) {
        const values = line.split(' ').filter((w) => ATTRIBUTES.some((a) => world.values[a.key].includes(w)));
        expect(values).toHaveLength(1);
        expect(passageWords.has(values[0])).toBe(true);
      }
    }
  });

  it('packs whole documents into rows with per-document segments, positions and loss mask', () => {
    const docs = pretrainingPass(world, tok, new Rng(6), mix);
    const rows = packDocuments(docs, 256, tok.padId);
    const packed = rows.flatMap((r) => {
      const out: number[][] = [];
      for (let t = 0; t < r.ids.length; t++) {
        if (r.segment[t] < 0) continue;
        if (r.position[t] === 0) out.push([]);
        out[out.length - 1].push(r.ids[t]);
        expect(r.segment[t]).toBe(out.length - 1);
      }
      return out;
    });
    expect(packed).toEqual(docs.map((d) => d.ids));
    for (const r of rows) {
      for (let t = 0; t + 1 < r.ids.length; t++) {
        const sameDoc = r.segment[t + 1] >= 0 && r.segment[t + 1] === r.segment[t];
        expect(r.lossMask[t]).toBe(sameDoc ? 1 : 0);
      }
    }
    // Greedy packing of shuffled documents wastes little of a row on average.
    const used = rows.reduce((n, r) => n + r.segment.filter((s) => s >= 0).length, 0);
    expect(used / (rows.length * 256)).toBeGreaterThan(0.8);
  });

  it('streams the same batches for the same seed', () => {
    const take = (seed: number) => {
      const it = pretrainingBatches(world, tok, { seed, mix, rowLength: 256, batchRows: 4 });
      return [it.next().value!, it.next().value!].flat().map((r) => Array.from(r.ids));
    };
    expect(take(7)).toEqual(take(7));
    expect(take(7)).not.toEqual(take(8));
  });

  it('keeps the QA answer as the last token before <eos>', () => {
    const p = world.pretrain[0];
    const q = questionsFor(p)[0];
    const docs = pretrainingPass(world, tok, new Rng(9), mix).filter((d) => d.kind === 'qa' && tok.decode(d.ids).includes(q.question));
    expect(docs.length).toBe(2);
    expect(docs[0].ids[docs[0].ids.length - 2]).toBe(tok.id(q.answer));
  });
});

describe("the recipe's pretraining corpus", () => {
  it('fits every document in a row and gives about 90k tokens per pass', () => {
    const w = generateWorld(TINY_WORLD);
    const t = new WordTokenizer(worldVocabulary(w));
    const docs = pretrainingPass(w, t, new Rng(0), TINY_PRETRAINING.mix);
    const rows = packDocuments(docs, TINY_PRETRAINING.rowLength, t.padId);
    const tokens = docs.reduce((n, d) => n + d.ids.length, 0);
    expect(tokens).toBeGreaterThan(70_000);
    expect(tokens).toBeLessThan(110_000);
    const perStep = TINY_PRETRAINING.batchRows * TINY_PRETRAINING.rowLength;
    // A pass lasts about 54 steps, so 2,000 steps are about 37 passes (74 bios per pretraining person).
    expect(rows.length / TINY_PRETRAINING.batchRows).toBeGreaterThan(40);
    expect(rows.length / TINY_PRETRAINING.batchRows).toBeLessThan(70);
    expect(tokens / (rows.length * TINY_PRETRAINING.rowLength)).toBeGreaterThan(0.8);
    expect(perStep).toBe(2056);
  });
});
