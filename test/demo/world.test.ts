import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/random.ts';
import { ATTRIBUTES } from '../../src/demo/world-schema.ts';
import { allRestatements, bioText, exercisePerson, generateWorld, passageText, questionsFor, restatement } from '../../src/demo/world.ts';

describe('tiny world', () => {
  const world = generateWorld({ seed: 3 });

  it('is the same for the same seed and differs for another', () => {
    const again = generateWorld({ seed: 3 });
    expect(again).toEqual(world);
    const other = generateWorld({ seed: 4 });
    expect(other.eval.map((p) => p.name)).not.toEqual(world.eval.map((p) => p.name));
  });

  it('has the requested split sizes', () => {
    const o = world.options;
    expect(world.pretrain).toHaveLength(o.pretrainPeople);
    expect(world.rl).toHaveLength(o.rlPeople);
    expect(world.eval).toHaveLength(o.evalPeople);
  });

  it('never shares a person between pretraining, RL, evaluation and exercise names', () => {
    const names = (ps: { name: string }[]) => new Set(ps.map((p) => p.name));
    const pre = names(world.pretrain);
    const rl = names(world.rl);
    const ev = names(world.eval);
    const ex = new Set(world.exerciseNames.map(([f, l]) => `${f} ${l}`));
    expect(pre.size + rl.size + ev.size).toBe(world.pretrain.length + world.rl.length + world.eval.length);
    for (const n of rl) expect(pre.has(n) || ev.has(n) || ex.has(n)).toBe(false);
    for (const n of ev) expect(pre.has(n) || ex.has(n)).toBe(false);
    for (const n of pre) expect(ex.has(n)).toBe(false);
    const rng = new Rng(1);
    for (let i = 0; i < 200; i++) {
      const p = exercisePerson(world, rng);
      expect(pre.has(p.name) || rl.has(p.name) || ev.has(p.name)).toBe(false);
    }
  });

  it('keeps every name part and value pool disjoint, one token per word', () => {
    const pools = [world.firstNames, world.lastNames, ...ATTRIBUTES.map((a) => world.values[a.key])];
    const all = pools.flat();
    expect(new Set(all).size).toBe(all.length);
    for (const w of all) expect(w).toMatch(/^\S+$/);
  });

  it('writes a passage that states every fact once, naming the person first then using the pronoun', () => {
    const p = world.eval[0];
    const sentences = p.passage.split(' . ').map((s) => s.replace(/ \.$/, ''));
    expect(sentences).toHaveLength(ATTRIBUTES.length);
    expect(sentences[0].startsWith(p.name)).toBe(true);
    for (const s of sentences.slice(1)) expect(s.startsWith(p.pronoun)).toBe(true);
    for (const a of ATTRIBUTES) expect(p.passage.split(' ')).toContain(p.values[a.key]);
    expect([...p.passageOrder].sort()).toEqual(ATTRIBUTES.map((a) => a.key).sort());
    const again = passageText(p, new Rng(5)).text;
    expect(
      again
        .split(' ')
        .filter((w) => Object.values(p.values).includes(w))
        .sort(),
    ).toEqual(Object.values(p.values).sort());
  });

  it('writes restatements with the full name and the value, and bios with every fact', () => {
    const p = world.pretrain[0];
    const lines = allRestatements(p);
    expect(lines).toHaveLength(ATTRIBUTES.reduce((n, a) => n + a.restatementForms.length, 0));
    for (const l of lines) expect(l).toContain(p.name);
    expect(restatement(p, 'major', 0)).toBe(`The major of ${p.name} was ${p.values.major} .`);
    const bio = bioText(p, new Rng(2));
    for (const a of ATTRIBUTES) expect(bio.split(' ')).toContain(p.values[a.key]);
    expect(bio.startsWith(p.name)).toBe(true);
  });

  it('asks one question per attribute with the value as the answer', () => {
    const p = world.eval[1];
    const qs = questionsFor(p);
    expect(qs.map((q) => q.attribute)).toEqual(ATTRIBUTES.map((a) => a.key));
    for (const q of qs) {
      expect(q.question).toContain(p.name);
      expect(q.question.endsWith('Answer :')).toBe(true);
      expect(q.answer).toBe(p.values[q.attribute]);
    }
  });
});
