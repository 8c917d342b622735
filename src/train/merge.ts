// Folding a LoRA adapter into the base weights (W += scale·B·A, in the weights' dtype, as PEFT's
// merge_and_unload does) and saving the result as an ordinary Hugging Face folder.
import { copyFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeLlamaConfig } from '../io/hf-config.ts';
import { type TensorToWrite, readGpuBytes, writeSafetensors } from '../io/safetensors.ts';
import type { Llama } from '../model/llama.ts';
import { type Tensor, decode, empty, encode, engine, gemm, groups, k, noGrad, ranges } from '../tensor/index.ts';
import type { LoraAdapter } from './lora.ts';

/** Adds every adapted projection's update into its weight, then detaches the adapter. */
export function mergeAdapter(model: Llama, adapter: LoraAdapter): void {
  noGrad(() => {
    for (const p of model.projections()) {
      const d = p.delta;
      if (!d) continue;
      const W = p.weight;
      const [Cout, Cin] = W.shape;
      const r = d.A.shape[0];
      // delta (Cout, Cin) = B (Cout, r) · A (r, Cin)
      const delta = empty([Cout, Cin]);
      gemm({ a: { t: d.B, ld: r }, b: { t: d.A, ld: Cin }, c: { t: delta, ld: Cin }, M: Cout, N: Cin, K: r });
      const kern = k('merge.wgsl', 'main', { W_F32: W.dtype === 'f32', W_DTYPE: W.dtype });
      const packed = W.dtype !== 'f32';
      for (const [s, e] of ranges(W.size, 4, 2)) {
        const ww = W.bind(s, e);
        const wd = delta.bind(s, e);
        const n = e - s;
        engine().cmd.dispatch(
          kern,
          [ww.binding, wd.binding],
          { n, scale: d.scale, base_w: ww.base, base_d: wd.base },
          groups(packed ? Math.ceil(n / 2) : n, kern),
        );
      }
      delta.dispose();
    }
  });
  adapter.detach();
}

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json', 'chat_template.jinja'];

/**
 * Writes the model as an HF folder: weights in their dtype, biases (held in f32) in their weight's dtype, as
 * transformers saves a model loaded in one dtype; tokenizer files are copied from `sourceDir`.
 */
export async function saveModel(model: Llama, dir: string, sourceDir?: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeLlamaConfig(dir, model.config);
  const names = [...model.weights.keys()].filter((n) => !(model.config.tieWordEmbeddings && n === 'lm_head.weight'));
  const entry = (name: string, t: Tensor): TensorToWrite => {
    const dtype = name.endsWith('.bias') ? (model.weights.get(name.replace(/\.bias$/, '.weight'))?.dtype ?? t.dtype) : t.dtype;
    // A bias (tiny) is converted whole; a weight streams through in pieces, as writeGpuTensors does.
    const data = dtype === t.dtype ? () => gpuPieces(t) : async () => encode(decode(await readGpuBytes(t), t.dtype), dtype);
    return { name, dtype, shape: t.shape, data };
  };
  await writeSafetensors(
    join(dir, 'model.safetensors'),
    names.map((n) => entry(n, model.weights.get(n)!)),
  );
  if (sourceDir) {
    for (const f of TOKENIZER_FILES) if (existsSync(join(sourceDir, f))) await copyFile(join(sourceDir, f), join(dir, f));
  }
}

/** A GPU tensor's bytes in pieces of at most 64 MiB (no staging buffer the size of a large embedding). */
async function* gpuPieces(t: Tensor): AsyncIterable<Uint8Array> {
  const piece = 64 << 20;
  for (let offset = 0; offset < t.bytes; offset += piece) yield new Uint8Array(await engine().cmd.read(t.buffer, offset, Math.min(piece, t.bytes - offset)));
}
