// A float64 CPU reference of Hugging Face's Qwen2ForCausalLM (transformers' models/qwen2/modeling_qwen2.py),
// written op for op from that code and independent of the engine: Qwen2RMSNorm, Qwen2RotaryEmbedding's
// default RoPE (inv_freq and the angle in float32 as HF computes them), Qwen2Attention (q/k/v with bias,
// o_proj without, rotate_half RoPE, repeat_kv for GQA, eager softmax attention with the causal and padding
// mask), Qwen2MLP, the tied or untied LM head, ForCausalLMLoss, and PEFT's LoRA Linear
// (base_layer(x) + lora_B(lora_A(x))·α/r, bias untouched). The same model is a Llama when qkvBias is false.
//
// `precision: 'f32'` rounds every op's result and every running sum to float32 (torch's f32 arithmetic with
// sequential sums): the gap between the two modes measures how far an f32 computation of this very model
// lands from exact arithmetic, which is what the tests' tolerances are derived from.
//
// Shapes: B batch, T tokens, C hidden, H / Hkv heads, D head size, F intermediate, V vocabulary.
import type { LlamaConfig } from '../../src/io/hf-config.ts';

export interface RefLora {
  r: number;
  alpha: number;
  /** Per adapted projection's HF weight name (…q_proj.weight): A (r, Cin) and B (Cout, r). */
  A: Map<string, Float64Array>;
  B: Map<string, Float64Array>;
}

export interface RefModel {
  config: LlamaConfig;
  /** Every HF tensor by name, as the values the engine sees (after the file's bf16/f32 rounding). */
  weights: Map<string, Float64Array>;
  lora?: RefLora;
}

export interface RefOptions {
  precision?: 'f64' | 'f32';
  /** 1 for real tokens, 0 for padding, (B, T). Default all ones. */
  attentionMask?: number[][];
  /** Default: HF's for the mask — cumsum(mask) − 1, and 1 at padding. */
  positionIds?: number[][];
}

/** logits (B, T, V) of the model on ids (B, T). */
export function refForward(m: RefModel, ids: number[][], opts: RefOptions = {}): Float64Array {
  const c = m.config;
  const { hiddenSize: C, numHeads: H, numKvHeads: Hkv, headDim: D, vocabSize: V, rmsNormEps: eps } = c;
  const r = opts.precision === 'f32' ? Math.fround : (x: number) => x;
  const B = ids.length;
  const T = ids[0].length;
  const mask = opts.attentionMask ?? ids.map((row) => row.map(() => 1));
  const positions =
    opts.positionIds ??
    mask.map((row) => {
      let seen = 0;
      return row.map((v) => (v ? seen++ : 1));
    });
  const w = (name: string) => {
    const t = m.weights.get(name);
    if (!t) throw new Error(`reference: weight ${name} is missing`);
    return t;
  };

  // y (N, Cout) = x (N, Cin) · Wᵀ (+ b) (+ α/r · (x · Aᵀ) · Bᵀ): nn.Linear, and PEFT's LoRA Linear around it.
  const linear = (x: Float64Array, N: number, Cin: number, name: string, bias: boolean): Float64Array => {
    const W = w(`${name}.weight`);
    const Cout = W.length / Cin;
    const out = new Float64Array(N * Cout);
    const b = bias ? w(`${name}.bias`) : null;
    for (let n = 0; n < N; n++) {
      for (let o = 0; o < Cout; o++) {
        let s = 0;
        for (let i = 0; i < Cin; i++) s = r(s + r(x[n * Cin + i] * W[o * Cin + i]));
        out[n * Cout + o] = b ? r(s + b[o]) : s;
      }
    }
    const A = m.lora?.A.get(`${name}.weight`);
    const Bm = m.lora?.B.get(`${name}.weight`);
    if (A && Bm) {
      const rank = m.lora!.r;
      const scaling = m.lora!.alpha / rank;
      for (let n = 0; n < N; n++) {
        const h = new Float64Array(rank);
        for (let k = 0; k < rank; k++) {
          let s = 0;
          for (let i = 0; i < Cin; i++) s = r(s + r(x[n * Cin + i] * A[k * Cin + i]));
          h[k] = s;
        }
        for (let o = 0; o < Cout; o++) {
          let s = 0;
          for (let k = 0; k < rank; k++) s = r(s + r(h[k] * Bm[o * rank + k]));
          out[n * Cout + o] = r(out[n * Cout + o] + r(s * scaling));
        }
      }
    }
    return out;
  };

  // Qwen2RMSNorm: weight · (x · rsqrt(mean(x²) + eps))
  const rmsnorm = (x: Float64Array, N: number, weight: Float64Array): Float64Array => {
    const out = new Float64Array(x.length);
    for (let n = 0; n < N; n++) {
      let ss = 0;
      for (let i = 0; i < C; i++) ss = r(ss + r(x[n * C + i] * x[n * C + i]));
      const rstd = r(1 / Math.sqrt(r(r(ss / C) + eps)));
      for (let i = 0; i < C; i++) out[n * C + i] = r(weight[i] * r(x[n * C + i] * rstd));
    }
    return out;
  };

  // Qwen2RotaryEmbedding (default): inv_freq = 1 / θ^(arange(0, D, 2) / D) and the angle position·inv_freq,
  // both in float32 as HF computes them; cos/sin of that angle.
  const f = Math.fround;
  const invFreq = Array.from({ length: D / 2 }, (_, i) => f(1 / f(c.ropeTheta ** f(f(2 * i) / D))));
  // apply_rotary_pos_emb with rotate_half: x·cos + rotate_half(x)·sin, on (N, heads·D) rows in place.
  const applyRope = (x: Float64Array, heads: number) => {
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const pos = positions[b][t];
        for (let h = 0; h < heads; h++) {
          const o = (b * T + t) * heads * D + h * D;
          for (let i = 0; i < D / 2; i++) {
            const angle = f(pos * invFreq[i]);
            const cos = r(Math.cos(angle));
            const sin = r(Math.sin(angle));
            const x1 = x[o + i];
            const x2 = x[o + i + D / 2];
            x[o + i] = r(r(x1 * cos) - r(x2 * sin));
            x[o + i + D / 2] = r(r(x2 * cos) + r(x1 * sin));
          }
        }
      }
    }
  };

  // Embedding.
  const E = w('model.embed_tokens.weight');
  let x = new Float64Array(B * T * C);
  ids.forEach((row, b) => row.forEach((id, t) => x.set(E.subarray(id * C, (id + 1) * C), (b * T + t) * C)));

  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}`;
    const N = B * T;
    // Self-attention.
    const h = rmsnorm(x, N, w(`${p}.input_layernorm.weight`));
    const q = linear(h, N, C, `${p}.self_attn.q_proj`, c.qkvBias);
    const k = linear(h, N, C, `${p}.self_attn.k_proj`, c.qkvBias);
    const v = linear(h, N, C, `${p}.self_attn.v_proj`, c.qkvBias);
    applyRope(q, H);
    applyRope(k, Hkv);
    const attn = new Float64Array(N * H * D);
    const scaling = D ** -0.5;
    for (let b = 0; b < B; b++) {
      for (let head = 0; head < H; head++) {
        const kvHead = Math.floor(head / (H / Hkv)); // repeat_kv
        for (let t = 0; t < T; t++) {
          // Keys j ≤ t that are not padding; a row with none (a padding query) gets uniform weights, as
          // softmax over equal min-valued scores does; such rows never reach a real token's output.
          const visible = (j: number) => j <= t && mask[b][j] === 1;
          const scores = new Float64Array(T);
          let maxScore = -Infinity;
          for (let j = 0; j <= t; j++) {
            let s = 0;
            for (let d = 0; d < D; d++) s = r(s + r(q[(b * T + t) * H * D + head * D + d] * k[(b * T + j) * Hkv * D + kvHead * D + d]));
            scores[j] = r(s * scaling);
            if (visible(j)) maxScore = Math.max(maxScore, scores[j]);
          }
          const weights = new Float64Array(T);
          let total = 0;
          for (let j = 0; j <= t; j++) {
            weights[j] = maxScore === -Infinity ? 1 : visible(j) ? r(Math.exp(r(scores[j] - maxScore))) : 0;
            total = r(total + weights[j]);
          }
          for (let d = 0; d < D; d++) {
            let s = 0;
            for (let j = 0; j <= t; j++) s = r(s + r(r(weights[j] / total) * v[(b * T + j) * Hkv * D + kvHead * D + d]));
            attn[(b * T + t) * H * D + head * D + d] = s;
          }
        }
      }
    }
    const o = linear(attn, N, H * D, `${p}.self_attn.o_proj`, false);
    x = x.map((xi, i) => r(xi + o[i]));
    // MLP: down(silu(gate(h)) ⊙ up(h)).
    const h2 = rmsnorm(x, N, w(`${p}.post_attention_layernorm.weight`));
    const gate = linear(h2, N, C, `${p}.mlp.gate_proj`, false);
    const up = linear(h2, N, C, `${p}.mlp.up_proj`, false);
    const F = c.intermediateSize;
    const act = gate.map((g, i) => r(r(g * r(1 / r(1 + r(Math.exp(-g))))) * up[i]));
    const down = linear(act, N, F, `${p}.mlp.down_proj`, false);
    x = x.map((xi, i) => r(xi + down[i]));
  }
  const final = rmsnorm(x, B * T, w('model.norm.weight'));
  const head = c.tieWordEmbeddings ? E : w('lm_head.weight');
  const logits = new Float64Array(B * T * V);
  for (let n = 0; n < B * T; n++) {
    for (let vi = 0; vi < V; vi++) {
      let s = 0;
      for (let i = 0; i < C; i++) s = r(s + r(final[n * C + i] * head[vi * C + i]));
      logits[n * V + vi] = s;
    }
  }
  return logits;
}

/** ForCausalLMLoss: logits[b, t] scored against labels[b][t + 1], −100 ignored, mean over scored targets. */
export function refLoss(logits: Float64Array, labels: number[][], V: number): number {
  let total = 0;
  let count = 0;
  const T = labels[0].length;
  labels.forEach((row, b) => {
    for (let t = 0; t + 1 < T; t++) {
      const target = row[t + 1];
      if (target === -100) continue;
      const z = logits.subarray((b * T + t) * V, (b * T + t + 1) * V);
      let m = -Infinity;
      for (const v of z) m = Math.max(m, v);
      let s = 0;
      for (const v of z) s += Math.exp(v - m);
      total += m + Math.log(s) - z[target];
      count++;
    }
  });
  return total / count;
}

/**
 * Greedy decoding as generate(do_sample=False) does for one unpadded prompt: each step the argmax of the
 * last position's logits (the first maximum, as torch.argmax). Also the top-1 − top-2 margin of every
 * step, so a test can tell a meaningful token from a coin toss.
 */
export function refGreedy(m: RefModel, prompt: number[], steps: number): { tokens: number[]; margins: number[] } {
  const V = m.config.vocabSize;
  const seq = [...prompt];
  const tokens: number[] = [];
  const margins: number[] = [];
  for (let s = 0; s < steps; s++) {
    const logits = refForward(m, [seq]);
    const last = logits.subarray((seq.length - 1) * V, seq.length * V);
    let best = 0;
    for (let i = 1; i < V; i++) if (last[i] > last[best]) best = i;
    let second = -Infinity;
    for (let i = 0; i < V; i++) if (i !== best) second = Math.max(second, last[i]);
    tokens.push(best);
    margins.push(last[best] - second);
    seq.push(best);
  }
  return { tokens, margins };
}

/** The largest |a − b| over two arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
