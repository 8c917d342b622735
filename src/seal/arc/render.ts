// The dry run behind `seal arc render`: everything the models would read for one task, as text and before
// the chat template — the policy prompt, the test-time training sequences a self-edit produces (the
// oracle configuration when none is given), and the inference queries — so the data side can be checked
// by eye without a model.
import { readFileSync } from 'node:fs';
import { type ArcTask, findArcTask, loadArcTasks } from './arc-data.ts';
import { buildInferenceQueries } from './inference-queries.ts';
import type { ChatMessage, CountTokens } from './messages.ts';
import { policyPromptMessages } from './policy-prompt.ts';
import { ORACLE_SELF_EDIT, type ParsedSelfEdit, formatSelfEdit, parseSelfEdit } from './self-edit.ts';
import { buildTttSet } from './ttt-data.ts';
import { planTtt } from './ttt-plan.ts';

export interface RenderArcOptions {
  challengesPath: string;
  taskId: string;
  /** A file holding a self-edit completion (JSON); without one, the oracle configuration is used. */
  selfEditPath?: string;
  /** How many training sequences and inference queries (per test input) to print; default 3. */
  limit?: number;
  /** Without a token counter, the 8,192-token limit is not applied. */
  countTokens?: CountTokens;
  seed?: number;
}

export function renderArc({ challengesPath, taskId, selfEditPath, ...rest }: RenderArcOptions): string {
  const task = findArcTask(loadArcTasks(challengesPath), taskId);
  let selfEditText: string | undefined;
  if (selfEditPath !== undefined) {
    try {
      selfEditText = readFileSync(selfEditPath, 'utf8');
    } catch (error) {
      throw new Error(`cannot read the self-edit file ${selfEditPath}: ${(error as Error).message}`);
    }
  }
  return renderArcTask(task, selfEditText, rest);
}

export function renderArcTask(
  task: ArcTask,
  selfEditText: string | undefined,
  { limit = 3, countTokens, seed = 0 }: Pick<RenderArcOptions, 'limit' | 'countTokens' | 'seed'> = {},
): string {
  if (!Number.isInteger(limit) || limit < 0) throw new Error(`--limit must be a whole number ≥ 0, got ${limit}`);
  const counter: CountTokens = countTokens ?? (() => 0);
  const tokens = (n: number) => (countTokens ? `, ${n} tokens` : '');
  const out: string[] = [];

  out.push(`### Policy prompt (self-edit generation), task ${task.id}`, renderMessages(policyPromptMessages(task)));

  let selfEdit: ParsedSelfEdit;
  if (selfEditText === undefined) {
    selfEdit = { parsed: true, config: ORACLE_SELF_EDIT, fallbacks: [] };
    out.push('### Self-edit: the oracle configuration (no self-edit given)', formatSelfEdit(ORACLE_SELF_EDIT));
  } else {
    selfEdit = parseSelfEdit(selfEditText);
    if (!selfEdit.parsed) {
      throw new Error(`the self-edit is not a JSON object (${selfEdit.fallbacks.join('; ')}); SEAL would sample another`);
    }
    out.push('### Self-edit', selfEditText.trimEnd());
    out.push(`as used: ${formatSelfEdit(selfEdit.config)}`);
    out.push(`fallbacks: ${selfEdit.fallbacks.length === 0 ? 'none' : selfEdit.fallbacks.join('; ')}`);
  }

  const set = buildTttSet(task.train, selfEdit.config.tools, { countTokens: counter, seed });
  const plan = planTtt(selfEdit.config, set.examples.length, selfEdit.fallbacks);
  out.push(
    '### Test-time training plan',
    `tools (${set.tools.length}): ${set.tools.join(', ') || 'none'}`,
    ...set.stats.map(
      (s) =>
        `leave-${s.leaveOut}-out: ${s.tasks} tasks, ${s.augmented} augmented (${s.oversizeDropped} over 30×30 dropped), ` +
        `${s.distinct} distinct, ${s.withPermutedCopies} with permuted copies, ${s.tooLongDropped} too long`,
    ),
    `sequences: ${set.examples.length}${set.capped > 0 ? ` (${set.capped} more cut by the cap)` : ''}` +
      (countTokens ? '' : ' (token limit not checked: no tokenizer)'),
    `LoRA r=${plan.lora.rank} α=${plan.lora.alpha} on ${plan.lora.targetModules.join(', ')}; AdamW; batch ${plan.batchSize}; ` +
      `cosine, ${plan.schedule.warmupSteps} warmup steps; lr ${plan.learningRate}; loss on ${plan.lossOn === 'all' ? 'all tokens' : 'the answer'}`,
    `epochs ${plan.epochs}, ${plan.stepsPerEpoch} steps per epoch, ${plan.totalSteps} steps` +
      (plan.refusal === null ? '' : `; REFUSED, reward 0: ${plan.refusal}`),
  );

  const shown = set.examples.slice(0, limit);
  out.push(`### Test-time training sequences: ${shown.length} of ${set.examples.length}`);
  shown.forEach((example, i) => {
    out.push(`## sequence ${i + 1} (leave-${example.leaveOut}-out${tokens(example.tokens)})`, renderMessages(example.messages));
  });

  task.test.forEach((_, testIndex) => {
    const { queries, valid } = buildInferenceQueries(task, testIndex, { countTokens: counter, seed });
    const first = queries.slice(0, limit);
    out.push(
      `### Inference queries, test input ${testIndex + 1} of ${task.test.length}: ${first.length} of ${queries.length}` +
        (valid ? '' : ' (none fits: this test input gets no prediction)'),
    );
    first.forEach((query, i) => {
      const view = query.view === null ? 'as given' : `${query.view.name}, mapped back by ${query.category}`;
      out.push(`## query ${i + 1} (${view}; leave-${query.leaveOut}-out${tokens(query.tokens)})`, renderMessages(query.messages));
    });
  });
  return `${out.join('\n')}\n`;
}

/** Each message under a role line, its content verbatim (a line break is added where it has none at the end). */
function renderMessages(messages: readonly ChatMessage[]): string {
  return messages.map((m) => `──── ${m.role} ────\n${m.content}${m.content.endsWith('\n') ? '' : '\n'}`).join('');
}
