import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generate } from '../../src/model/generate.ts';
import { loadLlama, randomLlama } from '../../src/model/load.ts';
import { parseLlamaConfig } from '../../src/io/hf-config.ts';
import { causalLmLoss } from '../../src/model/loss.ts';
import { backward, bf16ToF32, f32ToBf16, noGrad, tidy } from '../../src/tensor/index.ts';
import { LoraAdapter } from '../../src/train/lora.ts';
import { mergeAdapter, saveModel } from '../../src/train/merge.ts';
import { sft } from '../../src/train/sft.ts';
import { expectAllClose } from '../helpers/check.ts';
import { FIXTURE, fixtureJson, readTensors } from '../model/fixture.ts';

const tinyConfig = parseLlamaConfig({
  model_type: 'llama',
  architectures: ['LlamaForCausalLM'],
  vocab_size: 512,
  hidden_size: 64,
  intermediate_size: 192,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  tie_word_embeddings: true,
  max_position_embeddings: 256,
  bos_token_id: 1,
  eos_token_id: 2,
});

describe('LoRA fine-tuning on the tiny fixture model', () => {
  const inputs = fixtureJson('inputs.json');

  it('has gradients that agree with central finite differences through the whole model', async () => {
    const model = await loadLlama(FIXTURE);
    const adapter = await LoraAdapter.load(model, FIXTURE);
    const lossAt = () => noGrad(() => tidy(() => causalLmLoss(model.forward({ ids: inputs.input_ids }), inputs.labels))).item();
    tidy(() => backward(causalLmLoss(model.forward({ ids: inputs.input_ids, train: true }), inputs.labels)));
    // The f32 loss is reproducible to ~1e-6 (it matches PyTorch's to that), so with h = 1e-2 the central
    // difference carries ≤ 1e-6 / h = 1e-4 of rounding noise, plus O(h²·f''') truncation ≲ 1e-4 here.
    const h = 1e-2;
    let checked = 0;
    for (const p of adapter.parameters().filter((_, i) => i % 3 === 0)) {
      const values = await p.readF32();
      const grad = await p.grad!.readF32();
      const j = grad.reduce((best, g, i) => (Math.abs(g) > Math.abs(grad[best]) ? i : best), 0);
      const probe = async (x: number) => {
        const v = Float32Array.from(values);
        v[j] = x;
        p.write(v);
        return lossAt();
      };
      const fd = ((await probe(values[j] + h)) - (await probe(values[j] - h))) / (2 * h);
      p.write(values);
      expect(Math.abs(fd - grad[j]), `${p.name}[${j}]: finite difference ${fd} vs backward ${grad[j]}`).toBeLessThan(2e-4);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(9);
    adapter.dispose();
    model.dispose();
  });

  it('drives the loss on a few sentences down, and then completes them greedily', async () => {
    // A random model of the fixture's shape, with weights large enough that logits can become confident
    // (the fixture's N(0, 0.02²) tied embedding bounds every logit to about ±2 after the final RMSNorm).
    const model = randomLlama(tinyConfig, 5, 'bf16', 0.2);
    const adapter = LoraAdapter.create(
      model,
      { r: 8, alpha: 16, dropout: 0, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] },
      1,
    );
    const sentences = [
      [1, 40, 41, 42, 43, 44, 45, 46, 2],
      [1, 100, 90, 80, 70, 60, 50, 2],
      [1, 300, 301, 302, 303, 2],
    ];
    const examples = sentences.map((ids) => ({ ids, labels: ids }));
    const losses = await sft(model, adapter.parameters(), examples, { lr: 1e-2, steps: 60, batchSize: 3, pad: 0, seed: 3 });
    expect(losses[0]).toBeGreaterThan(5); // ≈ log(512) and more before training
    // After BOS the three sentences are equally likely: 3 of the 20 targets keep a loss of ln 3, so the
    // mean cannot go below 3·ln3/20 = 0.165; everything else must be learnt.
    expect(losses.at(-1)!).toBeLessThan(0.165 + 0.08);
    for (const s of sentences) {
      const out = await generate(model, [s.slice(0, 2)], { maxNewTokens: s.length, stopIds: [2] });
      expect(out.tokens[0]).toEqual(s.slice(2, -1));
      expect(out.stopped[0]).toBe(true);
    }
    adapter.dispose();
    model.dispose();
  });

  it('trains packed rows as it trains the same examples one per row (segments and positions reach the model)', async () => {
    const sentences = [
      [1, 40, 41, 42, 43, 44, 45, 46, 2],
      [1, 100, 90, 80, 70, 60, 50, 2],
      [1, 300, 301, 302, 303, 2],
    ];
    const examples = sentences.map((ids) => ({ ids, labels: ids }));
    const run = async (batching: { batchSize: number } | { tokensPerBatch: number }) => {
      const model = randomLlama(tinyConfig, 5, 'bf16', 0.2);
      const adapter = LoraAdapter.create(model, { r: 4, alpha: 8, dropout: 0, targets: ['q_proj', 'v_proj', 'down_proj'] }, 1);
      const losses = await sft(model, adapter.parameters(), examples, { lr: 1e-2, steps: 3, pad: 0, seed: 3, ...batching });
      adapter.dispose();
      model.dispose();
      return losses;
    };
    // One step holds all three examples either way: three padded rows, or one packed row in which each
    // example attends only to itself from position 0 (without that, tokens of later examples would see
    // earlier ones and the losses would differ in the first digit). The losses then agree to f32
    // rounding of the same sums taken in another order: ~1e-6 relative over 20 targets and 64 features.
    const padded = await run({ batchSize: 3 });
    const packed = await run({ tokensPerBatch: 64 });
    expect(packed).toHaveLength(3);
    expectAllClose(packed, padded, { atol: 1e-5, rtol: 1e-5 });
  });

  it('merges W += (α/r)·B·A in bf16 as PEFT does, and the saved folder reloads to the same logits', async () => {
    const model = await loadLlama(FIXTURE);
    const adapter = await LoraAdapter.load(model, FIXTURE);
    const lora = await readTensors(join(FIXTURE, 'adapter_model.safetensors'));
    const base = await readTensors(join(FIXTURE, 'model.safetensors'));
    const adapted = await noGrad(() => tidy(() => model.forward({ ids: inputs.input_ids }))).read();
    mergeAdapter(model, adapter);
    // PEFT: delta = bf16((B·A)·scale) computed in f32, then W + delta rounded to bf16. The product has r = 4
    // terms: in f64 here vs f32 there, which can flip a rounding at a bf16 tie — allow one bf16 ulp.
    const name = 'model.layers.1.mlp.down_proj.weight';
    const [Cout, Cin] = [64, 192];
    const A = lora.get(`base_model.model.${name.replace('.weight', '')}.lora_A.weight`)!;
    const B = lora.get(`base_model.model.${name.replace('.weight', '')}.lora_B.weight`)!;
    const W = base.get(name)!;
    const expected = new Float32Array(Cout * Cin);
    for (let o = 0; o < Cout; o++) {
      for (let i = 0; i < Cin; i++) {
        let d = 0;
        for (let r = 0; r < 4; r++) d += B[o * 4 + r] * A[r * Cin + i];
        const delta = bf16ToF32(f32ToBf16(d * 2));
        expected[o * Cin + i] = bf16ToF32(f32ToBf16(W[o * Cin + i] + delta));
      }
    }
    const merged = await model.weights.get(name)!.read();
    expectAllClose(merged, expected, { atol: 0, rtol: 2 ** -7 }, 'merged weight');
    // Merged logits are the adapted ones up to the bf16 rounding of the merged weights.
    const mergedLogits = await noGrad(() => tidy(() => model.forward({ ids: inputs.input_ids }))).read();
    expectAllClose(mergedLogits, adapted, { atol: 5e-3 }, 'merged vs adapted logits');
    const dir = mkdtempSync(join(tmpdir(), 'merged-'));
    await saveModel(model, dir, FIXTURE);
    const reloaded = await loadLlama(dir);
    const again = await noGrad(() => tidy(() => reloaded.forward({ ids: inputs.input_ids }))).read();
    expectAllClose(again, mergedLogits, { atol: 0 }, 'reloaded merged model');
    reloaded.dispose();
    adapter.dispose();
    model.dispose();
  });
});
