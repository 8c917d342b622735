// The prompts that ask the model for a self-edit of a passage (SEAL, knowledge-incorporation/src/
// data_generation/make_squad_data.py, MAKE_SQUAD_DATA_TEMPLATES_BASE), verbatim, and SEAL's sampling
// defaults for them. The paper's results use `implications`; the others are SEAL's prompt ablations.
import type { SquadPassage } from './squad-data.ts';

export const SELF_EDIT_PROMPTS = {
  implications:
    "Let's read the following passage and produce a list of implications derived directly or indirectly from the content.\n\n" +
    'Passage:\n{title}\n{context}\n\n' +
    'Implications:\n',
  'implications-long':
    "Let's read the following passage and produce a long list of implications derived directly or indirectly from the content.\n\n" +
    'Passage:\n{title}\n{context}\n\n' +
    'Implications:\n',
  'implications-very-long':
    "Let's read the following passage and produce a very long list of implications derived directly or indirectly from the content.\n\n" +
    'Passage:\n{title}\n{context}\n\n' +
    'Implications:\n',
  rewrite:
    "Let's read the following passage and rewrite it in a few different ways, each one separated by a newline.\n\n" +
    'Passage:\n{title}\n{context}\n\n' +
    'Rewritten passages:\n',
  // The prompt ends inside the first question, so completions start mid-"Question 1: …"; the training-
  // sequence builder puts the prefix back.
  'self-qa': "Let's read the following passage and rewrite it in a question-answer format.\n\n" + 'Passage:\n{title}\n{context}\n\n' + 'Question 1: ',
} as const;

export type SelfEditPromptKind = keyof typeof SELF_EDIT_PROMPTS;

export const SELF_EDIT_PROMPT_KINDS = Object.keys(SELF_EDIT_PROMPTS) as SelfEditPromptKind[];

/** SEAL's make_squad_data.py defaults: k = 5 self-edits per passage, temperature 1.0, top-p 0.95, ≤ 8192 new tokens. */
export const SELF_EDIT_SAMPLING = {
  completionsPerPassage: 5,
  temperature: 1.0,
  topP: 0.95,
  maxTokens: 8192,
} as const;

export function selfEditPrompt(passage: Pick<SquadPassage, 'title' | 'context'>, kind: SelfEditPromptKind = 'implications'): string {
  const template = SELF_EDIT_PROMPTS[kind];
  if (template === undefined) {
    throw new Error(`unknown self-edit prompt "${String(kind)}"; choose one of: ${SELF_EDIT_PROMPT_KINDS.join(', ')}`);
  }
  return fillTemplate(template, { title: passage.title, context: passage.context });
}

/**
 * Python's str.format for plain `{name}` fields, done in one pass: a value that itself contains `{context}`
 * (a passage quoting code, say) must not be substituted again.
 */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_field, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`template field {${name}} has no value; pass one of: ${Object.keys(values).join(', ')}`);
    return value;
  });
}
