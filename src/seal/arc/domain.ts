// Few-shot ARC (paper §4.1): the context is a task's demonstrations; a self-edit is a JSON configuration of
// augmentation tools and training hyperparameters; the inner loop trains a fresh LoRA on the data those
// tools make (test-time training) and answers the held-out test input; the reward is 1 if the adapted
// model solves the task. This file gives that inner loop its model: training and greedy answering.
import type { ChatMessage as TemplateMessage, Tokenizer } from '../../io/tokenizer.ts';
import { generate } from '../../model/generate.ts';
import { toExample } from '../../train/examples.ts';
import type { LoraAdapter } from '../../train/lora.ts';
import { fitLora } from '../../train/sft.ts';
import { type Domain, keepSolved, unitSeed } from '../loop.ts';
import type { Policy, SamplingConfig } from '../policy.ts';
import type { ArcTask } from './arc-data.ts';
import { type ArcModelHooks, type SelfEditOutcome, evaluateSelfEdit, sampleParsedSelfEdit } from './episode.ts';
import type { ChatMessage, CountTokens } from './messages.ts';
import { policyPromptMessages } from './policy-prompt.ts';
import { type ParsedSelfEdit, parseSelfEdit } from './self-edit.ts';
import type { TttPlan } from './ttt-plan.ts';

/** SEAL's self-edit sampling (self-edit.py): temperature 0.8, at most 128 new tokens. */
export const ARC_SELF_EDIT_SAMPLING: SamplingConfig = { temperature: 0.8, topP: 1, maxNewTokens: 128 };

export interface ArcDomainOptions {
  /** New tokens per answer (SEAL: up to 8,192 minus the prompt). */
  answerTokens: number;
  /** Queries decoded together. */
  answerBatch: number;
  /** Resampling bound for self-edits that are not JSON (SEAL resamples without bound). */
  maxSampleAttempts: number;
  sampling: SamplingConfig;
  /** Cap of each test-time training set (default SEAL's 250, MAX_TTT_EXAMPLES). */
  maxTttExamples?: number;
}

export const ARC_DOMAIN_DEFAULTS: ArcDomainOptions = { answerTokens: 1024, answerBatch: 8, maxSampleAttempts: 10, sampling: ARC_SELF_EDIT_SAMPLING };

export class ArcDomain implements Domain<ArcTask> {
  readonly countTokens: CountTokens;

  constructor(
    readonly tokenizer: Tokenizer,
    readonly options: ArcDomainOptions = ARC_DOMAIN_DEFAULTS,
  ) {
    this.countTokens = (_text, messages) => this.chatIds(messages, false).length;
  }

  id(task: ArcTask): string {
    return task.id;
  }

  /**
   * The policy's prompt. SEAL writes Llama-3's chat format by hand (without the date header the
   * Llama-3.2 template adds); with a tokenizer that has Llama-3's header tokens we do the same, otherwise
   * the model's own chat template.
   */
  prompt(task: ArcTask): number[] {
    const [system, user] = policyPromptMessages(task);
    if (this.tokenizer.tokenToId('<|start_header_id|>') !== undefined) {
      const text =
        `<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n${system.content}<|eot_id|>` +
        `<|start_header_id|>user<|end_header_id|>\n\n${user.content}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`;
      return this.tokenizer.encode(text, { addBos: false });
    }
    return this.tokenizer.encodeChat([system, user] as TemplateMessage[], { addGenerationPrompt: true });
  }

  promptText(task: ArcTask): string {
    return this.tokenizer.decode(this.prompt(task));
  }

  /** M self-edits, each resampled until it parses as JSON (bounded); failures are counted. */
  async sampleSelfEdits(policy: Policy, task: ArcTask, m: number, seed: number) {
    const texts: string[] = [];
    let failures = 0;
    let draw = 0;
    const prompt = this.prompt(task);
    for (let j = 0; j < m; j++) {
      const found = await sampleParsedSelfEdit(
        async () => (await policy.sample([{ prompt, seed: unitSeed(seed, draw++) }], this.options.sampling))[0],
        this.options.maxSampleAttempts,
      );
      failures += found ? found.failures : this.options.maxSampleAttempts;
      // None parsed: keep the last text; it parses to SEAL's fallbacks and earns reward 0.
      texts.push(found ? found.completion : '');
    }
    return { texts, details: { unparsedSamples: failures } };
  }

  async evaluate(policy: Policy, task: ArcTask, selfEdit: string, seed: number) {
    const outcome = await this.run(policy, task, parseSelfEdit(selfEdit), seed);
    return { score: outcome.reward, details: describeOutcome(outcome) };
  }

  select(rewards: number[]): number[] {
    return keepSolved(rewards);
  }

  /** The inner loop for a parsed configuration (also the oracle's). */
  run(policy: Policy, task: ArcTask, selfEdit: ParsedSelfEdit, seed: number): Promise<SelfEditOutcome> {
    return evaluateSelfEdit(task, selfEdit, this.hooks(policy, seed), { countTokens: this.countTokens, seed, maxExamples: this.options.maxTttExamples });
  }

  /** Training and answering on `policy`'s model. */
  hooks(policy: Policy, seed: number): ArcModelHooks<LoraAdapter> {
    return {
      train: async (plan: TttPlan, examples) => {
        const loss = plan.lossOn === 'answer' ? 'completion' : 'all';
        const data = examples.map((e) => {
          const x = toExample({ messages: e.messages }, this.tokenizer, { loss, appendEos: false });
          return { ids: x.ids.slice(0, plan.maxSequenceTokens), labels: x.labels.slice(0, plan.maxSequenceTokens) };
        });
        const training = {
          lora: { r: plan.lora.rank, alpha: plan.lora.alpha, dropout: plan.lora.dropout, targets: [...plan.lora.targetModules] },
          lr: plan.learningRate,
          epochs: plan.epochs,
          batchSize: plan.batchSize,
          gradAccum: 1,
          schedule: plan.schedule.kind,
          warmupSteps: plan.schedule.warmupSteps,
          maxGradNorm: plan.optimizer.maxGradNorm,
        };
        const { adapter } = await fitLora(policy.model, training, data, {
          seed,
          pad: policy.stopIds[0],
          steps: plan.totalSteps,
          betas: [plan.optimizer.beta1, plan.optimizer.beta2],
          eps: plan.optimizer.epsilon,
          weightDecay: plan.optimizer.weightDecay,
          // Sequences reach ~1,600 tokens: keeping every layer's activations (r=128 LoRA on the MLP keeps its
          // inputs too) would hold ~3× the 1B weights; recomputing each layer in backward holds ~1.7×.
          recompute: true,
        });
        return adapter;
      },
      answer: (_adapter, queries) => this.answer(policy, queries),
      release: (adapter) => adapter.dispose(),
    };
  }

  /** Greedy completions of the queries with the model as it is (in batches). */
  async answer(policy: Policy, queries: readonly ChatMessage[][]): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < queries.length; i += this.options.answerBatch) {
      const prompts = queries.slice(i, i + this.options.answerBatch).map((q) => this.chatIds(q, true));
      const { tokens } = await generate(policy.model, prompts, { maxNewTokens: this.options.answerTokens, stopIds: policy.stopIds });
      out.push(...tokens.map((t) => this.tokenizer.decode(t, { skipSpecial: true })));
    }
    return out;
  }

  private chatIds(messages: readonly ChatMessage[], generationPrompt: boolean): number[] {
    return this.tokenizer.encodeChat(messages as TemplateMessage[], { addGenerationPrompt: generationPrompt });
  }
}

/** What the log keeps of an inner loop: the parsed configuration, the plan's size, the votes, the reward. */
export function describeOutcome(o: SelfEditOutcome) {
  return {
    parsed: o.selfEdit.parsed,
    config: o.selfEdit.config as unknown as Record<string, never>,
    fallbacks: o.selfEdit.fallbacks,
    examples: o.plan.examples,
    steps: o.plan.totalSteps,
    refusal: o.plan.refusal,
    attempts: o.attempts as unknown as never,
    droppedAnswers: o.droppedAnswers,
    solved: o.solved,
  };
}
