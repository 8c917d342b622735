// The key/value cache for decoding: per layer, keys and values (B, S, Hkv·D) for S cached positions per
// batch entry, and the key mask (B, S) saying which cached positions are real tokens (left padding and
// finished sequences are not).
import type { LlamaConfig } from '../io/hf-config.ts';
import { type Tensor, engine, keep, parameter } from '../tensor/index.ts';

export class KVCache {
  /** Positions filled so far (the same for every row: rows are padded to one length). */
  length = 0;
  readonly mask: Tensor;
  private readonly maskCpu: Int32Array;
  private readonly k: Tensor[];
  private readonly v: Tensor[];
  private readonly row: number; // elements per cached position: Hkv·D

  constructor(
    config: LlamaConfig,
    readonly batch: number,
    /** S: positions per row. */
    readonly capacity: number,
  ) {
    this.row = config.numKvHeads * config.headDim;
    const make = () => keep(parameter([batch, capacity, this.row]));
    this.k = Array.from({ length: config.numLayers }, make);
    this.v = Array.from({ length: config.numLayers }, make);
    this.mask = keep(parameter([batch, capacity], 'i32'));
    this.maskCpu = new Int32Array(batch * capacity);
    this.mask.write(this.maskCpu);
  }

  keys(layer: number): Tensor {
    return this.k[layer];
  }
  values(layer: number): Tensor {
    return this.v[layer];
  }

  /** Bytes held on the GPU. */
  get bytes(): number {
    return 2 * this.k.length * this.k[0].bytes + this.mask.bytes;
  }

  /** Records which of the T positions about to be appended are real tokens; returns the whole mask. */
  appendMask(attention: number[][]): Tensor {
    const T = attention[0].length;
    this.reserve(T);
    attention.forEach((row, b) => row.forEach((m, t) => (this.maskCpu[b * this.capacity + this.length + t] = m ? 1 : 0)));
    this.mask.write(this.maskCpu);
    return this.mask;
  }

  // k, v (B·T, Hkv·D) → rows [length, length + T) of each batch entry
  write(layer: number, k: Tensor, v: Tensor): void {
    const T = k.size / (this.batch * this.row);
    this.reserve(T);
    const bytes = this.row * 4;
    for (let b = 0; b < this.batch; b++) {
      const src = b * T * bytes;
      const dst = (b * this.capacity + this.length) * bytes;
      engine().cmd.copy(k.buffer, src, this.k[layer].buffer, dst, T * bytes);
      engine().cmd.copy(v.buffer, src, this.v[layer].buffer, dst, T * bytes);
    }
  }

  /** Called once per forward pass, after every layer has written its T positions. */
  advance(T: number): void {
    this.length += T;
  }

  private reserve(T: number): void {
    if (this.length + T > this.capacity) {
      throw new RangeError(`KV cache: ${this.length} + ${T} positions exceed its capacity of ${this.capacity}`);
    }
  }

  dispose(): void {
    [...this.k, ...this.v, this.mask].forEach((t) => t.dispose());
  }
}
