import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARC_FIXED_TEXTS, ARC_SPECIAL, arcVocabulary } from '../../src/demo/arc-tokenizer.ts';
import { generateArcWorld } from '../../src/demo/arc-world.ts';
import type { Tokenizer } from '../../src/io/tokenizer.ts';
import { formatAnswer } from '../../src/seal/arc/grid-text.ts';
import { fewShotConversation } from '../../src/seal/arc/messages.ts';
import { policyPromptMessages } from '../../src/seal/arc/policy-prompt.ts';
import { ALL_TOOLS, NO_TOOLS } from '../../src/seal/arc/tools.ts';
import { formatSelfEdit } from '../../src/seal/arc/self-edit.ts';
import { temporaryArcTokenizer } from '../helpers/arc-tokenizer.ts';

const world = generateArcWorld({ seed: 3, trainTasks: 12, evalTasks: 0, maxSide: 5 });

describe('the tiny ARC model tokenizer', () => {
  let tok: Tokenizer;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ tok, dispose } = await temporaryArcTokenizer());
  });
  afterAll(() => dispose());

  it('gives each grid cell one token, the digit with its space or alone', () => {
    const grid = [
      [1, 0, 7],
      [3, 3, 9],
    ];
    const pieces = tok.encode(formatAnswer(grid), { addBos: false }).map((id) => tok.idToToken(id));
    expect(pieces).toEqual(['[[', '1 ', '0 ', '7', ']\n [', '3 ', '3 ', '9', ']]', '#']);
  });

  it('round-trips every text the ARC path writes: conversations, policy prompts, self-edits', () => {
    const configs = [
      { tools: ALL_TOOLS, strategy: 'train_using_output_tokens' as const, learningRate: 0.001, epochs: 2 },
      { tools: NO_TOOLS, strategy: 'train_using_all_tokens' as const, learningRate: 3e-5, epochs: 10 },
    ];
    for (const task of world.train) {
      const whole = { demonstrations: task.train, test: { input: task.test[0].input, output: task.test[0].output! } };
      const texts = [...fewShotConversation(whole), ...policyPromptMessages(task)].map((m) => m.content);
      for (const text of [...texts, ...configs.map(formatSelfEdit)]) {
        const ids = tok.encode(text, { addBos: false });
        expect(ids).not.toContain(tok.tokenToId(ARC_SPECIAL.unk));
        expect(tok.decode(ids)).toBe(text);
      }
    }
  });

  it('reads the fixed prompt texts and the self-edit JSON keys as single tokens', () => {
    for (const text of ARC_FIXED_TEXTS) expect(tok.encode(text, { addBos: false })).toHaveLength(1);
    // formatSelfEdit's layout: 14 pieces (the opening, 6 keys with their punctuation, 4 booleans, the
    // strategy, the closing), plus one character per digit of the numbers.
    const selfEdit = formatSelfEdit({ tools: ALL_TOOLS, strategy: 'train_using_output_tokens', learningRate: 0.001, epochs: 2 });
    expect(tok.encode(selfEdit, { addBos: false })).toHaveLength(14 + '0.001'.length + '2'.length);
  });

  it('renders the chat template with one <bos> and role markers, generation prompt <assistant>', () => {
    const ids = tok.encodeChat(
      [
        { role: 'system', content: 'Input:\n' },
        { role: 'user', content: '1 2' },
      ],
      { addGenerationPrompt: true },
    );
    expect(ids.map((id) => tok.idToToken(id))).toEqual(['<bos>', '<system>', 'Input:\n', '<eot>', '<user>', '1 ', '2', '<eot>', '<assistant>']);
    expect(tok.eosIds).toEqual([tok.tokenToId('<eot>')]);
  });

  it('has a vocabulary of control tokens, fixed texts, pieces and printable characters, each once', () => {
    const vocab = arcVocabulary();
    expect(new Set(vocab).size).toBe(vocab.length);
    expect(vocab.length).toBeLessThan(160);
  });
});
