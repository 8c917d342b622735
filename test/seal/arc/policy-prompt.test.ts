import { describe, expect, it } from 'vitest';
import { findArcTask, loadArcTasks } from '../../../src/seal/arc/arc-data.ts';
import { POLICY_SYSTEM_MESSAGE, SELF_EDIT_TOOL_PROMPT, policyPromptMessages } from '../../../src/seal/arc/policy-prompt.ts';
import { HAVE_ARC, TRAINING_CHALLENGES } from './shared-arc.ts';

describe('the self-edit tool prompt (SEAL few-shot/utils/prompts.py)', () => {
  it('is the Python triple-quoted string verbatim: opening line break, em dashes, closing "}\\n"', () => {
    expect(
      SELF_EDIT_TOOL_PROMPT.startsWith(
        '\nYou are configuring a model training pipeline by selecting from predefined tools.\n\nYou must make two decisions:\n\n',
      ),
    ).toBe(true);
    expect(SELF_EDIT_TOOL_PROMPT).toContain(
      '1. **Data Generation Tools** \u2014 For each of the following, choose true or false:\n    - use_basic_augmentations\n',
    );
    expect(SELF_EDIT_TOOL_PROMPT).toContain(
      '2. **Training Configuration** \u2014 Choose one of:\n    - "train_using_all_tokens"\n    - "train_using_output_tokens"\n',
    );
    expect(SELF_EDIT_TOOL_PROMPT).toContain(
      'Use lowercase `true`/`false` for booleans and ensure correct JSON syntax.\n\nExample output:\n\n{\n  "data_generation": {\n',
    );
    expect(SELF_EDIT_TOOL_PROMPT.endsWith('    "num_train_epochs": ...\n  }\n}\n')).toBe(true);
  });

  it('has the system message verbatim', () => {
    expect(POLICY_SYSTEM_MESSAGE).toBe('You are a helpful assistant that provide the correct output for the given task immediately.');
  });

  it('shows every demonstration as digit rows, then the rule, then the tools, and never the test input', () => {
    const task = {
      id: 'x',
      train: [
        { input: [[1, 2]], output: [[3], [4]] },
        { input: [[5]], output: [[6]] },
      ],
      test: [{ input: [[9, 9, 9]] }],
    };
    const [system, user] = policyPromptMessages(task);
    expect(system).toEqual({ role: 'system', content: POLICY_SYSTEM_MESSAGE });
    expect(user.role).toBe('user');
    expect(user.content).toBe('Input:\n1 2\n\nOutput:\n3\n4\n\nInput:\n5\n\nOutput:\n6\n\n------\n\n' + SELF_EDIT_TOOL_PROMPT);
    expect(user.content).not.toContain('9 9 9');
  });
});

describe.skipIf(!HAVE_ARC)('the policy prompt for task 6150a2bd, read from the shared data', () => {
  it('begins with the first demonstration byte for byte', () => {
    const task = findArcTask(loadArcTasks(TRAINING_CHALLENGES), '6150a2bd');
    const user = policyPromptMessages(task)[1].content;
    expect(user.startsWith('Input:\n3 3 8\n3 7 0\n5 0 0\n\nOutput:\n0 0 5\n0 7 3\n8 3 3\n\n')).toBe(true);
    expect(user).toBe(
      'Input:\n3 3 8\n3 7 0\n5 0 0\n\nOutput:\n0 0 5\n0 7 3\n8 3 3\n\n' +
        'Input:\n5 5 2\n1 0 0\n0 0 0\n\nOutput:\n0 0 0\n0 0 1\n2 5 5\n\n' +
        '------\n\n' +
        SELF_EDIT_TOOL_PROMPT,
    );
    // SEAL's prompt string opens with a line break, so two blank lines follow the rule.
    expect(user).toContain('2 5 5\n\n------\n\n\nYou are configuring');
  });
});
