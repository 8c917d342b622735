import { describe, expect, it } from 'vitest';
import { ORACLE_SELF_EDIT, formatSelfEdit, parseSelfEdit, selfEditKey } from '../../../src/seal/arc/self-edit.ts';

const full = {
  data_generation: {
    use_basic_augmentations: true,
    use_size_augmentations: false,
    use_chain_augmentations: true,
    use_repeat_augmentations: false,
  },
  training: { strategy: 'train_using_output_tokens', learning_rate: 5e-5, num_train_epochs: 3 },
};
const noTools = { basic: false, size: false, chain: false, repeat: false };

function withTraining(training: Record<string, unknown>): string {
  return JSON.stringify({ ...full, training });
}

describe('parseSelfEdit: SEAL json.loads of the whole completion', () => {
  it('reads a complete configuration', () => {
    const result = parseSelfEdit(`\n${JSON.stringify(full, null, 2)}\n`);
    expect(result.parsed).toBe(true);
    expect(result.fallbacks).toEqual([]);
    expect(result.config).toEqual({
      tools: { basic: true, size: false, chain: true, repeat: false },
      strategy: 'train_using_output_tokens',
      learningRate: 5e-5,
      epochs: 3,
    });
  });

  it('does not dig JSON out of prose or markdown: SEAL samples again', () => {
    for (const text of ['```json\n' + JSON.stringify(full) + '\n```', 'Here it is: ' + JSON.stringify(full), '', '{"data_generation": ']) {
      const result = parseSelfEdit(text);
      expect(result.parsed).toBe(false);
      expect(result.config).toEqual({ tools: noTools, strategy: 'train_using_all_tokens', learningRate: 0, epochs: 0 });
    }
  });

  it('counts JSON that is not an object as unparsed', () => {
    expect(parseSelfEdit('[1, 2]').parsed).toBe(false);
    expect(parseSelfEdit('3').parsed).toBe(false);
    expect(parseSelfEdit('null').parsed).toBe(false);
  });
});

describe("parseSelfEdit: SEAL's fallbacks (no augmentation, 0 epochs)", () => {
  it('a missing data_generation: no tools and 0 epochs, training otherwise kept', () => {
    const result = parseSelfEdit(JSON.stringify({ training: full.training }));
    expect(result.parsed).toBe(true);
    expect(result.config).toEqual({ tools: noTools, strategy: 'train_using_output_tokens', learningRate: 5e-5, epochs: 0 });
    expect(result.fallbacks).toHaveLength(1);
    expect(result.fallbacks[0]).toMatch(/data_generation needs booleans use_basic_augmentations, use_size_augmentations/);
  });

  it('a tool switch that is missing or not a boolean', () => {
    const { use_repeat_augmentations: _, ...three } = full.data_generation;
    expect(parseSelfEdit(JSON.stringify({ ...full, data_generation: three })).config).toMatchObject({ tools: noTools, epochs: 0 });
    const stringly = { ...full, data_generation: { ...full.data_generation, use_basic_augmentations: 'true' } };
    const result = parseSelfEdit(JSON.stringify(stringly));
    expect(result.config).toMatchObject({ tools: noTools, epochs: 0 });
    expect(result.fallbacks[0]).toMatch(/needs booleans use_basic_augmentations:/);
  });

  it('a training block missing a field: all tokens, learning rate 0, 0 epochs', () => {
    const result = parseSelfEdit(withTraining({ strategy: 'train_using_output_tokens', num_train_epochs: 2 }));
    expect(result.config).toEqual({
      tools: { basic: true, size: false, chain: true, repeat: false },
      strategy: 'train_using_all_tokens',
      learningRate: 0,
      epochs: 0,
    });
    expect(result.fallbacks).toEqual(['training lacks learning_rate: strategy train_using_all_tokens, learning rate 0, 0 epochs']);
    expect(parseSelfEdit(JSON.stringify({ data_generation: full.data_generation })).config.epochs).toBe(0);
  });

  it('an unknown strategy: 0 epochs', () => {
    const result = parseSelfEdit(withTraining({ strategy: 'train_hard', learning_rate: 1e-4, num_train_epochs: 2 }));
    expect(result.config).toMatchObject({ strategy: 'train_using_all_tokens', learningRate: 1e-4, epochs: 0 });
    expect(result.fallbacks).toHaveLength(1);
  });

  it('a learning rate or epoch count that is not a non-negative number: 0 epochs', () => {
    for (const training of [
      { strategy: 'train_using_all_tokens', learning_rate: '1e-4', num_train_epochs: 2 },
      { strategy: 'train_using_all_tokens', learning_rate: -0.1, num_train_epochs: 2 },
      { strategy: 'train_using_all_tokens', learning_rate: 1e-4, num_train_epochs: -1 },
      { strategy: 'train_using_all_tokens', learning_rate: 1e-4, num_train_epochs: 'two' },
    ]) {
      const result = parseSelfEdit(withTraining(training));
      expect(result.parsed).toBe(true);
      expect(result.config.epochs).toBe(0);
      expect(result.fallbacks).toHaveLength(1);
    }
  });
});

describe('self-edit helpers', () => {
  it('the oracle: every tool, loss on the answer, lr 1e-4, 2 epochs', () => {
    expect(ORACLE_SELF_EDIT).toEqual({
      tools: { basic: true, size: true, chain: true, repeat: true },
      strategy: 'train_using_output_tokens',
      learningRate: 1e-4,
      epochs: 2,
    });
  });

  it('formatSelfEdit writes the layout the prompt asks for, and parses back', () => {
    const text = formatSelfEdit(ORACLE_SELF_EDIT);
    expect(JSON.parse(text)).toEqual({
      data_generation: {
        use_basic_augmentations: true,
        use_size_augmentations: true,
        use_chain_augmentations: true,
        use_repeat_augmentations: true,
      },
      training: { strategy: 'train_using_output_tokens', learning_rate: 0.0001, num_train_epochs: 2 },
    });
    expect(parseSelfEdit(text).config).toEqual(ORACLE_SELF_EDIT);
  });

  it('selfEditKey: the same configuration in another key order or number spelling is a repeat', () => {
    const reordered =
      '{"training": {"num_train_epochs": 3, "learning_rate": 0.00005, "strategy": "train_using_output_tokens"},' +
      ' "data_generation": {"use_repeat_augmentations": false, "use_chain_augmentations": true,' +
      ' "use_size_augmentations": false, "use_basic_augmentations": true}}';
    expect(selfEditKey(parseSelfEdit(reordered))).toBe(selfEditKey(parseSelfEdit(JSON.stringify(full))));
    expect(selfEditKey(parseSelfEdit(withTraining({ ...full.training, num_train_epochs: 4 })))).not.toBe(selfEditKey(parseSelfEdit(JSON.stringify(full))));
  });
});
