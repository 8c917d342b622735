// Qwen2.5-0.5B / 1.5B / 7B shapes (exact configs, random bf16 weights) through the path real weights take:
// written by our safetensors writer, streamed onto the GPU, then a prefill and decode steps with the KV
// cache, and one LoRA training step (SEAL's knowledge inner loop: r 32, α 64 on q_proj and v_proj, AdamW).
// Prints load time, prefill and decode tokens/s, the LoRA step's time and tokens/s, and peak GPU bytes
// against the weights'.
//
//   npm run bench -- qwen2 [0.5b|1.5b|7b] [prefill tokens] [decode steps] [LoRA sequence length]
//
// One shape at a time (the 7B weights alone are 15 GiB). Before loading, the run compares what the shape
// needs (weights, KV cache, the LoRA step's activations and logits, a margin) with the memory the machine
// has available now. A shape that does not fit is measured as the same shape cut to 1 and to k layers
// (k as many as fit, at most 4): their difference is the cost of one layer, and the full shape's
// figures are given as an extrapolation (embedding, head and fixed costs + L × one layer), marked so.
import { readFileSync } from 'node:fs';
import { freemem } from 'node:os';
import { engine } from '../src/gpu/engine.ts';
import { type LlamaConfig, weightBytes } from '../src/io/hf-config.ts';
import { KVCache } from '../src/model/kv-cache.ts';
import { loadLlama } from '../src/model/load.ts';
import { backward, noGrad, tidy } from '../src/tensor/index.ts';
import { AdamW } from '../src/train/adamw.ts';
import { LoraAdapter } from '../src/train/lora.ts';
import { type BenchOptions, note, report, round } from './lib.ts';
import { QWEN25_05B, QWEN25_15B, QWEN25_7B, parameterCount, randomModelFolder } from './models.ts';

const SHAPES: Record<string, LlamaConfig> = { '0.5b': QWEN25_05B, '1.5b': QWEN25_15B, '7b': QWEN25_7B };

interface Row {
  layers: number;
  load_s: number;
  prefill_tok_per_s: number;
  decode_tok_per_s: number;
  lora_step_s: number;
  weight_bytes: number;
  peak_gpu_bytes: number;
}

/** MemAvailable from /proc/meminfo (what can be allocated without swapping others out), else os.freemem(). */
function availableBytes(): number {
  try {
    const m = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return freemem();
}

/**
 * Bytes a run of `config` needs: the weights, the KV cache, and the LoRA step's largest transients — the
 * logits and their gradient (T·V f32, three copies), each layer's saved activations (≈ 12·C + 4·F floats
 * per token) — plus 512 MiB for the engine and pooled temporaries.
 */
function neededBytes(c: LlamaConfig, prefill: number, decode: number, loraSeq: number): number {
  const kv = 2 * c.numLayers * (prefill + decode) * c.numKvHeads * c.headDim * 4;
  const activations = 4 * loraSeq * (c.numLayers * (12 * c.hiddenSize + 4 * c.intermediateSize) + 3 * c.vocabSize);
  return weightBytes(c, 'BF16') + kv + activations + 512 * 2 ** 20;
}

async function measure(name: string, c: LlamaConfig, prefill: number, decode: number, loraSeq: number, opts: BenchOptions): Promise<Row> {
  note(opts, `${name}: writing (once) and loading a random-weight folder (${c.numLayers} layers, ${round(weightBytes(c, 'BF16') / 2 ** 30)} GiB)…`);
  const dir = await randomModelFolder(name, c);
  const { pool, cmd } = engine();
  pool.trim();
  pool.resetPeak();
  let t = performance.now();
  const model = await loadLlama(dir);
  await cmd.sync();
  const loadSeconds = (performance.now() - t) / 1000;
  const weights = [...model.weights.values()].reduce((n, w) => n + w.bytes, 0);

  const V = c.vocabSize;
  const prompt = Array.from({ length: prefill }, (_, i) => (i * 7919 + 13) % V);
  const cache = new KVCache(c, 1, prefill + decode);
  const step = async (ids: number[]) => {
    const logits = noGrad(() => tidy(() => model.forward({ ids: [ids], cache, lastOnly: true })));
    const v = await logits.readF32();
    logits.dispose();
    return v.reduce((best, x, i) => (x > v[best] ? i : best), 0);
  };
  t = performance.now();
  let next = await step(prompt);
  const prefillSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  for (let i = 0; i < decode; i++) next = await step([next]);
  const decodeSeconds = (performance.now() - t) / 1000;
  cache.dispose();

  // One LoRA step after an untimed one (pipelines compile on the first).
  const adapter = LoraAdapter.create(model, { r: 32, alpha: 64, dropout: 0, targets: ['q_proj', 'v_proj'] }, 1);
  const optimizer = new AdamW(adapter.parameters(), { lr: 1e-4, maxGradNorm: 1 });
  const ids = [Array.from({ length: loraSeq }, (_, i) => (i * 104729 + 7) % V)];
  let loraSeconds = 0;
  for (let s = 0; s < 2; s++) {
    t = performance.now();
    const loss = tidy(() => model.loss({ ids, train: true }, ids)); // as training runs it: the LM head and loss in row chunks
    tidy(() => backward(loss));
    optimizer.update();
    optimizer.zeroGrad();
    await loss.item();
    loss.dispose();
    loraSeconds = (performance.now() - t) / 1000;
  }
  optimizer.dispose();
  adapter.dispose();
  model.dispose();
  return {
    layers: c.numLayers,
    load_s: loadSeconds,
    prefill_tok_per_s: prefill / prefillSeconds,
    decode_tok_per_s: decode / decodeSeconds,
    lora_step_s: loraSeconds,
    weight_bytes: weights,
    peak_gpu_bytes: pool.memory().peakAllocatedBytes,
  };
}

function describe(label: string, r: Row, prefill: number, decode: number, loraSeq: number): string {
  return (
    `${label}: load ${round(r.load_s)} s | prefill ${prefill}: ${round(r.prefill_tok_per_s)} tok/s | decode ${decode}: ${round(r.decode_tok_per_s)} tok/s | ` +
    `LoRA step (1 × ${loraSeq}, r 32 on q,v): ${round(r.lora_step_s)} s = ${round(loraSeq / r.lora_step_s)} tok/s | ` +
    `weights ${round(r.weight_bytes / 2 ** 30)} GiB, peak GPU ${round(r.peak_gpu_bytes / 2 ** 30)} GiB = ${round(r.peak_gpu_bytes / r.weight_bytes)}×`
  );
}

export async function run(opts: BenchOptions): Promise<void> {
  const [shapeArg, prefillArg, decodeArg, seqArg] = opts.args;
  const shapes = shapeArg ? [shapeArg.toLowerCase()] : Object.keys(SHAPES);
  const prefill = Number(prefillArg ?? 128);
  const decode = Number(decodeArg ?? 16);
  const loraSeq = Number(seqArg ?? 128);
  for (const shape of shapes) {
    const c = SHAPES[shape];
    if (!c) throw new Error(`bench qwen2: unknown shape "${shape}" (have ${Object.keys(SHAPES).join(', ')})`);
    const name = `qwen2.5-${shape}`;
    const fields = { bench: 'qwen2', shape: name, params: parameterCount(c), prefill_tokens: prefill, decode_tokens: decode, lora_seq: loraSeq };
    // A 20 % margin: the machine is shared, and the OS, Dawn and the page cache need room too.
    const available = availableBytes();
    const needed = neededBytes(c, prefill, decode, loraSeq);
    if (needed <= 0.8 * available) {
      const r = await measure(name, c, prefill, decode, loraSeq, opts);
      report(opts, { ...fields, measured: 'full', ...r }, describe(name, r, prefill, decode, loraSeq));
      continue;
    }
    const cut = (layers: number): LlamaConfig => ({ ...c, numLayers: layers });
    const fits = (layers: number) => neededBytes(cut(layers), prefill, decode, loraSeq) <= 0.8 * available;
    let k = 4;
    while (k > 1 && !fits(k)) k--;
    note(
      opts,
      `${name} needs about ${round(needed / 2 ** 30)} GiB (weights ${round(weightBytes(c, 'BF16') / 2 ** 30)} GiB) and this machine has ` +
        `${round(available / 2 ** 30)} GiB available now: it does not fit. Measuring it cut to 1 and ${k} layers instead.`,
    );
    if (!fits(1)) {
      report(opts, { ...fields, measured: 'none', needed_bytes: needed, available_bytes: available }, `${name}: not even one layer fits; nothing measured`);
      continue;
    }
    const one = await measure(`${name}-L1`, cut(1), prefill, decode, loraSeq, opts);
    report(opts, { ...fields, measured: 'cut to 1 layer', ...one }, describe(`${name} cut to 1 layer`, one, prefill, decode, loraSeq));
    if (k < 2) continue;
    const many = await measure(`${name}-L${k}`, cut(k), prefill, decode, loraSeq, opts);
    report(opts, { ...fields, measured: `cut to ${k} layers`, ...many }, describe(`${name} cut to ${k} layers`, many, prefill, decode, loraSeq));
    // Times and bytes are a + b·L: b from the two cuts, then L = the full depth. Rates go through times.
    const L = c.numLayers;
    const extrapolate = (x1: number, xk: number) => x1 + ((xk - x1) / (k - 1)) * (L - 1);
    const time = (rate: number, n: number) => n / rate;
    const full: Row = {
      layers: L,
      load_s: extrapolate(one.load_s, many.load_s),
      prefill_tok_per_s: prefill / extrapolate(time(one.prefill_tok_per_s, prefill), time(many.prefill_tok_per_s, prefill)),
      decode_tok_per_s: decode / extrapolate(time(one.decode_tok_per_s, decode), time(many.decode_tok_per_s, decode)),
      lora_step_s: extrapolate(one.lora_step_s, many.lora_step_s),
      weight_bytes: extrapolate(one.weight_bytes, many.weight_bytes),
      peak_gpu_bytes: extrapolate(one.peak_gpu_bytes, many.peak_gpu_bytes),
    };
    report(
      opts,
      { ...fields, measured: `extrapolated from 1 and ${k} layers`, ...full },
      describe(`${name} EXTRAPOLATED to ${L} layers (not measured)`, full, prefill, decode, loraSeq),
    );
  }
}
