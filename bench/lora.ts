// One LoRA training step (forward, backward, AdamW) on four shapes: the tiny fixture's, the demo's
// (seal-tiny: 4 layers of 128, 4 heads of 32, 16 LoRA slots side by side, rows of ≤ 64 tokens), a
// ~30M-parameter Llama, and Llama-3.2-1B (random weights). Each shape runs two or three ways in the same
// process:
//   before: attention materialises its (B, H, T, keys) probabilities (GEMMs + softmax), and the loss
//           takes the whole (B·T, V) logits (Llama.forward + causalLmLoss);
//   after:  what training uses now: the LM head + cross-entropy in row chunks (Llama.loss), and the
//           attention this adapter picks for the shape (attentionKernel: fused FlashAttention-2 kernels,
//           except small shapes of ≥ 128 rows on a CPU adapter, which materialise);
//   fused:  `after` with fused attention forced, shown where `after` materialises (both paths, one run);
//   lora-gemm: `after` with LoRA's branch as GEMMs (src/tensor/ops/low-rank.ts, family `lora`), shown where
//           `after` runs it fused (two dispatches fewer a projection), right after `after`; their tok/s
//           ratio is the fastest of AB_ROUNDS alternating runs of each.
// A timed step is one forward, backward and AdamW update with one wait at its end, as training runs it;
// one more step, untimed, waits after each phase to give the forward/backward/update split. Each way also
// prints the dispatches, submits and new bind groups of a step (the fixed costs a small step pays).
// Prints tokens/s, achieved GFLOP/s, the forward/backward/update split, the after/before speed ratio, and
// peak GPU bytes (allocated from the device: live plus the pool's free buffers) with a breakdown: weights,
// LoRA parameters and gradients, optimiser state, and the rest (activations and temporaries) — there are
// no gradient buffers for frozen weights. `npm run bench -- lora <shape> [before|after|fused|lora-gemm]` runs one. Each
// way runs WARMUP untimed steps (pipelines compile; the backward's gradient-accumulating kernels and
// AdamW's later steps use other pipelines than step 0), then the case's steps, timed.
//
// `--peer torch` also runs the shape through bench/peers/lora.py (a minimal Llama + LoRA + AdamW in plain
// PyTorch, fp32, same batch × seq, same warm-up and timed steps) right after our `after` way, and prints
// both tok/s and ours / torch (bench/peer.ts; without torch a note says how to get it).
//
// Model FLOPs per step: with the base frozen, training computes the forward (2·N·T for the N weights of
// the linear layers and the head, plus 4·L·T²·H·D for attention's two products) and the activation
// gradients (the same again); LoRA's own products are counted too. Weight gradients of the base are
// never computed, so 4·N·T, not the usual 6·N·T.
import { engine } from '../src/gpu/engine.ts';
import type { LlamaConfig } from '../src/io/hf-config.ts';
import { type Llama, PROJECTIONS } from '../src/model/llama.ts';
import { loadLlama, randomLlama } from '../src/model/load.ts';
import { causalLmLoss } from '../src/model/loss.ts';
import { backward, tidy } from '../src/tensor/index.ts';
import { attentionKernel, forceAttentionKernel } from '../src/tensor/ops/attention.ts';
import { fusedLora } from '../src/tensor/ops/low-rank.ts';
import { forceKernels } from '../src/tensor/ops/variants.ts';
import { AdamW } from '../src/train/adamw.ts';
import { type LoraConfig, LoraAdapter } from '../src/train/lora.ts';
import { type BenchOptions, note, report, round } from './lib.ts';
import { LLAMA_1B, LLAMA_30M, LLAMA_TINY, SEAL_TINY, parameterCount, randomModelFolder } from './models.ts';
import { describePeer, parsePeer, runPeer } from './peer.ts';

interface Case {
  name: string;
  config: LlamaConfig;
  lora: LoraConfig;
  batch: number;
  seq: number;
  /** Real tokens per row (the rest is padding, masked), like a demo minibatch padded to its longest. */
  real?: number;
  steps: number;
  model: () => Promise<Llama>;
  /** Why `--peer torch` does not run this case (it runs every other). */
  peerSkip?: string;
}

/** Untimed steps before the timed ones. */
const WARMUP = 2;
/** Runs of `after` and of `lora-gemm` each for their ratio, the A/B of LoRA's branch. */
const AB_ROUNDS = 3;

const QV = { r: 32, alpha: 64, dropout: 0, targets: ['q_proj', 'v_proj'] } as LoraConfig;
const ALL = [...PROJECTIONS];

const cases: Case[] = [
  {
    name: 'tiny',
    config: LLAMA_TINY,
    lora: { ...QV, r: 4, alpha: 8, targets: ALL },
    batch: 2,
    seq: 64,
    steps: 5,
    model: async () => randomLlama(LLAMA_TINY, 1),
  },
  // The demo's inner loops: 16 slots, one row each of a minibatch of ≤ 64 tokens (padded to the longest).
  {
    name: 'demo',
    config: SEAL_TINY,
    lora: { ...QV, r: 8, alpha: 16, targets: ALL, slots: 16 },
    batch: 16,
    seq: 64,
    real: 48,
    steps: 5,
    model: async () => randomLlama(SEAL_TINY, 1, 'f32'),
    peerSkip: '16 LoRA slots side by side over padded rows: the torch script trains one adapter',
  },
  { name: '30M', config: LLAMA_30M, lora: QV, batch: 1, seq: 256, steps: 3, model: async () => randomLlama(LLAMA_30M, 1) },
  {
    name: '1B',
    config: LLAMA_1B,
    lora: QV,
    batch: 1,
    seq: 256,
    steps: 1,
    model: async () => loadLlama(await randomModelFolder('llama-3.2-1b', LLAMA_1B)),
    peerSkip: 'too slow for a benchmark on CPU torch (fp32: 5 GB of weights, about 1.3 TFLOP a step, 3 steps with the warm-up)',
  },
];

type Way = 'before' | 'after' | 'fused' | 'lora-gemm';
const WAYS: Way[] = ['before', 'after', 'fused', 'lora-gemm'];

function modelFlops(c: Case, adapterParams: number): number {
  const { numLayers: L, numHeads: H, headDim: D, vocabSize: V, hiddenSize: C, tieWordEmbeddings } = c.config;
  const T = c.batch * c.seq;
  // Every linear weight (not the embedding lookup) plus the LM head; attention's QKᵀ and PV per layer.
  const linear = parameterCount(c.config) - V * C - L * 2 * C - C + V * C * (tieWordEmbeddings ? 1 : 0);
  const forward = 2 * T * (linear + adapterParams) + 4 * L * c.batch * c.seq * c.seq * H * D;
  return 2 * forward;
}

/** The attention training picks on this adapter for the case's shape. */
function productionAttention(c: Case): string {
  const { numHeads: H, numKvHeads: Hkv, headDim: D } = c.config;
  return attentionKernel({ B: c.batch, T: c.seq, H, Hkv, D, S: c.seq, keys: c.seq, past: 0 });
}

async function measure(c: Case, way: Way) {
  const { pool, cmd } = engine();
  pool.trim();
  pool.resetPeak();
  const model = await c.model();
  const weightBytes = [...model.weights.values()].reduce((n, t) => n + t.bytes, 0);
  const slots = c.lora.slots ?? 1;
  const adapter = LoraAdapter.create(model, c.lora, slots > 1 ? Array.from({ length: slots }, (_, s) => s + 1) : 1);
  const params = adapter.parameters();
  const loraBytes = params.reduce((n, t) => n + t.bytes, 0);
  const optimizer = new AdamW(params, { lr: 1e-4, maxGradNorm: 1, slots });
  const V = c.config.vocabSize;
  const ids = Array.from({ length: c.batch }, (_, b) => Array.from({ length: c.seq }, (_, t) => (b * 131 + t * 7919 + 1) % V));
  const real = c.real ?? c.seq;
  const attentionMask = real < c.seq ? ids.map((row, b) => row.map((_, t) => (b % 2 === 0 || t < real ? 1 : 0))) : undefined;
  const labels = ids.map((row, b) => row.map((id, t) => (attentionMask?.[b][t] === 0 ? -100 : id)));
  const input = { ids, attentionMask, train: true };
  forceAttentionKernel(way === 'before' ? 'materialised' : way === 'fused' ? 'fused' : null);
  forceKernels({ lora: way === 'lora-gemm' ? 'gemm' : null });
  await cmd.sync();
  const lossOf = () => tidy(() => (way === 'before' ? causalLmLoss(model.forward(input), labels) : model.loss(input, labels)));
  const times = { forward: 0, backward: 0, update: 0 };
  let step = 0;
  const counts = { dispatches: 0, submits: 0, bindGroups: 0 };
  try {
    // The warm-up steps compile the pipelines and are not timed.
    for (let s = 0; s < WARMUP + c.steps; s++) {
      if (s === WARMUP) [counts.dispatches, counts.submits, counts.bindGroups] = [cmd.dispatches, cmd.submits, cmd.bindGroupsCreated];
      const t0 = performance.now();
      const loss = lossOf();
      tidy(() => backward(loss));
      optimizer.update();
      optimizer.zeroGrad();
      await loss.item();
      loss.dispose();
      if (s >= WARMUP) step += (performance.now() - t0) / 1000 / c.steps;
    }
    counts.dispatches = (cmd.dispatches - counts.dispatches) / c.steps;
    counts.submits = (cmd.submits - counts.submits) / c.steps;
    counts.bindGroups = (cmd.bindGroupsCreated - counts.bindGroups) / c.steps;
    // The split: one more step that waits after each phase.
    const t0 = performance.now();
    const loss = lossOf();
    await cmd.sync();
    const t1 = performance.now();
    tidy(() => backward(loss));
    await cmd.sync();
    const t2 = performance.now();
    optimizer.update();
    optimizer.zeroGrad();
    await loss.item();
    loss.dispose();
    const t3 = performance.now();
    times.forward = (t1 - t0) / 1000;
    times.backward = (t2 - t1) / 1000;
    times.update = (t3 - t2) / 1000;
  } finally {
    forceAttentionKernel(null);
    forceKernels({ lora: null });
  }
  const { peakAllocatedBytes: peak, peakLiveBytes: peakLive } = pool.memory();
  const result = {
    step,
    times,
    counts,
    attention: way === 'before' ? 'materialised' : way === 'fused' ? 'fused' : productionAttention(c),
    peak,
    peakLive,
    weightBytes,
    loraBytes,
    optimizerBytes: optimizer.stateBytes,
    flops: modelFlops(
      c,
      params.reduce((n, t) => n + t.size, 0),
    ),
  };
  optimizer.dispose();
  adapter.dispose();
  model.dispose();
  return result;
}

export async function run(opts: BenchOptions): Promise<void> {
  const { peer, args } = parsePeer(opts.args);
  const [only, onlyWay] = args;
  for (const c of cases.filter((x) => !only || x.name === only)) {
    note(
      opts,
      `${c.name}: ${(parameterCount(c.config) / 1e6).toFixed(1)}M parameters, LoRA r=${c.lora.r} on ${c.lora.targets.join(',')}${c.lora.slots ? ` × ${c.lora.slots} slots` : ''}, batch ${c.batch} × ${c.seq}; ${c.steps} steps timed after ${WARMUP} untimed warm-up steps`,
    );
    const steps: Partial<Record<Way, number>> = {};
    // `fused` only where `after` runs the other attention (else it would repeat `after`), or when named.
    // `lora-gemm` only where `after` runs LoRA's branch fused, right after it (same machine state).
    const ways: Way[] = [
      'before',
      'after',
      ...(fusedLora(c.lora.r) ? ['lora-gemm' as const] : []),
      ...(productionAttention(c) === 'fused' ? [] : ['fused' as const]),
    ];
    for (const way of onlyWay ? [onlyWay as Way] : ways) {
      if (!WAYS.includes(way)) throw new Error(`lora bench: no way "${way}" (${WAYS.join(', ')})`);
      const m = await measure(c, way);
      steps[way] = m.step;
      const tokens = c.batch * c.seq;
      const gradBytes = m.loraBytes; // gradients exist for LoRA parameters only
      const activations = m.peak - m.weightBytes - m.loraBytes - gradBytes - m.optimizerBytes;
      const mib = (b: number) => round(b / 2 ** 20);
      report(
        opts,
        {
          bench: 'lora',
          model: c.name,
          way,
          params: parameterCount(c.config),
          batch: c.batch,
          seq: c.seq,
          rank: c.lora.r,
          targets: c.lora.targets,
          slots: c.lora.slots ?? 1,
          attention: m.attention,
          step_s: m.step,
          forward_s: m.times.forward,
          backward_s: m.times.backward,
          update_s: m.times.update,
          dispatches_per_step: m.counts.dispatches,
          submits_per_step: m.counts.submits,
          new_bind_groups_per_step: m.counts.bindGroups,
          tokens_per_s: tokens / m.step,
          gflops: m.flops / m.step / 1e9,
          peak_gpu_bytes: m.peak,
          peak_live_bytes: m.peakLive,
          peak_over_weights: m.peak / m.weightBytes,
          weight_bytes: m.weightBytes,
          lora_bytes: m.loraBytes,
          lora_grad_bytes: gradBytes,
          optimizer_bytes: m.optimizerBytes,
          activation_and_temporary_bytes: activations,
        },
        `${c.name.padEnd(4)} ${way.padEnd(6)} step ${round(m.step)} s (split: forward ${round(m.times.forward)}, backward ${round(m.times.backward)}, update ${round(m.times.update)}) | ` +
          `${round(tokens / m.step)} tok/s | ${round(m.flops / m.step / 1e9)} GFLOP/s | ${m.attention} attention | ${m.counts.dispatches} dispatches, ${m.counts.submits} submits, ` +
          `${m.counts.bindGroups} new bind groups a step | peak GPU ${mib(m.peak)} MiB (${round(m.peak / m.weightBytes)}× the weights; live ${mib(m.peakLive)}) = weights ${mib(m.weightBytes)} + LoRA ${mib(m.loraBytes)} ` +
          `+ LoRA grads ${mib(gradBytes)} + AdamW ${mib(m.optimizerBytes)} + activations/temporaries ${mib(activations)} MiB`,
      );
    }
    if (steps.before && steps.after) {
      report(
        opts,
        { bench: 'lora', model: c.name, after_over_before_step_time: steps.after / steps.before },
        `${c.name.padEnd(4)} after/before step time ×${round(steps.after / steps.before)}`,
      );
    }
    if (steps.after && steps['lora-gemm']) {
      // The A/B of LoRA's branch: `after` and `lora-gemm` alternately, AB_ROUNDS runs each counting the two
      // above, the fastest of each (a neighbour's load only ever adds time).
      let [fused, gemms] = [steps.after, steps['lora-gemm']];
      for (let i = 1; i < AB_ROUNDS; i++) {
        fused = Math.min(fused, (await measure(c, 'after')).step);
        gemms = Math.min(gemms, (await measure(c, 'lora-gemm')).step);
      }
      const tokens = c.batch * c.seq;
      report(
        opts,
        {
          bench: 'lora',
          model: c.name,
          rounds: AB_ROUNDS,
          fused_lora_tokens_per_s: tokens / fused,
          gemm_lora_tokens_per_s: tokens / gemms,
          fused_over_gemm_lora_tok_s: gemms / fused,
        },
        `${c.name.padEnd(4)} LoRA branch fused ${round(tokens / fused)} tok/s, as GEMMs ${round(tokens / gemms)} tok/s (fastest of ${AB_ROUNDS} runs each, alternating): fused/GEMMs tok/s ×${round(gemms / fused)}`,
      );
    }
    if (peer) comparePeer(opts, c, steps.after);
  }
}

interface TorchLora {
  torch: string;
  threads: number;
  blas: string;
  python: string;
  step_s: number;
  forward_s: number;
  backward_s: number;
  update_s: number;
  tok_per_s: number;
  threads_tried: Record<string, number>;
}

/** The case through bench/peers/lora.py, and one line: our `after` tok/s, torch's, ours / torch. */
function comparePeer(opts: BenchOptions, c: Case, ourStep: number | undefined): void {
  const tokens = c.batch * c.seq;
  const fields = { bench: 'lora', model: c.name, shape: c.name, batch: c.batch, seq: c.seq, way: 'after', peer: 'torch' };
  const skip = (why: string) => {
    report(
      opts,
      { ...fields, tokPerS: ourStep ? tokens / ourStep : null, peerTokPerS: null, ratio: null, peerSkipped: why },
      `${c.name.padEnd(4)} torch  not run: ${why}`,
    );
  };
  if (c.peerSkip || !ourStep) {
    skip(c.peerSkip ?? 'the comparison is with the after way, not measured in this run');
    return;
  }
  const { config: k, lora } = c;
  const r = runPeer<TorchLora>(opts, 'lora', {
    hidden_size: k.hiddenSize,
    intermediate_size: k.intermediateSize,
    num_hidden_layers: k.numLayers,
    num_attention_heads: k.numHeads,
    num_key_value_heads: k.numKvHeads,
    head_dim: k.headDim,
    vocab_size: k.vocabSize,
    tie_word_embeddings: k.tieWordEmbeddings,
    rope_theta: k.ropeTheta,
    rms_norm_eps: k.rmsNormEps,
    lora: { r: lora.r, alpha: lora.alpha, targets: lora.targets },
    batch: c.batch,
    seq: c.seq,
    steps: c.steps,
    warmup: WARMUP,
  });
  if (!r) {
    skip('no Python with torch');
    return;
  }
  const ours = tokens / ourStep;
  note(opts, `${c.name.padEnd(4)} peer: ${describePeer(r)}`);
  report(
    opts,
    {
      ...fields,
      tokPerS: ours,
      peerTokPerS: r.tok_per_s,
      ratio: ours / r.tok_per_s,
      step_s: ourStep,
      peerStepS: r.step_s,
      peerForwardS: r.forward_s,
      peerBackwardS: r.backward_s,
      peerUpdateS: r.update_s,
      peerTorch: r.torch,
      peerThreads: r.threads,
      peerThreadsTried: r.threads_tried,
      peerBlas: r.blas,
    },
    `${c.name.padEnd(4)} torch  step ${round(r.step_s)} s (forward ${round(r.forward_s)}, backward ${round(r.backward_s)}, update ${round(r.update_s)}) | ` +
      `${round(r.tok_per_s)} tok/s at ${r.threads} thread${r.threads > 1 ? 's' : ''} (${Object.entries(r.threads_tried)
        .map(([t, sec]) => `${t}: ${round(sec)} s`)
        .join(', ')}) | ours (after) ${round(ours)} tok/s = ×${round(ours / r.tok_per_s)} torch's`,
  );
}
