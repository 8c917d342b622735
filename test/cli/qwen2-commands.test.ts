// Every `seal` command on a Qwen2 model folder (a tiny random Qwen2ForCausalLM with Qwen2.5-Instruct-style
// tokenizer files: no BOS, ChatML template, <|im_end|> as EOS), end to end through the CLI: generate (chat),
// finetune (LoRA on PEFT's default q/v targets, assistant turns only), score (with and without the
// adapter), merge (an HF Qwen2 folder that scores like base + adapter), knowledge run and arc run.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, finished, logOf, seal } from '../helpers/cli.ts';
import { IM_END, IM_START, writeQwenTokenizer } from '../helpers/qwen-tokenizer.ts';
import { writeTinyQwen2 } from '../model/qwen2-models.ts';

const ARC = join(ROOT, '..', 'shared', 'data', 'arc');
const CHALLENGES = join(ARC, 'arc-agi_training_challenges_filtered_1B_training_set.json');
const SOLUTIONS = join(ARC, 'arc-agi_training_solutions_filtered_1B_training_set.json');
const HAVE_ARC = existsSync(CHALLENGES);
if (!HAVE_ARC) console.warn('SKIPPING `seal arc run` on Qwen2: ../shared/data/arc is absent');

async function run(args: string[]): Promise<string> {
  const child = seal(args);
  let stdout = '';
  child.stdout!.on('data', (d) => (stdout += d));
  const result = await finished(child);
  expect(result.code, `seal ${args.slice(0, 2).join(' ')}: ${result.stderr}`).toBe(0);
  return stdout;
}

describe('seal commands on a Qwen2 model', async () => {
  const work = mkdtempSync(join(tmpdir(), 'seal-qwen2-'));
  const { dir: model } = await writeTinyQwen2({ tied: true, dtype: 'bfloat16', seed: 11, vocabSize: 259, maxPositions: 4096 });
  writeQwenTokenizer(model);
  const chat = join(work, 'chat.jsonl');
  writeFileSync(
    chat,
    ['red', 'blue', 'green']
      .map((colour) =>
        JSON.stringify({
          messages: [
            { role: 'user', content: 'Colour?' },
            { role: 'assistant', content: colour },
          ],
        }),
      )
      .join('\n'),
  );

  it('generate, finetune, score, merge', async () => {
    const generated = JSON.parse(await run(['generate', '--model', model, '--chat', '--prompt', 'Hi', '--max-new-tokens', '4', '--json']));
    expect(generated.prompt_ids[0]).toBe(IM_START); // ChatML, and no BOS in front of it
    expect(generated.prompt_ids.filter((id: number) => id === IM_END)).toHaveLength(2);
    expect(generated.ids.length).toBeLessThanOrEqual(4);

    const adapter = join(work, 'adapter');
    await run([
      'finetune',
      '--model',
      model,
      '--data',
      chat,
      '--out',
      adapter,
      '--steps',
      '4',
      '--lr',
      '1e-2',
      '--loss',
      'completion',
      '--rank',
      '4',
      '--alpha',
      '8',
    ]);
    expect(JSON.parse(readFileSync(join(adapter, 'adapter_config.json'), 'utf8')).target_modules).toEqual(['q_proj', 'v_proj']);

    const score = async (args: string[]) => JSON.parse(await run(['score', '--data', chat, '--loss', 'completion', '--json', ...args])).loss as number;
    const base = await score(['--model', model]);
    const adapted = await score(['--model', model, '--adapter', adapter]);
    expect(adapted).toBeLessThan(base);

    const merged = join(work, 'merged');
    await run(['merge', '--model', model, '--adapter', adapter, '--out', merged]);
    expect(JSON.parse(readFileSync(join(merged, 'config.json'), 'utf8'))).toMatchObject({ model_type: 'qwen2', architectures: ['Qwen2ForCausalLM'] });
    expect(existsSync(join(merged, 'tokenizer_config.json'))).toBe(true);
    // The merged bf16 weights round W + ΔW to 8 bits: the loss moves by far less than training moved it.
    expect(Math.abs((await score(['--model', merged])) - adapted)).toBeLessThan((base - adapted) / 4);
  });

  it('knowledge run: baselines, one ReST-EM round and SEAL after it', async () => {
    const data = join(work, 'passages.json');
    writeFileSync(
      data,
      JSON.stringify([
        { title: 'Zorblat', context: 'Zorblat is a city in Quux.', questions: [{ question: 'Where is Zorblat?', answer: 'Quux' }] },
        { title: 'Mira', context: 'Mira is a red star.', questions: [{ question: 'What colour is Mira?', answer: 'red' }] },
      ]),
    );
    const runDir = join(work, 'ki');
    await run([
      'knowledge',
      'run',
      '--model',
      model,
      '--data',
      data,
      '--eval-data',
      data,
      '--run',
      runDir,
      '--eval-count',
      '2',
      '--rounds',
      '1',
      '--passages-per-round',
      '2',
      '--samples',
      '2',
      '--seeds',
      '1',
      '--max-new-tokens',
      '8',
      '--inner-epochs',
      '1',
      '--answer-tokens',
      '4',
      '--mstep-epochs',
      '1',
      '--mstep-batch-size',
      '2',
      '--mstep-grad-accum',
      '1',
      '--conditions',
      'base,passage,round-0,round-1',
    ]);
    const log = logOf(runDir);
    expect(log.filter((r) => r.kind === 'inner-loop').length).toBeGreaterThan(0);
    expect(log.some((r) => r.kind === 'm-step')).toBe(true);
    expect(existsSync(join(runDir, 'results.md'))).toBe(true);
  });

  it.skipIf(!HAVE_ARC)('arc run: in-context, self-edits before and after one round', async () => {
    const runDir = join(work, 'arc');
    await run([
      'arc',
      'run',
      '--model',
      model,
      '--challenges',
      CHALLENGES,
      '--solutions',
      SOLUTIONS,
      '--run',
      runDir,
      '--tasks',
      '6150a2bd',
      '--train-tasks',
      '6150a2bd',
      '--rounds',
      '1',
      '--samples',
      '2',
      '--eval-self-edits',
      '1',
      '--max-new-tokens',
      '8',
      '--max-sample-attempts',
      '1',
      '--answer-tokens',
      '8',
      '--conditions',
      'in-context,round-0,round-1',
    ]);
    const log = logOf(runDir);
    expect(log.filter((r) => r.kind === 'evaluation')).toHaveLength(3);
    expect(existsSync(join(runDir, 'results.md'))).toBe(true);
  });
});
