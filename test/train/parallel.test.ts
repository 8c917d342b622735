// Parallel inner loops: a multi-slot LoRA adapter trained with sftParallel gives each slot what a lone
// fine-tune with the same seed, data and settings gives: exactly with packed token budgets, up to rounding
// with padded rows.
import { describe, expect, it } from 'vitest';
import { parseLlamaConfig } from '../../src/io/hf-config.ts';
import { randomLlama } from '../../src/model/load.ts';
import { LoraAdapter, type LoraConfig } from '../../src/train/lora.ts';
import { sft, sftParallel } from '../../src/train/sft.ts';

const config = parseLlamaConfig({
  model_type: 'llama',
  architectures: ['LlamaForCausalLM'],
  vocab_size: 256,
  hidden_size: 64,
  intermediate_size: 128,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  tie_word_embeddings: true,
  max_position_embeddings: 128,
  bos_token_id: 1,
  eos_token_id: 2,
});

describe('parallel LoRA fine-tunes (slots)', () => {
  for (const batching of [{ batchSize: 1 }, { tokensPerBatch: 20 }])
    it(`match sequential fine-tunes slot by slot (${JSON.stringify(batching)})`, async () => {
      const model = randomLlama(config, 3, 'bf16', 0.2);
      const lora: LoraConfig = { r: 4, alpha: 8, dropout: 0, targets: ['q_proj', 'v_proj', 'down_proj'] };
      const seq = (n: number, start: number) => Array.from({ length: n }, (_, t) => ((start + t * 7) % 250) + 3);
      // Different example counts and lengths per slot: different step counts and schedules.
      const data = [[seq(9, 1), seq(5, 40), seq(12, 90)].map((ids) => ({ ids, labels: ids })), [seq(7, 7), seq(11, 3)].map((ids) => ({ ids, labels: ids }))];
      const opts = { lr: 3e-3, epochs: 3, ...batching, schedule: 'linear' as const, maxGradNorm: 0.5, pad: 0 };
      const seeds = [11, 22];
      const lone: { params: Float32Array[] }[] = [];
      for (let s = 0; s < 2; s++) {
        const adapter = LoraAdapter.create(model, lora, seeds[s]);
        await sft(model, adapter.parameters(), data[s], { ...opts, seed: seeds[s] });
        lone.push({ params: await Promise.all(adapter.parameters().map((p) => p.readF32())) });
        adapter.dispose();
      }

      const parallel = LoraAdapter.create(model, { ...lora, slots: 2 }, seeds);
      const steps = await sftParallel(model, parallel, data, { ...opts, seeds });
      if ('batchSize' in batching) expect(steps).toEqual([9, 6]);
      const stacked = await Promise.all(parallel.parameters().map((p) => p.readF32()));
      for (let s = 0; s < 2; s++) {
        stacked.forEach((values, i) => {
          const per = values.length / 2;
          const mine = values.subarray(s * per, (s + 1) * per);
          let worst = 0;
          for (let j = 0; j < per; j++) worst = Math.max(worst, Math.abs(mine[j] - lone[s].params[i][j]));
          if ('tokensPerBatch' in batching) {
            // Packed rows are padded to a multiple of 8 tokens, so every sum over a row's tokens ends in the
            // same place whatever the row is batched with: exactly the lone result.
            expect(worst, `slot ${s}, parameter ${i}`).toBe(0);
          } else {
            // Each slot's optimiser state is its own, but a slot's rows are padded to the longest row of the
            // step across slots, which changes where the GEMMs split their sums over tokens (the CPU kernel
            // takes K in fours and leaves the last K % 4 to a second kernel): rounding-level differences
            // (≈ u·|x| per step, a few ULP of values ≲ 0.5 after 10 steps).
            expect(worst, `slot ${s}, parameter ${i}`).toBeLessThanOrEqual(10 * 2 ** -24 * 0.5 * 10);
          }
        });
      }
      parallel.dispose();
      model.dispose();
    });
});
