import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Tokenizer, loadTokenizer } from '../../src/io/tokenizer.ts';
import { collate, pack, readExamples, toExample } from '../../src/train/examples.ts';

const LLAMA3 = join(import.meta.dirname, '..', '..', 'node_modules', '@lenml', 'tokenizer-llama3', 'models');

describe('training examples', () => {
  let tok: Tokenizer;
  beforeAll(async () => {
    tok = await loadTokenizer(LLAMA3, { now: () => new Date('2024-07-26T12:00:00Z') });
  });

  it('prompt + completion: loss on the completion only, ending with EOS', () => {
    const e = toExample({ prompt: 'The capital of France is', completion: ' Paris.' }, tok, { loss: 'completion', appendEos: true });
    const prompt = tok.encode('The capital of France is');
    expect(e.ids.slice(0, prompt.length)).toEqual(prompt);
    expect(e.labels.slice(0, prompt.length).every((l) => l === -100)).toBe(true);
    expect(e.ids.at(-1)).toBe(tok.eosIds[0]);
    expect(tok.decode(e.labels.slice(prompt.length), { skipSpecial: true })).toBe(' Paris.');
  });

  it('chat: in completion mode only the assistant turn (content and end-of-turn) is scored', () => {
    const messages = [
      { role: 'user', content: 'Say hi' },
      { role: 'assistant', content: 'Hi there' },
    ];
    const e = toExample({ messages }, tok, { loss: 'completion', appendEos: false });
    const scored = e.labels.filter((l) => l !== -100);
    expect(tok.decode(scored)).toBe('Hi there<|eot_id|>');
    expect(e.ids.filter((id) => id === tok.bosId).length).toBe(1);
  });

  it('pre-tokenised lines keep their −100s and drop right padding', () => {
    const e = toExample({ input_ids: [1, 5, 6, 0, 0], labels: [-100, 5, 6, -100, -100], attention_mask: [1, 1, 1, 0, 0] }, null, {
      loss: 'all',
      appendEos: true,
    });
    expect(e).toEqual({ ids: [1, 5, 6], labels: [-100, 5, 6] });
  });

  it('reports the line number of a malformed line', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'data-')), 'bad.jsonl');
    writeFileSync(file, '{"text": "fine"}\n\n{"text": oops}\n');
    await expect(readExamples(file, tok, { loss: 'all', appendEos: true })).rejects.toThrow(`${file}:3: not valid JSON`);
    writeFileSync(file, '{"text": "fine"}\n{"foo": 1}\n');
    await expect(readExamples(file, tok, { loss: 'all', appendEos: true })).rejects.toThrow(`${file}:2: expected "text"`);
  });

  it('collates with right padding, −100 labels and a zero mask on the padding', () => {
    const b = collate(
      [
        { ids: [1, 2, 3], labels: [1, 2, 3] },
        { ids: [4], labels: [-100] },
      ],
      0,
    );
    expect(b).toEqual({
      ids: [
        [1, 2, 3],
        [4, 0, 0],
      ],
      labels: [
        [1, 2, 3],
        [-100, -100, -100],
      ],
      attentionMask: [
        [1, 1, 1],
        [1, 0, 0],
      ],
    });
  });

  it('packs examples back to back: own segments, positions from 0, no label across a boundary, rows padded to a multiple', () => {
    const b = pack(
      [
        [
          { ids: [1, 2, 3], labels: [1, 2, 3] },
          { ids: [4, 5], labels: [-100, 5] },
        ],
        [{ ids: [6], labels: [6] }],
        [],
      ],
      0,
      4,
    );
    expect(b.ids).toEqual([
      [1, 2, 3, 4, 5, 0, 0, 0],
      [6, 0, 0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 0, 0],
    ]);
    // The first label of each example is never a target (the previous token belongs to another example).
    expect(b.labels).toEqual([[-100, 2, 3, -100, 5, -100, -100, -100], [-100, -100, -100, -100, -100, -100, -100, -100], new Array(8).fill(-100)]);
    expect(b.positions).toEqual([
      [0, 1, 2, 0, 1, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 0, 0],
    ]);
    expect(b.segments).toEqual([
      [1, 1, 1, 2, 2, 0, 0, 0],
      [1, 0, 0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 0, 0],
    ]);
  });
});
