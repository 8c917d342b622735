// Qwen2 (Qwen2ForCausalLM) against a float64 reference written from Hugging Face's modeling_qwen2.py
// (test/helpers/qwen2-reference.ts), on small random models in the exact HF layout, tied and untied, bf16
// and f32: logits, the masked loss, left-padded batches, LoRA on PEFT's default qwen2 targets (logits and
// every gradient), greedy decoding with the KV cache, and the merge.
//
// Tolerances. The engine computes in f32; the reference in f64, and once more with every op and running sum
// rounded to f32 (torch's f32 arithmetic, sequential sums). That second run's distance from f64, `gap`, is
// the rounding error an f32 implementation of this model makes with sequential sums over its reductions
// (C = 32, F = 64, D = 8, T ≤ 12 terms). The engine sums in another order (tiled, in fours); an f32 sum's
// error is bounded by (n − 1)·u·Σ|terms| in any order (Higham §4.2), and sequential summation attains a
// good share of that bound, so the engine's error is within a small multiple of `gap`: we allow 4·gap,
// plus 2 ulp of the largest value for the final rounding.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { openSafetensors } from '../../src/io/safetensors.ts';
import { generate } from '../../src/model/generate.ts';
import { loadLlama } from '../../src/model/load.ts';
import { causalLmLoss } from '../../src/model/loss.ts';
import { backward, bf16ToF32, f32ToBf16, noGrad, tidy } from '../../src/tensor/index.ts';
import { LoraAdapter, PEFT_DEFAULT_TARGETS, readAdapterConfig } from '../../src/train/lora.ts';
import { mergeAdapter, saveModel } from '../../src/train/merge.ts';
import { expectAllClose } from '../helpers/check.ts';
import { type RefModel, maxAbsDiff, refForward, refGreedy, refLoss } from '../helpers/qwen2-reference.ts';
import { writeTinyQwen2 } from './qwen2-models.ts';

const IDS = [
  [90, 17, 43, 5, 88, 61, 2, 33, 70, 12, 8, 51],
  [90, 64, 3, 29, 29, 77, 40, 11, 95, 6, 58, 21],
];
const LABELS = [
  [-100, -100, 43, 5, 88, 61, 2, 33, 70, 12, 8, 51],
  [90, 64, 3, 29, -100, 77, 40, 11, 95, -100, -100, 21],
];

/** 4·gap + 2 ulp of the largest value (see the header). */
function tolerance(f64: ArrayLike<number>, f32: ArrayLike<number>): number {
  let biggest = 0;
  for (let i = 0; i < f64.length; i++) biggest = Math.max(biggest, Math.abs(f64[i]));
  return 4 * maxAbsDiff(f64, f32) + 2 * 2 ** -23 * biggest;
}

async function forwardLogits(model: Awaited<ReturnType<typeof loadLlama>>, ids: number[][], attentionMask?: number[][], positions?: number[][]) {
  return noGrad(() => tidy(() => model.forward({ ids, attentionMask, positions }))).read();
}

describe('Qwen2 against the float64 reference of HF modeling_qwen2.py', () => {
  for (const variant of [
    { tied: true, dtype: 'bfloat16', seed: 1 },
    { tied: false, dtype: 'float32', seed: 2 },
  ] as const) {
    it(`${variant.tied ? 'tied' : 'untied'} head, ${variant.dtype} weights: logits and the masked loss`, async () => {
      const { dir, ref } = await writeTinyQwen2(variant);
      const model = await loadLlama(dir);
      expect(model.config.architecture).toBe('qwen2');
      expect(model.layers[0].proj.q_proj.bias?.shape).toEqual([32]);
      expect(model.layers[0].proj.k_proj.bias?.shape).toEqual([16]);
      expect(model.layers[0].proj.o_proj.bias).toBeUndefined();
      const expected = refForward(ref, IDS);
      const tol = tolerance(expected, refForward(ref, IDS, { precision: 'f32' }));
      const logits = await forwardLogits(model, IDS);
      expectAllClose(logits, expected, { atol: tol }, 'logits');
      const loss = await noGrad(() => tidy(() => causalLmLoss(model.forward({ ids: IDS }), LABELS))).item();
      // The loss is a mean of log-softmaxes of those logits: its error is at most the logits' (plus f32
      // rounding of a 96-term log-sum-exp and a 16-term mean, ≤ 112·u relative).
      expect(Math.abs(loss - refLoss(expected, LABELS, 96))).toBeLessThan(tol + 112 * 2 ** -24 * Math.abs(loss));
      // The bias matters: without it the logits move far outside the tolerance.
      const noBias: RefModel = { ...ref, config: { ...ref.config, qkvBias: false } };
      expect(maxAbsDiff(refForward(noBias, IDS), expected)).toBeGreaterThan(100 * tol);
      model.dispose();
    });
  }

  it('a left-padded batch gives each row the logits it has alone (positions from the mask, as HF)', async () => {
    const { dir, ref } = await writeTinyQwen2({ tied: true, dtype: 'bfloat16', seed: 3 });
    const model = await loadLlama(dir);
    const short = IDS[1].slice(0, 7);
    const padded = [[0, 0, 0, 0, 0, ...short], IDS[0]];
    const mask = [[0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1], IDS[0].map(() => 1)];
    const positions = [[0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6], IDS[0].map((_, t) => t)];
    const logits = await forwardLogits(model, padded, mask, positions);
    const alone = refForward(ref, [short]);
    const tol = tolerance(alone, refForward(ref, [short], { precision: 'f32' }));
    expectAllClose(logits.subarray(5 * 96, 12 * 96), alone, { atol: tol }, 'left-padded row');
    model.dispose();
  });

  it("LoRA on PEFT's default qwen2 targets (q_proj, v_proj): logits and every gradient; biases stay frozen", async () => {
    const { dir, ref } = await writeTinyQwen2({ tied: false, dtype: 'bfloat16', seed: 4 });
    const model = await loadLlama(dir);
    expect(PEFT_DEFAULT_TARGETS.qwen2).toEqual(['q_proj', 'v_proj']);
    const adapter = LoraAdapter.create(model, { r: 4, alpha: 8, dropout: 0, targets: [...PEFT_DEFAULT_TARGETS.qwen2] }, 7);
    // B starts at 0 (PEFT's init); give it values so that the adapter changes the outputs.
    for (const p of adapter.parameters()) {
      if (p.name!.includes('lora_B')) p.write(Float32Array.from({ length: p.size }, (_, i) => Math.fround(0.1 * Math.sin(1 + i * 0.7))));
    }
    const lora = { r: 4, alpha: 8, A: new Map<string, Float64Array>(), B: new Map<string, Float64Array>() };
    for (const p of adapter.parameters()) {
      const weight = p.name!.replace(/^base_model\.model\./, '').replace(/\.lora_[AB]\.weight$/, '.weight');
      (p.name!.includes('lora_A') ? lora.A : lora.B).set(weight, Float64Array.from(await p.readF32()));
    }
    expect([...lora.A.keys()].sort()).toEqual([
      'model.layers.0.self_attn.q_proj.weight',
      'model.layers.0.self_attn.v_proj.weight',
      'model.layers.1.self_attn.q_proj.weight',
      'model.layers.1.self_attn.v_proj.weight',
    ]);
    const adapted: RefModel = { ...ref, lora };
    const expected = refForward(adapted, IDS);
    const tol = tolerance(expected, refForward(adapted, IDS, { precision: 'f32' }));
    expectAllClose(await forwardLogits(model, IDS), expected, { atol: tol }, 'LoRA logits');

    const loss = tidy(() => {
      const l = causalLmLoss(model.forward({ ids: IDS, train: true }), LABELS);
      backward(l);
      return l;
    });
    expect(Math.abs((await loss.item()) - refLoss(expected, LABELS, 96))).toBeLessThan(tol + 112 * 2 ** -24 * 5);
    loss.dispose();
    for (const layer of model.layers) for (const p of Object.values(layer.proj)) if (p.bias) expect(p.bias.grad, `${p.name} bias`).toBeNull();

    // d loss / d (every A and B entry) by central differences of the float64 reference (h = 1e-4: truncation
    // O(h²·f''') ≈ 1e-8, rounding ≈ 1e-16 / 1e-4 = 1e-12). The f32 backward runs the forward's reductions in
    // reverse (lengths ≤ 64) through the same 2 layers: its error relative to the largest gradient is that of
    // the forward relative to the largest logit, so we allow the forward's relative tolerance, at least
    // 2e-6, times the largest gradient.
    const relative = Math.max(2e-6, tol / Math.max(...expected.map(Math.abs)));
    for (const p of adapter.parameters()) {
      const which = p.name!.includes('lora_A') ? lora.A : lora.B;
      const weight = p.name!.replace(/^base_model\.model\./, '').replace(/\.lora_[AB]\.weight$/, '.weight');
      const values = which.get(weight)!;
      const grad = await p.grad!.readF32();
      // 16 entries of each tensor (every one would take a minute of float64 forwards): the largest
      // gradient's and 15 spread evenly.
      const largest = grad.reduce((best, g, j) => (Math.abs(g) > Math.abs(grad[best]) ? j : best), 0);
      const picks = [largest, ...Array.from({ length: 15 }, (_, k) => Math.floor(((k + 0.5) * values.length) / 15))];
      const fd = picks.map((j) => {
        const x0 = values[j];
        const at = (x: number) => {
          values[j] = x;
          const l = refLoss(refForward(adapted, IDS), LABELS, 96);
          values[j] = x0;
          return l;
        };
        return (at(x0 + 1e-4) - at(x0 - 1e-4)) / 2e-4;
      });
      const scale = Math.max(...fd.map(Math.abs));
      expect(scale, `${p.name} has a gradient`).toBeGreaterThan(0);
      expectAllClose(
        picks.map((j) => grad[j]),
        fd,
        { atol: relative * scale },
        `grad ${p.name}`,
      );
    }
    // A PEFT adapter_config.json with target_modules null means PEFT's default for the architecture.
    const saved = mkdtempSync(join(tmpdir(), 'qwen2-adapter-'));
    await adapter.save(saved);
    const config = JSON.parse(readFileSync(join(saved, 'adapter_config.json'), 'utf8'));
    writeFileSync(join(saved, 'adapter_config.json'), JSON.stringify({ ...config, target_modules: null }));
    expect((await readAdapterConfig(saved, 'qwen2')).targets).toEqual(['q_proj', 'v_proj']);
    adapter.dispose();
    model.dispose();
  });

  it('greedy decoding with the KV cache, alone and left-padded in a batch, token for token', async () => {
    const { dir, ref } = await writeTinyQwen2({ tied: true, dtype: 'bfloat16', seed: 5 });
    const model = await loadLlama(dir);
    const prompts = [IDS[0].slice(0, 9), IDS[1].slice(0, 4), [90, 50]];
    const steps = 10;
    const expected = prompts.map((p) => refGreedy(ref, p, steps));
    // Each step's choice is meaningful only if the margin between the top two logits is beyond what f32
    // rounding can move (the logit tolerance, twice): the seed is chosen so that it is.
    const tol = tolerance(refForward(ref, IDS), refForward(ref, IDS, { precision: 'f32' }));
    for (const e of expected) expect(Math.min(...e.margins)).toBeGreaterThan(2 * tol);
    const alone = await generate(model, [prompts[0]], { maxNewTokens: steps, stopIds: [] });
    expect(alone.tokens[0]).toEqual(expected[0].tokens);
    const batch = await generate(model, prompts, { maxNewTokens: steps, stopIds: [] });
    expect(batch.tokens).toEqual(expected.map((e) => e.tokens));
    model.dispose();
  });

  it('merges LoRA into the bf16 weights as PEFT does, leaves the biases alone, and saves an HF Qwen2 folder that reloads exactly', async () => {
    const { dir, ref } = await writeTinyQwen2({ tied: true, dtype: 'bfloat16', seed: 6 });
    const model = await loadLlama(dir);
    const adapter = LoraAdapter.create(model, { r: 4, alpha: 16, dropout: 0, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] }, 3);
    for (const p of adapter.parameters()) {
      if (p.name!.includes('lora_B')) p.write(Float32Array.from({ length: p.size }, (_, i) => Math.fround(0.05 * Math.cos(i))));
    }
    const name = 'model.layers.1.self_attn.k_proj';
    const A = await adapter
      .parameters()
      .find((p) => p.name === `base_model.model.${name}.lora_A.weight`)!
      .readF32();
    const B = await adapter
      .parameters()
      .find((p) => p.name === `base_model.model.${name}.lora_B.weight`)!
      .readF32();
    mergeAdapter(model, adapter);
    // PEFT's merge: W += delta.to(bf16), delta = (α/r)·B·A computed in f32 (4 terms): the f32 rounding of the
    // delta can flip a bf16 rounding at a tie, so one bf16 ulp (at most 2⁻⁷ relative) is allowed.
    const W = ref.weights.get(`${name}.weight`)!;
    const merged = Float64Array.from(W, (w, j) => {
      const o = Math.floor(j / 32);
      const i = j % 32;
      let d = 0;
      for (let k = 0; k < 4; k++) d += B[o * 4 + k] * A[k * 32 + i];
      return bf16ToF32(f32ToBf16(w + bf16ToF32(f32ToBf16(4 * d))));
    });
    expectAllClose(await model.weights.get(`${name}.weight`)!.read(), merged, { atol: 0, rtol: 2 ** -7 }, 'merged k_proj');
    expectAllClose(await model.weights.get(`${name}.bias`)!.read(), ref.weights.get(`${name}.bias`)!, { atol: 0 }, 'k_proj bias untouched');

    const out = mkdtempSync(join(tmpdir(), 'qwen2-merged-'));
    await saveModel(model, out);
    const written = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(written).toMatchObject({
      architectures: ['Qwen2ForCausalLM'],
      model_type: 'qwen2',
      use_sliding_window: false,
      rope_theta: 1000000,
      rms_norm_eps: 1e-6,
      tie_word_embeddings: true,
    });
    expect(written).not.toHaveProperty('head_dim');
    const files = await openSafetensors(out);
    expect(files.info(`${name}.bias`).dtype).toBe('BF16');
    expect(files.names).not.toContain('lm_head.weight');
    await files.close();
    const reloaded = await loadLlama(out);
    expectAllClose(await forwardLogits(reloaded, IDS), await forwardLogits(model, IDS), { atol: 0 }, 'reloaded merged model');
    reloaded.dispose();
    adapter.dispose();
    model.dispose();
  });
});
