// Continued pretraining as SEAL ran it (cpt.ts): v1 = CPT.sh (k = 5 completions per passage, each followed
// by the passage, without split_newlines; LoRA; every question), v2 = CPT_fullFT.sh (k = 5 sampled with
// random.seed(43), v2's build_train_sequences, the passage once per article; full fine-tune, 1 epoch,
// lr 7e-5, 4 × 2, warmup_ratio 0.03; the 500 questions CPT_fullFT.py draws with random.seed(42)). Corpus
// and question subset exactly; both modes end to end through `seal knowledge eval` on a tiny Qwen2.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CPT_RECIPES, cptCorpus, cptQuestions, cptWarmupSteps } from '../../../src/seal/knowledge/cpt.ts';
import { loadSelfEditPassages } from '../../../src/seal/knowledge/squad-data.ts';
import { finished, logOf, seal } from '../../helpers/cli.ts';
import { writeQwenTokenizer } from '../../helpers/qwen-tokenizer.ts';
import { writeTinyQwen2 } from '../../model/qwen2-models.ts';

const mira = { title: 'Mira', context: 'Mira is a red star.', questions: [{ question: 'What colour is Mira?', answer: 'red' }] };
const tob = {
  title: 'Tob',
  context: 'Tob is a moon.\nIt is cold.',
  questions: [
    { question: 'What is Tob?', answer: 'a moon' },
    { question: 'Is Tob cold?', answer: 'yes' },
  ],
};

describe('CPT corpus and questions', () => {
  it('v1 and v2: five completions, a LoRA for v1 and a full fine-tune for v2', () => {
    expect(CPT_RECIPES.v1).toMatchObject({
      completions: 5,
      questionLimit: null,
      training: { lr: 1e-3, epochs: 3, batchSize: 4, gradAccum: 2, lora: { r: 32, alpha: 64, targets: ['q_proj', 'v_proj'] } },
    });
    // v2: general-knowledge/scripts/CPT_fullFT.sh l. 30–31 (batch 4 × 2, lr 7e-5, 1 epoch), CPT_fullFT.py
    // l. 96 (warmup_ratio 0.03) and l. 190–193 (random.seed(42)). The seed was 43 here before: CPT.py's
    // (v1) seed, which CPT_fullFT.py does not use.
    expect(CPT_RECIPES.v2).toMatchObject({
      completions: 5,
      corpus: 'v2',
      warmupRatio: 0.03,
      questionLimit: 500,
      questionSeed: 42,
      training: { lr: 7e-5, epochs: 1, batchSize: 4, gradAccum: 2, lora: null },
    });
    expect(CPT_RECIPES.v1).toMatchObject({ corpus: 'v1', warmupRatio: 0 });
  });

  it("v2's warm-up: Hugging Face's ceil(0.03 × optimiser steps), as the note computed for transformers 4.52", () => {
    // notes/seal-fidelity.md, point 1: 1,200 sequences → 150 steps, 5 warm-up; 1,282 → 160, 5; 200 → 25, 1.
    expect(cptWarmupSteps(1200, CPT_RECIPES.v2)).toBe(5);
    expect(cptWarmupSteps(1282, CPT_RECIPES.v2)).toBe(5);
    expect(cptWarmupSteps(200, CPT_RECIPES.v2)).toBe(1);
    expect(cptWarmupSteps(2000, CPT_RECIPES.v1)).toBe(0);
  });

  it("each completion whole (its `---` segments) then the passage, as build_train_sequences without split_newlines; no completion: CPT.py's [''], i.e. the bare title, then the passage", () => {
    expect(cptCorpus([mira, tob], [['Mira is red.\nIt glows.', 'A --- B'], []])).toEqual([
      'Mira\nMira is red.\nIt glows.',
      'Mira\nMira is a red star.',
      'Mira\nA',
      'Mira\nB',
      'Mira\nMira is a red star.',
      'Tob\n',
      'Tob\nTob is a moon.\nIt is cold.',
    ]);
  });

  it("v2's corpus: random.sample(5) seeded 43 across passages, text after Implications:, ≤ 30 segments, empty dropped, the passage once", () => {
    // Expected values: SEAL's general-knowledge/src/utils.py build_train_sequences and the corpus loop of
    // src/query/CPT_fullFT.py (l. 145–177), copied into a throwaway script and run with /usr/bin/python3
    // 3.11.2 on this fixture: 40 sequences, listed below.
    const fixture = [
      {
        title: 'Mira',
        context: ' Mira is a red star. ',
        completions: [
          '',
          'Sure.\nImplications:\n  Mira is red.\nIt glows.',
          'A --- B',
          'C',
          Array.from({ length: 35 }, (_, i) => `s${i}`).join(' --- '),
          'D',
          'E',
        ],
      },
      { title: 'Tob', context: 'Tob is a moon.\nIt is cold.', completions: [] as string[] },
      { title: 'Kel', context: 'Kel is a comet.', completions: ['one --- two', '   '] },
    ];
    const passages = fixture.map(({ title, context }) => ({ title, context, questions: [] }));
    const nonEmpty = fixture.map((p) => p.completions.filter((c) => c.trim() !== ''));
    const corpus = cptCorpus(passages, nonEmpty, CPT_RECIPES.v2);
    expect(corpus).toEqual([
      'Mira\nMira is red.\nIt glows.',
      'Mira\nMira is a red star.',
      'Mira\nC',
      'Mira\nA',
      'Mira\nB',
      ...Array.from({ length: 30 }, (_, i) => `Mira\ns${i}`),
      'Mira\nD',
      'Tob\nTob is a moon.\nIt is cold.',
      'Kel\none',
      'Kel\ntwo',
      'Kel\nKel is a comet.',
    ]);
    expect(corpus).toHaveLength(40);
    // k = 0 (SEAL's passage-only run): each passage once.
    expect(cptCorpus(passages, nonEmpty, { ...CPT_RECIPES.v2, completions: 0 })).toEqual([
      'Mira\nMira is a red star.',
      'Tob\nTob is a moon.\nIt is cold.',
      'Kel\nKel is a comet.',
    ]);
  });

  const SELF_EDITS = resolve(import.meta.dirname, '../../../../shared/data/squad/self-edits');
  it.skipIf(!existsSync(SELF_EDITS))("corpus sizes on SEAL's self-edit files (first 200 passages), v1 and v2, as SEAL's result files record", () => {
    // Sizes: `train_sequences` in SEAL's knowledge-incorporation/results/cpt/cpt_*.json (v1) and
    // general-knowledge/results/cpt/200/*.json (v2), recomputed on these files in notes/seal-fidelity.md
    // (point 1). The first and last sequences (their first 80 characters) come from the same throwaway
    // Python script as the fixture above.
    const expected: Record<string, { v1: number; v2: number; first: string; last: string }> = {
      base_val: {
        v1: 2000,
        v2: 1200,
        first: "Genghis Khan\n1. The Shah's decision to fragment his army led to its downfall, as",
        last: 'Construction\n1. Small renovations are common in construction projects.\n2. Proper',
      },
      iter1_val: {
        v1: 2000,
        v2: 1200,
        first: "Genghis Khan\n1. Genghis Khan's army's ability to split and defeat small factions",
        last: 'Construction\n1. Building construction projects are common and can range from sma',
      },
      iter2_val: {
        v1: 2000,
        v2: 1200,
        first: "Genghis Khan\n1. The fragmentation of the Shah's army due to internal conflicts a",
        last: 'Construction\n1. Building construction is a complex process that requires careful',
      },
      gpt4_1_val: {
        v1: 2082,
        v2: 1282,
        first: 'Genghis Khan\n**Implications:**\n\n1. The Shah\u2019s army suffered from internal divisi',
        last: 'Construction\n**Implications:**\n\n1. **Building construction involves both new str',
      },
    };
    // The 500 questions on SEAL's evaluation passages (naive_val.json's first 200, as base_val.json's), as
    // [passage, question] in CPT order: (139, 4), (12, 4), (61, 2), (193, 2), (123, 2), from 194 passages
    // (notes/seal-fidelity.md, point 1).
    const evalPassages = loadSelfEditPassages(join(SELF_EDITS, 'base_val.json')).slice(0, 200);
    const subset = cptQuestions(evalPassages, 500, CPT_RECIPES.v2.questionSeed);
    expect(subset.slice(0, 5)).toEqual([
      [139, 4],
      [12, 4],
      [61, 2],
      [193, 2],
      [123, 2],
    ]);
    expect(new Set(subset.map(([i]) => i)).size).toBe(194);
    for (const [name, want] of Object.entries(expected)) {
      const passages = loadSelfEditPassages(join(SELF_EDITS, `${name}.json`)).slice(0, 200);
      const completions = passages.map((p) => p.completions.filter((c) => c.trim() !== ''));
      expect(cptCorpus(passages, completions, CPT_RECIPES.v1), name).toHaveLength(want.v1);
      const v2 = cptCorpus(passages, completions, CPT_RECIPES.v2);
      expect(v2, name).toHaveLength(want.v2);
      expect([v2[0].slice(0, 80), v2[v2.length - 1].slice(0, 80)], name).toEqual([want.first, want.last]);
      if (name === 'base_val') {
        const none = passages.map(() => []);
        expect(cptCorpus(passages, none, CPT_RECIPES.v1)).toHaveLength(400);
        expect(cptCorpus(passages, none, CPT_RECIPES.v2)).toHaveLength(200);
      }
    }
  });

  it("v2's 500-question subset: CPT_fullFT.py's random.seed(42); random.shuffle(questions); the first 500", () => {
    // 974 questions (SEAL's 200 evaluation passages have 974): random.seed(42); x = list(range(974));
    // random.shuffle(x); x[:12] → 676, 53, 289, 943, 595, 409, 150, 221, 490, 374, 49, 364 and
    // sum(x[:500]) = 239884 (notes/seal-fidelity.md, point 1; rerun with /usr/bin/python3 3.11.2).
    const passages = Array.from({ length: 487 }, (_, i) => ({
      title: `t${i}`,
      context: `c${i}`,
      questions: [
        { question: 'a', answer: 'x' },
        { question: 'b', answer: 'y' },
      ],
    }));
    const picked = cptQuestions(passages, 500, CPT_RECIPES.v2.questionSeed);
    expect(picked).toHaveLength(500);
    const flat = (n: number): [number, number] => [Math.floor(n / 2), n % 2];
    expect(picked.slice(0, 12)).toEqual([676, 53, 289, 943, 595, 409, 150, 221, 490, 374, 49, 364].map(flat));
    expect(picked.reduce((sum, [i, q]) => sum + 2 * i + q, 0)).toBe(239884);
    expect(cptQuestions([mira, tob], null, 43)).toEqual([
      [0, 0],
      [1, 0],
      [1, 1],
    ]);
    expect(cptQuestions([mira, tob], 500, 43)).toEqual([
      [0, 0],
      [1, 0],
      [1, 1],
    ]); // fewer than the limit: all
  });
});

describe('cpt:<condition> through seal knowledge eval, both modes', async () => {
  const work = mkdtempSync(join(tmpdir(), 'cpt-'));
  const { dir: model } = await writeTinyQwen2({ tied: true, dtype: 'bfloat16', seed: 12, vocabSize: 259, maxPositions: 512 });
  writeQwenTokenizer(model);
  const selfEdits = join(work, 'self-edits.json');
  writeFileSync(
    selfEdits,
    JSON.stringify([
      { ...mira, completions: ['Mira is red.', '', 'Mira glows red.'] },
      { ...tob, completions: ['Tob is a cold moon.'] },
    ]),
  );

  for (const mode of ['v1', 'v2'] as const) {
    it(`--cpt ${mode}`, async () => {
      const run = join(work, mode);
      const result = await finished(
        seal([
          'knowledge',
          'eval',
          '--model',
          model,
          '--eval-data',
          selfEdits,
          '--run',
          run,
          '--eval-count',
          '2',
          '--self-edits',
          `x=${selfEdits}`,
          '--conditions',
          'cpt:self-edits:x',
          '--cpt',
          mode,
          '--answer-tokens',
          '4',
        ]),
      );
      expect(result.code, result.stderr).toBe(0);
      const [unit] = logOf(run).filter((r) => r.kind === 'evaluation');
      expect(unit).toMatchObject({ condition: 'cpt:self-edits:x', mode });
      // v1, Mira: 2 non-empty completions × (1 segment + the passage); Tob: 1 × 2. v2: the passage once
      // per passage, so Mira 2 + 1, Tob 1 + 1.
      expect(unit.trainSequences).toBe(mode === 'v1' ? 6 : 5);
      expect(unit.questions).toEqual([
        [0, 0],
        [1, 0],
        [1, 1],
      ]);
      expect((unit.verdicts as boolean[]).length).toBe(3);
      // The baseline: the unadapted policy on the same questions, micro over them.
      expect((unit.baselineVerdicts as boolean[]).length).toBe(3);
      expect(unit.baselineAccuracy).toBe((unit.baselineVerdicts as boolean[]).filter(Boolean).length / 3);
    });
  }
});
