import { describe, expect, it } from 'vitest';
import { loadLlama } from '../../src/model/load.ts';
import { causalLmLoss } from '../../src/model/loss.ts';
import { ropeInverseFrequencies } from '../../src/model/rope-scaling.ts';
import { noGrad, tidy } from '../../src/tensor/index.ts';
import { expectAllClose } from '../helpers/check.ts';
import { FIXTURE, fixtureJson, fixtureTensors } from './fixture.ts';

// The fixture's README measures the f32-vs-f64 rounding of its own computation (1.5e-7 on base logits,
// 2.8e-7 on the 1024-token logits, 1.1e-8 on the loss) and expects a correct f32 implementation with a
// different summation order within ~1e-5 on logits and ~1e-6 on losses: our reductions run over C = 64
// (projections), 192 (MLP), T ≤ 1024 (attention) terms, each rounding ≤ n·u relative of terms ≲ 1.
const LOGIT_TOL = 1e-5;
const LOSS_TOL = 1e-6;

describe('Llama-3.2-shaped tiny model against Hugging Face (llama-tiny fixture)', () => {
  const inputs = fixtureJson('inputs.json');
  const reference = fixtureJson('reference.json');

  it('computes llama3-scaled RoPE inverse frequencies exactly as transformers does in float32', () => {
    const rope = fixtureJson('rope.json');
    const inv = ropeInverseFrequencies({
      headDim: 16,
      ropeTheta: rope.rope_theta,
      ropeScaling: {
        type: 'llama3',
        factor: 32,
        lowFreqFactor: 1,
        highFreqFactor: 4,
        originalMaxPositionEmbeddings: 8192,
      },
    });
    expectAllClose(inv, rope.inv_freq_llama3_f32, { atol: 0 }, 'inv_freq');
  });

  it('matches the logits and the masked / unmasked losses', async () => {
    const model = await loadLlama(FIXTURE);
    const base = await fixtureTensors('base_outputs.safetensors');
    const { logits, masked, unmasked } = await noGrad(async () => {
      const logits = tidy(() => model.forward({ ids: inputs.input_ids }));
      const masked = tidy(() => causalLmLoss(logits, inputs.labels));
      const unmasked = tidy(() => causalLmLoss(logits, inputs.input_ids));
      return { logits: await logits.read(), masked: await masked.item(), unmasked: await unmasked.item() };
    });
    expectAllClose(logits, base.get('logits')!, { atol: LOGIT_TOL }, 'logits');
    expect(Math.abs(masked - reference.losses.base_loss_masked)).toBeLessThan(LOSS_TOL);
    expect(Math.abs(unmasked - reference.losses.base_loss_unmasked)).toBeLessThan(LOSS_TOL);
    model.dispose();
  });

  it('matches the 1,024-token logits, where the llama3 frequency scaling matters (9.4e-4 if omitted)', async () => {
    const model = await loadLlama(FIXTURE);
    const long = await fixtureTensors('long_outputs.safetensors');
    const logits = await noGrad(() => tidy(() => model.forward({ ids: inputs.long_input_ids }))).read();
    expectAllClose(logits, long.get('logits')!, { atol: LOGIT_TOL }, '1024-token logits');
    model.dispose();
  });
});

describe('generation against Hugging Face (llama-tiny fixture)', () => {
  const reference = fixtureJson('reference.json');

  it('continues the greedy prompt token for token, with a KV cache, alone and in a left-padded batch', async () => {
    const { generate } = await import('../../src/model/generate.ts');
    const model = await loadLlama(FIXTURE);
    const prompt: number[] = reference.greedy.prompt;
    const expected = reference.greedy.base_tokens;
    const alone = await generate(model, [prompt], { maxNewTokens: 8, stopIds: [] });
    expect(alone.tokens[0]).toEqual(expected);
    // Beside a longer prompt, this one is left-padded: positions and masks must make that invisible.
    const batch = await generate(model, [[1, 5, 6, 7, 8, 9, 10, 11], prompt], { maxNewTokens: 8, stopIds: [] });
    expect(batch.tokens[1]).toEqual(expected);
    model.dispose();
  });
});

describe('packed rows (document segments)', () => {
  it('gives each document the logits it has alone', async () => {
    const model = await loadLlama(FIXTURE);
    const a = [1, 17, 341, 92, 5];
    const b = [1, 300, 12, 87];
    const packed = await noGrad(() =>
      tidy(() => model.forward({ ids: [[...a, ...b, 0]], segments: [[1, 1, 1, 1, 1, 2, 2, 2, 2, 0]], positions: [[0, 1, 2, 3, 4, 0, 1, 2, 3, 0]] })),
    ).read();
    const alone = await noGrad(() => tidy(() => model.forward({ ids: [b] }))).read();
    const V = 512;
    // The same sums in the same order, over the same keys: identical up to the GEMM tiling of a longer row.
    expectAllClose(packed.subarray(5 * V, 9 * V), alone, { atol: LOGIT_TOL }, 'second document');
    model.dispose();
  });
});
