// SEAL's GPT-4.1 grading prompt on a local model folder: the model call the LLM judge (llm-judge.ts) leaves
// to whoever owns the model.
import { loadTokenizer } from '../../io/tokenizer.ts';
import { generate } from '../../model/generate.ts';
import { loadLlama } from '../../model/load.ts';
import { stopIdsOf } from '../policy.ts';
import { type Grader, makeLlmJudge } from './llm-judge.ts';

/** SEAL's grading prompt on the model in `dir` (its chat template when it has one), greedy. */
export async function localJudge(dir: string): Promise<Grader> {
  const tokenizer = await loadTokenizer(dir);
  const model = await loadLlama(dir);
  const stopIds = stopIdsOf(model, tokenizer);
  return makeLlmJudge({
    formatPrompt: (p) => (tokenizer.hasChatTemplate ? tokenizer.applyChatTemplate([{ role: 'user', content: p }], { addGenerationPrompt: true }) : p),
    generate: async (prompt) => {
      const ids = tokenizer.hasChatTemplate ? tokenizer.encode(prompt, { addBos: false }) : tokenizer.encode(prompt);
      const { tokens } = await generate(model, [ids], { maxNewTokens: 8, stopIds });
      return tokenizer.decode(tokens[0], { skipSpecial: true });
    },
  });
}
