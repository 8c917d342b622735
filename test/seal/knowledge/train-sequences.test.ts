import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSelfEditPassages } from '../../../src/seal/knowledge/squad-data.ts';
import { SEAL_INNER_LOOP, containmentGrader, sealFormat } from '../../../src/seal/knowledge/domain.ts';
import { KnowledgeRun, type KnowledgeRunConfig } from '../../../src/seal/knowledge/run.ts';
import { SEAL_V2_SEQUENCES, buildTrainSequences } from '../../../src/seal/knowledge/train-sequences.ts';
import type { Policy } from '../../../src/seal/policy.ts';
import type { RunDir } from '../../../src/seal/run-dir.ts';
import { pySplitLines, pyStrip } from '../../../src/seal/knowledge/python-text.ts';

// SEAL's SQuAD files, read from the shared data folder next to the project; tests on them skip without it.
const SQUAD_DIR = resolve(import.meta.dirname, '../../../../shared/data/squad');
const HAVE_SQUAD = existsSync(SQUAD_DIR);
if (!HAVE_SQUAD) console.warn(`SKIPPING tests on SEAL's SQuAD files: ${SQUAD_DIR} not found`);

const T = { title: 'T', context: ' ctx ' };

describe('buildTrainSequences (SEAL build_train_sequences, split_newlines on)', () => {
  it('makes one "{title}\\n{line}" per non-empty stripped line and appends the stripped passage', () => {
    expect(buildTrainSequences('1. a \n\n  2. b\n', T)).toEqual(['T\n1. a', 'T\n2. b', 'T\nctx']);
  });

  it('drops a preamble line when the second line starts with "1."', () => {
    expect(buildTrainSequences('Sure:\n1. a\n2. b', T)).toEqual(['T\n1. a', 'T\n2. b', 'T\nctx']);
    // Only then: a preamble followed by something else stays.
    expect(buildTrainSequences('Sure:\nHeading\n1. a', T)).toEqual(['T\nSure:', 'T\nHeading', 'T\n1. a', 'T\nctx']);
  });

  it('splits on --- and drops the separators', () => {
    expect(buildTrainSequences('a\n---\nb', T)).toEqual(['T\na', 'T\nb', 'T\nctx']);
  });

  it('keeps a completion of only separators as "---", as SEAL does', () => {
    expect(buildTrainSequences(' --- ', T)).toEqual(['T\n---', 'T\nctx']);
  });

  it('splits on every line break Python knows', () => {
    expect(buildTrainSequences('a\x1cb\x85c\u2028d\r\ne \x1f', T)).toEqual(['T\na', 'T\nb', 'T\nc', 'T\nd', 'T\ne', 'T\nctx']);
  });

  it('splits a self-QA completion before each "Question N:" and restores "Question 1: "', () => {
    const completion = 'What is X?\nAnswer: Y\nQuestion 2: What is Z?\nAnswer: W\n\nQuestion 3: Q?\nAnswer: R ---';
    expect(buildTrainSequences(completion, T)).toEqual([
      'T\nQuestion 1: What is X?\nAnswer: Y',
      'T\nQuestion 2: What is Z?\nAnswer: W\n',
      'T\nQuestion 3: Q?\nAnswer: R ---',
      'T\nctx',
    ]);
  });

  it('without split_newlines keeps whole --- segments', () => {
    expect(buildTrainSequences('a\n---\nb\n\nc', T, { splitNewlines: false })).toEqual(['T\na', 'T\nb\n\nc', 'T\nctx']);
  });
});

describe("build_train_sequences v2 (general-knowledge/src/utils.py l. 193–237, CPT v2's)", () => {
  it('keeps only the text after the first "\\nImplications:" and any whitespace after it, left-stripped', () => {
    expect(buildTrainSequences('Intro\nImplications:\u3000 a --- b\nImplications: c', T, SEAL_V2_SEQUENCES)).toEqual([
      'T\na',
      'T\nb\nImplications: c',
      'T\nctx',
    ]);
    // Without the preceding line break it is no marker; v1 never looks for it.
    expect(buildTrainSequences('Implications: a', T, SEAL_V2_SEQUENCES)).toEqual(['T\nImplications: a', 'T\nctx']);
    expect(buildTrainSequences('x\nImplications: a', T, { splitNewlines: false })).toEqual(['T\nx\nImplications: a', 'T\nctx']);
  });

  it('caps a completion at 30 segments (MAX_TRAIN_SEQS_PER_COMPLETION), drops empty ones, and appends the passage only with addContext', () => {
    const many = Array.from({ length: 31 }, (_, i) => `s${i}`).join('---');
    expect(buildTrainSequences(many, T, SEAL_V2_SEQUENCES)).toHaveLength(31); // 30 + the passage
    expect(buildTrainSequences(many, T, { splitNewlines: false })).toHaveLength(32); // v1: no cap
    expect(buildTrainSequences('', T, SEAL_V2_SEQUENCES)).toEqual(['T\nctx']); // v1: ['T\n', 'T\nctx']
    expect(buildTrainSequences('', T, { splitNewlines: false })).toEqual(['T\n', 'T\nctx']);
    expect(buildTrainSequences('a', T, { ...SEAL_V2_SEQUENCES, addContext: false })).toEqual(['T\na']);
  });
});

describe("the E-step's split_newlines per round (SEAL: rank_iter0.json true, rank_iter1.json false)", () => {
  const passage = { title: 'T', context: 'ctx', questions: [] };
  const selfEdit = '1. a\n2. b';
  const domainOf = (eStepSplitNewlines?: boolean[]) => {
    const config = {
      trainPassages: [],
      evalPassages: [],
      passagesPerRound: 2,
      conditions: [],
      evalSeeds: 1,
      selfEditFiles: {},
      restEm: { sampling: {} },
      eStepSplitNewlines,
    } as unknown as KnowledgeRunConfig;
    return new KnowledgeRun({ tokenizer: {} } as Policy, sealFormat(), SEAL_INNER_LOOP, containmentGrader, config, {} as RunDir).domain;
  };

  it('round 1 (training passages 0, 1) splits lines, round 2 (2, 3) and later rounds do not, with the default true,false', () => {
    const domain = domainOf([true, false]);
    const split = ['T\n1. a', 'T\n2. b', 'T\nctx'];
    const whole = ['T\n1. a\n2. b', 'T\nctx'];
    expect([0, 1, 2, 3, 4, 9].map((index) => domain.innerLoopTexts({ index, passage }, selfEdit))).toEqual([split, split, whole, whole, whole, whole]);
    // Evaluation (and continual) sequences keep split_newlines, as SEAL's evaluations ran.
    expect(domain.sequences({ index: 2, passage }, selfEdit)).toEqual(split);
  });

  it("unset: the format's default (split) in every round", () => {
    expect(domainOf().innerLoopTexts({ index: 3, passage }, selfEdit)).toEqual(['T\n1. a', 'T\n2. b', 'T\nctx']);
  });
});

describe('Python string semantics', () => {
  it('strips what Python strips', () => {
    expect(pyStrip('\x1c\x85 a \u3000')).toBe('a');
    expect(pyStrip('\ufeffa')).toBe('\ufeffa'); // not whitespace to Python
    expect(pySplitLines('a\n')).toEqual(['a']);
    expect(pySplitLines('')).toEqual([]);
    expect(pySplitLines('a\n\nb')).toEqual(['a', '', 'b']);
  });
});

describe.skipIf(!HAVE_SQUAD)("on SEAL's published self-edits", () => {
  it('base model, Genghis Khan, self-edit 2: ten implications and the passage', () => {
    const passage = loadSelfEditPassages(`${SQUAD_DIR}/self-edits/base_val.json`)[0];
    const sequences = buildTrainSequences(passage.completions[1], passage);
    expect(sequences).toHaveLength(11);
    expect(sequences[0]).toBe(
      "Genghis Khan\n1. Internal conflicts within the Shah's army weakened its overall strength and ability to effectively resist the Mongol invasion.",
    );
    expect(sequences[9]).toBe(
      "Genghis Khan\n10. The enslavement of the rest of the population reflects the Mongols' intention to subjugate the conquered territories and maintain control over the local populations.",
    );
    expect(sequences[10].startsWith("Genghis Khan\nThe Shah's army was split by diverse internecine feuds")).toBe(true);
    expect(sequences[10].endsWith('on a small island within his empire.')).toBe(true);
  });

  it('GPT-4.1, Genghis Khan, self-edit 1: the "**Implications:**" heading is dropped', () => {
    const passage = loadSelfEditPassages(`${SQUAD_DIR}/self-edits/gpt4_1_val.json`)[0];
    const sequences = buildTrainSequences(passage.completions[0], passage);
    expect(sequences).toHaveLength(15);
    expect(sequences[0]).toBe('Genghis Khan\n1. The Shah’s army suffered from internal divisions and feuding, weakening their overall effectiveness.');
  });

  it('GPT-4.1, European Union law, self-edit 1: --- rules split it, the chatty preamble stays', () => {
    const passage = loadSelfEditPassages(`${SQUAD_DIR}/self-edits/gpt4_1_val.json`)[1];
    const sequences = buildTrainSequences(passage.completions[0], passage);
    expect(sequences).toHaveLength(24);
    expect(sequences.slice(0, 4)).toEqual([
      'European Union law\nCertainly! Here is a list of implications directly or indirectly derived from the passage about European Union law and the legal status of Treaties, Regulations, and Directives:',
      'European Union law\n**Implications:**',
      'European Union law\n1. **Direct Effect of Treaties and Regulations:**',
      'European Union law\n- If EU Treaties and Regulations are clear, unconditional, and immediate in their terms, individuals can rely on them directly in their national courts without further national legislation.',
    ]);
    expect(sequences[22]).toBe(
      'European Union law\nIf you would like to explore the five exceptions or discuss any of these implications in further detail, please let me know!',
    );
    expect(sequences.some((s) => s.includes('---'))).toBe(false);
  });
});
