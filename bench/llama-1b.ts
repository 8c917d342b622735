// Llama-3.2-1B's full shape with random weights, through the exact path real weights take: written by our
// safetensors writer, streamed onto the GPU, then a 128-token prefill and 32 decode steps with the KV
// cache. Prints load time, prefill and decode tokens/s, and peak GPU bytes against the weights' bytes
// (target: under 1.3× for inference).
import { engine } from '../src/gpu/engine.ts';
import { KVCache } from '../src/model/kv-cache.ts';
import { loadLlama } from '../src/model/load.ts';
import { noGrad, tidy } from '../src/tensor/index.ts';
import { type BenchOptions, note, report, round } from './lib.ts';
import { LLAMA_1B, randomModelFolder } from './models.ts';

export async function run(opts: BenchOptions): Promise<void> {
  const prefill = Number(opts.args[0] ?? 128);
  const decode = Number(opts.args[1] ?? 32);
  note(opts, 'writing (once) and loading a random-weight Llama-3.2-1B folder…');
  const dir = await randomModelFolder('llama-3.2-1b', LLAMA_1B);
  const { pool, cmd } = engine();
  pool.trim();
  pool.resetPeak();
  const t0 = performance.now();
  const model = await loadLlama(dir);
  await cmd.sync();
  const loadSeconds = (performance.now() - t0) / 1000;
  const weightBytes = [...model.weights.values()].reduce((n, t) => n + t.bytes, 0);

  const V = LLAMA_1B.vocabSize;
  const prompt = Array.from({ length: prefill }, (_, t) => (t * 7919 + 13) % V);
  const cache = new KVCache(LLAMA_1B, 1, prefill + decode);
  const step = async (ids: number[]) => {
    const logits = noGrad(() => tidy(() => model.forward({ ids: [ids], cache, lastOnly: true })));
    const v = await logits.readF32();
    logits.dispose();
    let best = 0;
    for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
    return best;
  };
  let t = performance.now();
  let next = await step(prompt);
  const prefillSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  for (let i = 0; i < decode; i++) next = await step([next]);
  const decodeSeconds = (performance.now() - t) / 1000;
  const peak = pool.memory().peakAllocatedBytes;
  report(
    opts,
    {
      bench: 'llama-1b',
      load_s: loadSeconds,
      prefill_tokens: prefill,
      prefill_tok_per_s: prefill / prefillSeconds,
      decode_tokens: decode,
      decode_tok_per_s: decode / decodeSeconds,
      weight_bytes: weightBytes,
      kv_cache_bytes: cache.bytes,
      peak_gpu_bytes: peak,
      peak_over_weights: peak / weightBytes,
    },
    `load ${round(loadSeconds)} s | prefill ${prefill} tokens: ${round(prefill / prefillSeconds)} tok/s | decode ${decode} tokens: ` +
      `${round(decode / decodeSeconds)} tok/s | weights ${round(weightBytes / 2 ** 30)} GiB, KV cache ${round(cache.bytes / 2 ** 20)} MiB, ` +
      `peak GPU ${round(peak / 2 ** 30)} GiB = ${round(peak / weightBytes)}× the weights (target < 1.3×)`,
  );
  cache.dispose();
  model.dispose();
}
