import { describe, expect, it } from 'vitest';
import { ANSWER_SAMPLING, answerPrompt, topicQuestion } from '../../../src/seal/knowledge/answer-prompt.ts';
import { SELF_EDIT_PROMPT_KINDS, SELF_EDIT_SAMPLING, selfEditPrompt } from '../../../src/seal/knowledge/self-edit-prompts.ts';

const passage = { title: 'Genghis Khan', context: 'The Shah fled.' };

describe('self-edit prompts (SEAL make_squad_data.py, verbatim)', () => {
  it('renders "implications" byte for byte', () => {
    expect(selfEditPrompt(passage)).toBe(
      "Let's read the following passage and produce a list of implications derived directly or indirectly from the content.\n\nPassage:\nGenghis Khan\nThe Shah fled.\n\nImplications:\n",
    );
  });

  it('renders the ablation prompts byte for byte', () => {
    expect(selfEditPrompt(passage, 'implications-long')).toBe(
      "Let's read the following passage and produce a long list of implications derived directly or indirectly from the content.\n\nPassage:\nGenghis Khan\nThe Shah fled.\n\nImplications:\n",
    );
    expect(selfEditPrompt(passage, 'implications-very-long')).toBe(
      "Let's read the following passage and produce a very long list of implications derived directly or indirectly from the content.\n\nPassage:\nGenghis Khan\nThe Shah fled.\n\nImplications:\n",
    );
    expect(selfEditPrompt(passage, 'rewrite')).toBe(
      "Let's read the following passage and rewrite it in a few different ways, each one separated by a newline.\n\nPassage:\nGenghis Khan\nThe Shah fled.\n\nRewritten passages:\n",
    );
    expect(selfEditPrompt(passage, 'self-qa')).toBe(
      "Let's read the following passage and rewrite it in a question-answer format.\n\nPassage:\nGenghis Khan\nThe Shah fled.\n\nQuestion 1: ",
    );
    expect(SELF_EDIT_PROMPT_KINDS).toEqual(['implications', 'implications-long', 'implications-very-long', 'rewrite', 'self-qa']);
  });

  it('substitutes once: braces inside the passage stay as they are', () => {
    expect(selfEditPrompt({ title: '{context}', context: 'f(x) = {title}' })).toContain('Passage:\n{context}\nf(x) = {title}\n\n');
  });

  it('names the choices for an unknown prompt kind', () => {
    expect(() => selfEditPrompt(passage, 'summary' as never)).toThrow(/unknown self-edit prompt "summary".*implications, implications-long/);
  });

  it("exports SEAL's sampling defaults", () => {
    expect(SELF_EDIT_SAMPLING).toEqual({ completionsPerPassage: 5, temperature: 1.0, topP: 0.95, maxTokens: 8192 });
  });
});

describe('answer prompt (SEAL SQUAD_ANSWER_TEMPLATE_BASE with the question as query_server.py words it)', () => {
  it('renders byte for byte', () => {
    expect(answerPrompt('Genghis Khan', "What metal was used in Inalchuq's execution?")).toBe(
      "Let's answer a question directly and concisely.\nQuestion: Topic: Genghis Khan\nWhat metal was used in Inalchuq's execution?\nAnswer:\n",
    );
    expect(topicQuestion('T', 'Q?')).toBe('Topic: T\nQ?');
  });

  it('uses greedy decoding with at most 64 tokens, as TTT_server.py', () => {
    expect(ANSWER_SAMPLING).toEqual({ temperature: 0, topP: 1, maxTokens: 64 });
  });
});
