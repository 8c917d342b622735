// The policy: the model that writes self-edits. It samples them, and in the M-step it imitates the kept
// ones — a LoRA fine-tune on (prompt → self-edit), loss on the self-edit tokens and EOS only — merged into
// its weights and saved as a Hugging Face folder, which is the next round's policy.
import { type Tokenizer, loadTokenizer } from '../io/tokenizer.ts';
import { generate } from '../model/generate.ts';
import type { Llama } from '../model/llama.ts';
import { loadLlama } from '../model/load.ts';
import { IGNORE_INDEX } from '../tensor/index.ts';
import type { Example } from '../train/examples.ts';
import { mergeAdapter, saveModel } from '../train/merge.ts';
import { type LoraTraining, type StepReport, fitLora } from '../train/sft.ts';

export interface SamplingConfig {
  temperature: number;
  topP: number;
  maxNewTokens: number;
}

/** The M-step's fine-tune (a LoRA, merged afterwards). */
export interface ImitationConfig extends LoraTraining {
  seed: number;
}

/** A prompt and the self-edit the policy should learn to write for it. */
export interface Demonstration {
  prompt: number[];
  selfEdit: string;
}

/** Ids that end generation: the config's EOS ids and the tokenizer's (they may differ: Llama-3.2-Instruct's eot). */
export function stopIdsOf(model: Llama, tokenizer: Tokenizer | null): number[] {
  return [...new Set([...model.config.eosTokenIds, ...(tokenizer?.eosIds ?? [])])];
}

export class Policy {
  /** The policy in a Hugging Face model folder: its weights, its tokenizer, and every EOS id of both as stop ids. */
  static async load(dir: string): Promise<Policy> {
    const tokenizer = await loadTokenizer(dir);
    const model = await loadLlama(dir);
    return new Policy(model, tokenizer, dir, stopIdsOf(model, tokenizer));
  }

  constructor(
    public model: Llama,
    readonly tokenizer: Tokenizer,
    /** The folder the weights came from (tokenizer files are copied from it when saving). */
    public dir: string,
    /** Ids that end a self-edit. */
    readonly stopIds: number[],
  ) {
    // A self-edit the policy learns to write ends as its turns end: <|eot_id|> for Llama-3 chat models.
    const eot = tokenizer.tokenToId('<|eot_id|>');
    this.endId = eot !== undefined && stopIds.includes(eot) ? eot : stopIds[0];
  }

  /** The token that ends an imitated self-edit. */
  readonly endId: number;

  /** Swaps the weights for a saved folder's (a round's policy, when a run resumes); the tokenizer stays. */
  async reload(dir: string): Promise<void> {
    this.model.dispose();
    this.model = await loadLlama(dir);
    this.dir = dir;
  }

  /**
   * One self-edit per request, each from its own seeded stream (so a sample does not depend on the batch
   * it was drawn in), `batch` requests decoded together; texts without the stop token.
   */
  async sample(requests: { prompt: number[]; seed: number }[], sampling: SamplingConfig, batch = 64): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < requests.length; i += batch) {
      const chunk = requests.slice(i, i + batch);
      const { tokens } = await generate(
        this.model,
        chunk.map((r) => r.prompt),
        {
          ...sampling,
          stopIds: this.stopIds,
          rowSeeds: chunk.map((r) => r.seed),
        },
      );
      out.push(...tokens.map((t) => this.tokenizer.decode(t, { skipSpecial: true })));
    }
    return out;
  }

  /** The training example for one demonstration: loss on the self-edit and the EOS that ends it. */
  example(d: Demonstration): Example {
    const completion = [...this.tokenizer.encode(d.selfEdit, { addBos: false }), this.endId];
    return { ids: [...d.prompt, ...completion], labels: [...d.prompt.map(() => IGNORE_INDEX), ...completion] };
  }

  /**
   * The M-step: fine-tune a fresh LoRA on the demonstrations, merge it into the weights, and save the
   * result to `outDir`, which becomes the policy's folder.
   */
  async imitate(demos: Demonstration[], config: ImitationConfig, outDir: string, onStep?: (r: StepReport) => void): Promise<number[]> {
    const { adapter, losses } = await fitLora(
      this.model,
      config,
      demos.map((d) => this.example(d)),
      { seed: config.seed, pad: this.endId, onStep },
    );
    try {
      mergeAdapter(this.model, adapter);
      await saveModel(this.model, outDir, this.dir);
      this.dir = outDir;
      return losses;
    } finally {
      adapter.dispose();
    }
  }
}
