// The prompt that asks the policy for a self-edit (SEAL few-shot/self-edit.py get_prompt, with the texts
// of few-shot/utils/prompts.py verbatim): every demonstration as rows of space-separated digits, a
// `------` rule, then the tool menu. The test input is not shown. The chat template is applied elsewhere.
import type { ArcExample, ArcTask } from './arc-data.ts';
import type { Grid } from './grid.ts';
import type { ChatMessage } from './messages.ts';

export const POLICY_SYSTEM_MESSAGE = 'You are a helpful assistant that provide the correct output for the given task immediately.';

/**
 * SEAL's self_edit_prompt. It is a Python triple-quoted string that opens with a line break, so the user
 * message reads "------\n\n\nYou are configuring…"; it ends with "}\n".
 */
export const SELF_EDIT_TOOL_PROMPT = [
  '',
  'You are configuring a model training pipeline by selecting from predefined tools.',
  '',
  'You must make two decisions:',
  '',
  '1. **Data Generation Tools** \u2014 For each of the following, choose true or false:',
  '    - use_basic_augmentations',
  '    - use_size_augmentations',
  '    - use_chain_augmentations',
  '    - use_repeat_augmentations',
  '',
  '2. **Training Configuration** \u2014 Choose one of:',
  '    - "train_using_all_tokens"',
  '    - "train_using_output_tokens"',
  '',
  'Also specify:',
  '    - learning_rate (float)',
  '    - num_train_epochs (integer)',
  '',
  '### Output Format',
  '',
  'Respond with a valid JSON object. Do not include any explanation, markdown, or extra text. ' +
    'Use lowercase `true`/`false` for booleans and ensure correct JSON syntax.',
  '',
  'Example output:',
  '',
  '{',
  '  "data_generation": {',
  '    "use_basic_augmentations": ...,',
  '    "use_size_augmentations": ...,',
  '    "use_chain_augmentations": ...,',
  '    "use_repeat_augmentations": ...',
  '  },',
  '  "training": {',
  '    "strategy": ...,',
  '    "learning_rate": ...,',
  '    "num_train_epochs": ...',
  '  }',
  '}',
  '',
].join('\n');

export const DEMONSTRATIONS_END = '------\n\n';

/** A grid as lines of space-separated digits, each ending in "\n". */
function digitRows(grid: Grid): string {
  return grid.map((row) => `${row.join(' ')}\n`).join('');
}

/** `Input:\n{rows}\nOutput:\n{rows}\n` for one demonstration. */
export function formatDemonstration(example: ArcExample): string {
  return `Input:\n${digitRows(example.input)}\nOutput:\n${digitRows(example.output)}\n`;
}

/** System and user messages of the self-edit prompt for a task. */
export function policyPromptMessages(task: ArcTask): ChatMessage[] {
  const demonstrations = task.train.map(formatDemonstration).join('');
  return [
    { role: 'system', content: POLICY_SYSTEM_MESSAGE },
    { role: 'user', content: demonstrations + DEMONSTRATIONS_END + SELF_EDIT_TOOL_PROMPT },
  ];
}
