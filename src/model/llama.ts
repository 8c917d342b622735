// Llama-3.2 (and every Llama of the same shape): embedding → N × [RMSNorm → grouped-query attention with
// RoPE → residual → RMSNorm → SwiGLU MLP → residual] → RMSNorm → LM head (tied or not), as Hugging Face's
// LlamaForCausalLM computes it. Qwen2 (the Qwen2.5 family, Qwen2ForCausalLM) is the same network with a
// bias on q_proj, k_proj and v_proj, added before RoPE: config.qkvBias. Weights stay in their file dtype
// (bf16 / f16 / f32) and are widened inside the kernels; biases are held in f32 (they are added to f32
// activations); activations and reductions are f32.
//
// Shapes: B batch, T new tokens, S KV rows per batch entry, C hidden, H / Hkv heads, D head size, V vocab.
// Activations are (B·T, C) row matrices; attention reads its heads straight out of them.
import type { LlamaConfig } from '../io/hf-config.ts';
import {
  type AttentionShape,
  type Tensor,
  RopeTable,
  add,
  checkpoint,
  gradEnabled,
  attention,
  dropout,
  embedding,
  linear,
  lowRankLinear,
  rmsnorm,
  rope,
  swiglu,
  tensor,
  tidy,
} from '../tensor/index.ts';
import type { KVCache } from './kv-cache.ts';
import { causalLmLossFromHidden } from './loss.ts';
import { ropeInverseFrequencies } from './rope-scaling.ts';

/**
 * A low-rank update of a projection, y = W x + scale · B (A dropout(x)), as PEFT's LoRA Linear adds it.
 * With slots > 1, A and B stack independent adapters and the input's rows split into `slots` equal
 * consecutive groups, group s using adapter s.
 */
export interface LowRankDelta {
  A: Tensor; // (r, Cin), or (slots, r, Cin)
  B: Tensor; // (Cout, r), or (slots, Cout, r)
  scale: number;
  dropout: number;
  slots: number;
}

/**
 * One Linear layer of the model: its frozen (or trainable) weight (Cout, Cin), its bias (Cout) where the
 * architecture has one (Qwen2's q/k/v; frozen under LoRA, as PEFT's bias="none"), and an optional adapter.
 */
export interface Projection {
  readonly name: string; // the HF weight name, e.g. model.layers.3.self_attn.q_proj.weight
  weight: Tensor;
  bias?: Tensor;
  delta?: LowRankDelta;
}

export const PROJECTIONS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type ProjectionName = (typeof PROJECTIONS)[number];

export interface Layer {
  inputNorm: Tensor;
  postNorm: Tensor;
  proj: Record<ProjectionName, Projection>;
}

export interface ForwardInput {
  /** Token ids, B rows of T (rows of a batch have equal length: pad them and mask the padding). */
  ids: number[][];
  /** Positions (default: past + 0 … past + T − 1); left-padded rows start theirs at the first real token. */
  positions?: number[][];
  /** 1 for real tokens, 0 for padding, (B, T); ignored keys for every query. Default: all real. */
  attentionMask?: number[][];
  /**
   * Packed rows: a document id per token (B, T), 0 for padding; attention stays within each document
   * (give positions that restart per document too). Replaces attentionMask.
   */
  segments?: number[][];
  /** Decoding: keys and values (and the mask) are appended to the cache; attention reads every cached row. */
  cache?: KVCache;
  /** Return only the last position's logits per row: (B, V). */
  lastOnly?: boolean;
  /** Training mode: LoRA dropout is active, seeded by `seed`. */
  train?: boolean;
  seed?: number;
  /**
   * Activation recomputation: keep only each layer's input for backward and recompute the layer during
   * backward (less memory on long sequences, one more forward's time).
   */
  recompute?: boolean;
}

export class Llama {
  readonly rope: RopeTable;
  readonly layers: Layer[];

  constructor(
    readonly config: LlamaConfig,
    /** Every weight by its Hugging Face name. */
    readonly weights: Map<string, Tensor>,
  ) {
    this.rope = new RopeTable(ropeInverseFrequencies(config));
    const w = (name: string) => {
      const t = weights.get(name);
      if (!t) throw new Error(`Llama: weight "${name}" is missing`);
      return t;
    };
    const biased: readonly ProjectionName[] = config.qkvBias ? ['q_proj', 'k_proj', 'v_proj'] : [];
    this.layers = Array.from({ length: config.numLayers }, (_, i) => {
      const p = `model.layers.${i}`;
      const projection = (name: ProjectionName): Projection => {
        const hf = `${p}.${name.endsWith('_proj') && ['gate_proj', 'up_proj', 'down_proj'].includes(name) ? 'mlp' : 'self_attn'}.${name}`;
        const bias = biased.includes(name) ? w(`${hf}.bias`) : undefined;
        if (bias && bias.dtype !== 'f32') throw new Error(`Llama: bias "${hf}.bias" must be held in f32 (load it with dtype f32), not ${bias.dtype}`);
        return { name: `${hf}.weight`, weight: w(`${hf}.weight`), ...(bias ? { bias } : {}) };
      };
      return {
        inputNorm: w(`${p}.input_layernorm.weight`),
        postNorm: w(`${p}.post_attention_layernorm.weight`),
        proj: Object.fromEntries(PROJECTIONS.map((n) => [n, projection(n)])) as Record<ProjectionName, Projection>,
      };
    });
  }

  get embed(): Tensor {
    return this.weights.get('model.embed_tokens.weight')!;
  }
  get norm(): Tensor {
    return this.weights.get('model.norm.weight')!;
  }
  get lmHead(): Tensor {
    return this.config.tieWordEmbeddings ? this.embed : this.weights.get('lm_head.weight')!;
  }

  /** Every projection of every layer, in PEFT's module order (layer by layer, q, k, v, o, gate, up, down). */
  projections(): Projection[] {
    return this.layers.flatMap((l) => PROJECTIONS.map((n) => l.proj[n]));
  }

  // ids (B, T) → logits (B, T, V), or (B, V) with lastOnly
  forward(input: ForwardInput): Tensor {
    const B = input.ids.length;
    const T = input.ids[0]?.length ?? 0;
    const logits = linear(this.hidden(input), this.lmHead);
    return logits.reshape(input.lastOnly ? [B, this.config.vocabSize] : [B, T, this.config.vocabSize]);
  }

  /**
   * The causal LM loss of `labels` (Hugging Face's shift, −100 ignored; `rowWeights` as causalLmLoss
   * takes them): the same value and gradients as causalLmLoss(forward(input), labels, rowWeights), but the
   * LM head and the cross-entropy run together in row chunks, so the (B, T, V) logits and their gradient
   * are never held (131 MB each for Llama-3's vocabulary at 256 tokens).
   */
  loss(input: ForwardInput, labels: number[][], rowWeights?: number[]): Tensor {
    if (input.lastOnly) throw new Error('Llama.loss: lastOnly gives no loss (every position is scored)');
    return causalLmLossFromHidden(this.hidden(input), this.lmHead, labels, rowWeights);
  }

  // ids (B, T) → the final norm's output (B·T, C), or (B, C) with lastOnly
  private hidden(input: ForwardInput): Tensor {
    const { numHeads: H, numKvHeads: Hkv, headDim: D, hiddenSize: C, rmsNormEps: eps } = this.config;
    const cache = input.cache;
    const past = cache?.length ?? 0;
    const { B, T, ids, positions, maxPosition } = this.checkInput(input, past);
    this.rope.ensure(maxPosition + 1);
    let keyMask: Tensor | undefined;
    if (input.segments && cache) throw new Error('Llama.forward: segments (packed documents) are for training, not with a KV cache');
    if (cache) keyMask = cache.appendMask(input.attentionMask ?? ones(B, T));
    else if (input.segments) keyMask = tensor(input.segments.flat(), [B, T], 'i32');
    else if (input.attentionMask) keyMask = tensor(input.attentionMask.flat(), [B, T], 'i32');
    const segments = !!input.segments;

    let x = embedding(this.embed, ids).reshape([B * T, C]);
    const shape = { B, T, H, Hkv, D, S: cache?.capacity ?? T, keys: past + T, past };
    this.layers.forEach((layer, i) => {
      // Each layer in its own scope: what its backward does not read (the o and down projections' outputs,
      // the SwiGLU product when down is frozen…) goes back to the pool before the next layer runs, instead of
      // living until the caller's scope ends.
      const block = (h: Tensor, pos = positions, mask = keyMask) =>
        tidy(() => this.block(layer, i, h, { input, positions: pos, keyMask: mask, segments, shape }));
      // Recomputed in backward: positions and the mask are the checkpoint's inputs too, so the graph keeps
      // them even when the caller's scope has ended by then.
      const recomputed = input.recompute && gradEnabled() && !cache;
      x = recomputed ? checkpoint(block, [x, positions, ...(keyMask ? [keyMask] : [])], this.layerParameters(layer)) : block(x);
    });
    cache?.advance(T);
    if (input.lastOnly) {
      // The last row of each sequence (left padding keeps every sequence's end at T − 1).
      x = embedding(
        x,
        tensor(
          Array.from({ length: B }, (_, b) => b * T + T - 1),
          [B],
          'i32',
        ),
      );
    }
    return rmsnorm(x, this.norm, eps);
  }

  // x (B·T, C) → (B·T, C): one decoder layer
  private block(
    layer: Layer,
    i: number,
    x: Tensor,
    ctx: { input: ForwardInput; positions: Tensor; keyMask?: Tensor; segments: boolean; shape: AttentionShape },
  ): Tensor {
    const { numHeads: H, numKvHeads: Hkv, rmsNormEps: eps } = this.config;
    const { input, positions, shape } = ctx;
    const project = (h: Tensor, p: Projection, salt: number) => this.project(h, p, input, i * 8 + salt);
    // attention block
    const h = rmsnorm(x, layer.inputNorm, eps);
    const q = rope(project(h, layer.proj.q_proj, 0), positions, this.rope, H);
    let k = rope(project(h, layer.proj.k_proj, 1), positions, this.rope, Hkv);
    let v = project(h, layer.proj.v_proj, 2);
    if (input.cache) {
      input.cache.write(i, k, v);
      k = input.cache.keys(i);
      v = input.cache.values(i);
    }
    const o = attention(q, k, v, shape, { keyMask: ctx.keyMask, segments: ctx.segments });
    x = add(x, project(o, layer.proj.o_proj, 3));
    // MLP block: down(silu(gate(h)) ⊙ up(h)); swiglu keeps only gate and up for its backward.
    const h2 = rmsnorm(x, layer.postNorm, eps);
    const gated = swiglu(project(h2, layer.proj.gate_proj, 4), project(h2, layer.proj.up_proj, 5));
    return add(x, project(gated, layer.proj.down_proj, 6));
  }

  /** The tensors a layer computes with that may be trained (norms, weights, adapters). */
  private layerParameters(layer: Layer): Tensor[] {
    return [
      layer.inputNorm,
      layer.postNorm,
      ...Object.values(layer.proj).flatMap((p) => [p.weight, ...(p.bias ? [p.bias] : []), ...(p.delta ? [p.delta.A, p.delta.B] : [])]),
    ];
  }

  /** Validates ids and positions on the CPU (a bad id would read outside the embedding) and uploads them. */
  private checkInput(input: ForwardInput, past: number) {
    const B = input.ids.length;
    const T = input.ids[0]?.length ?? 0;
    if (B === 0 || T === 0) throw new RangeError('Llama.forward: empty input (no rows or no tokens)');
    const V = this.config.vocabSize;
    input.ids.forEach((row, b) => {
      if (row.length !== T)
        throw new RangeError(`Llama.forward: row ${b} has ${row.length} tokens, row 0 has ${T}; pad rows to one length and mask the padding`);
      row.forEach((id, t) => {
        if (!Number.isInteger(id) || id < 0 || id >= V) {
          throw new RangeError(`Llama.forward: token id ${id} at row ${b}, position ${t} is outside the vocabulary [0, ${V})`);
        }
      });
    });
    const positions = input.positions ?? input.ids.map(() => Array.from({ length: T }, (_, t) => past + t));
    let maxPosition = 0;
    for (const row of positions) for (const p of row) maxPosition = Math.max(maxPosition, p);
    if (maxPosition >= this.config.maxPositionEmbeddings) {
      throw new RangeError(
        `Llama.forward: position ${maxPosition} is beyond the model's context of ${this.config.maxPositionEmbeddings} tokens; shorten the prompt or the generation`,
      );
    }
    return {
      B,
      T,
      maxPosition,
      ids: tensor(input.ids.flat(), [B, T], 'i32'),
      positions: tensor(positions.flat(), [B, T], 'i32'),
    };
  }

  // x (N, Cin) → (N, Cout): W x (+ b), plus the adapter's low-rank update when there is one
  private project(x: Tensor, p: Projection, input: ForwardInput, salt: number): Tensor {
    const d = p.delta;
    let y: Tensor;
    if (!d) y = linear(x, p.weight);
    else {
      if (x.shape[0] % d.slots) throw new RangeError(`LoRA with ${d.slots} slots: the batch's ${x.shape[0]} rows do not split into equal groups per slot`);
      const dropped = input.train && d.dropout > 0 ? dropout(x, d.dropout, (input.seed ?? 0) * 1000003 + salt) : undefined;
      y = lowRankLinear(x, p.weight, d.A, d.B, { scale: d.scale, slots: d.slots, dropped });
    }
    return p.bias ? add(y, p.bias) : y;
  }

  /** Frees every weight (and adapter) on the GPU. */
  dispose(): void {
    for (const t of this.weights.values()) t.dispose();
    this.rope.dispose();
  }
}

function ones(B: number, T: number): number[][] {
  return Array.from({ length: B }, () => new Array(T).fill(1));
}
