// One LoRA training step (forward, backward, AdamW) on three shapes: the tiny fixture's, a ~30M-parameter
// Llama, and Llama-3.2-1B (random weights). Prints tokens/s, achieved GFLOP/s, the forward/backward/update
// time split, and peak GPU bytes with a breakdown: weights, LoRA parameters and gradients, optimiser
// state, and the rest (activations and temporaries) — there are no gradient buffers for frozen weights.
//
// Model FLOPs per step: with the base frozen, training computes the forward (2·N·T for the N weights of
// the linear layers and the head, plus 4·L·T²·H·D for attention's two products) and the activation
// gradients (the same again); LoRA's own products are counted too. Weight gradients of the base are
// never computed, so 4·N·T, not the usual 6·N·T.
import { engine } from '../src/gpu/engine.ts';
import type { LlamaConfig } from '../src/io/hf-config.ts';
import type { Llama } from '../src/model/llama.ts';
import { loadLlama, randomLlama } from '../src/model/load.ts';
import { causalLmLoss } from '../src/model/loss.ts';
import { backward, tidy } from '../src/tensor/index.ts';
import { AdamW } from '../src/train/adamw.ts';
import { type LoraConfig, LoraAdapter } from '../src/train/lora.ts';
import { type BenchOptions, note, report, round } from './lib.ts';
import { LLAMA_1B, LLAMA_30M, LLAMA_TINY, parameterCount, randomModelFolder } from './models.ts';

interface Case {
  name: string;
  config: LlamaConfig;
  lora: LoraConfig;
  batch: number;
  seq: number;
  steps: number;
  model: () => Promise<Llama>;
}

const QV = { r: 32, alpha: 64, dropout: 0, targets: ['q_proj', 'v_proj'] } as LoraConfig;

const cases: Case[] = [
  { name: 'tiny', config: LLAMA_TINY, lora: { ...QV, r: 4, alpha: 8, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] }, batch: 2, seq: 64, steps: 5, model: async () => randomLlama(LLAMA_TINY, 1) },
  { name: '30M', config: LLAMA_30M, lora: QV, batch: 1, seq: 256, steps: 3, model: async () => randomLlama(LLAMA_30M, 1) },
  { name: '1B', config: LLAMA_1B, lora: QV, batch: 1, seq: 256, steps: 1, model: async () => loadLlama(await randomModelFolder('llama-3.2-1b', LLAMA_1B)) },
];

function modelFlops(c: Case, adapterParams: number): number {
  const { numLayers: L, numHeads: H, headDim: D, vocabSize: V, hiddenSize: C, tieWordEmbeddings } = c.config;
  const T = c.batch * c.seq;
  // Every linear weight (not the embedding lookup) plus the LM head; attention's QKᵀ and PV per layer.
  const linear = parameterCount(c.config) - V * C - L * 2 * C - C + V * C * (tieWordEmbeddings ? 1 : 0);
  const forward = 2 * T * (linear + adapterParams) + 4 * L * c.batch * c.seq * c.seq * H * D;
  return 2 * forward;
}

export async function run(opts: BenchOptions): Promise<void> {
  const only = opts.args[0];
  const { pool, cmd } = engine();
  for (const c of cases.filter((x) => !only || x.name === only)) {
    note(opts, `${c.name}: ${(parameterCount(c.config) / 1e6).toFixed(1)}M parameters, LoRA r=${c.lora.r} on ${c.lora.targets.join(',')}, batch ${c.batch} × ${c.seq}`);
    pool.trim();
    pool.resetPeak();
    const model = await c.model();
    const weightBytes = [...model.weights.values()].reduce((n, t) => n + t.bytes, 0);
    const adapter = LoraAdapter.create(model, c.lora, 1);
    const params = adapter.parameters();
    const loraBytes = params.reduce((n, t) => n + t.bytes, 0);
    const optimizer = new AdamW(params, { lr: 1e-4, maxGradNorm: 1 });
    const V = c.config.vocabSize;
    const ids = Array.from({ length: c.batch }, (_, b) => Array.from({ length: c.seq }, (_, t) => (b * 131 + t * 7919 + 1) % V));
    await cmd.sync();
    const times = { forward: 0, backward: 0, update: 0 };
    for (let s = 0; s <= c.steps; s++) {
      // Step 0 compiles the pipelines and is not timed.
      const t0 = performance.now();
      const loss = tidy(() => causalLmLoss(model.forward({ ids, train: true }), ids));
      await cmd.sync();
      const t1 = performance.now();
      tidy(() => backward(loss));
      await cmd.sync();
      const t2 = performance.now();
      optimizer.update();
      optimizer.zeroGrad();
      await loss.item();
      const t3 = performance.now();
      loss.dispose();
      if (s > 0) {
        times.forward += (t1 - t0) / 1000;
        times.backward += (t2 - t1) / 1000;
        times.update += (t3 - t2) / 1000;
      }
    }
    const step = (times.forward + times.backward + times.update) / c.steps;
    const tokens = c.batch * c.seq;
    const flops = modelFlops(c, params.reduce((n, t) => n + t.size, 0));
    const peak = pool.memory().peakAllocatedBytes;
    const gradBytes = loraBytes; // gradients exist for LoRA parameters only
    const activations = peak - weightBytes - loraBytes - gradBytes - optimizer.stateBytes;
    report(
      opts,
      {
        bench: 'lora',
        model: c.name,
        params: parameterCount(c.config),
        batch: c.batch,
        seq: c.seq,
        rank: c.lora.r,
        targets: c.lora.targets,
        step_s: step,
        forward_s: times.forward / c.steps,
        backward_s: times.backward / c.steps,
        update_s: times.update / c.steps,
        tokens_per_s: tokens / step,
        gflops: flops / step / 1e9,
        peak_gpu_bytes: peak,
        weight_bytes: weightBytes,
        lora_bytes: loraBytes,
        lora_grad_bytes: gradBytes,
        optimizer_bytes: optimizer.stateBytes,
        activation_and_temporary_bytes: activations,
      },
      `${c.name.padEnd(4)} step ${round(step)} s (forward ${round(times.forward / c.steps)}, backward ${round(times.backward / c.steps)}, update ${round(times.update / c.steps)}) | ` +
        `${round(tokens / step)} tok/s | ${round(flops / step / 1e9)} GFLOP/s | peak GPU ${round(peak / 2 ** 20)} MiB = weights ${round(weightBytes / 2 ** 20)} + LoRA ${round(loraBytes / 2 ** 20)} ` +
        `+ LoRA grads ${round(gradBytes / 2 ** 20)} + AdamW ${round(optimizer.stateBytes / 2 ** 20)} + activations/temporaries ${round(activations / 2 ** 20)} MiB`,
    );
    optimizer.dispose();
    adapter.dispose();
    model.dispose();
  }
}
