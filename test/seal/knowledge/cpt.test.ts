// Continued pretraining as SEAL ran it (cpt.ts): v1 = CPT.sh (k = 5 completions per passage, each followed
// by the passage, without split_newlines; LoRA; every question), v2 = full fine-tune, 1 epoch, lr 7e-5,
// the 500 questions CPT.py's --eval_question_limit draws. Corpus and question subset exactly; both modes
// end to end through `seal knowledge eval` on a tiny Qwen2.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CPT_RECIPES, cptCorpus, cptQuestions } from '../../../src/seal/knowledge/cpt.ts';
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
    expect(CPT_RECIPES.v2).toMatchObject({ completions: 5, questionLimit: 500, questionSeed: 43, training: { lr: 7e-5, epochs: 1, lora: null } });
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

  it('the 500-question subset: random.seed(43); random.shuffle(questions); the first 500', () => {
    // 974 questions (SEAL's 200 evaluation passages have 974): random.seed(43); x = list(range(974));
    // random.shuffle(x); x[:12] → 689, 286, 904, 643, 244, 893, 54, 177, 645, 299, 491, 911 (python3 3.11).
    const passages = Array.from({ length: 487 }, (_, i) => ({
      title: `t${i}`,
      context: `c${i}`,
      questions: [
        { question: 'a', answer: 'x' },
        { question: 'b', answer: 'y' },
      ],
    }));
    const picked = cptQuestions(passages, 500, 43);
    expect(picked).toHaveLength(500);
    const flat = (n: number): [number, number] => [Math.floor(n / 2), n % 2];
    expect(picked.slice(0, 12)).toEqual([689, 286, 904, 643, 244, 893, 54, 177, 645, 299, 491, 911].map(flat));
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
      // Mira: 2 non-empty completions × (1 segment + the passage); Tob: 1 × 2.
      expect(unit.trainSequences).toBe(6);
      expect(unit.questions).toEqual([
        [0, 0],
        [1, 0],
        [1, 1],
      ]);
      expect((unit.verdicts as boolean[]).length).toBe(3);
    });
  }
});
