// Attention alone, forward and forward + backward, fused (FlashAttention-2 kernels) against the
// materialised GEMM + softmax path in the same run, on the shapes the models use: the tiny fixture's, the
// demo's (seal-tiny: 4 heads of 32, rows of ≤ 64 tokens, 16 LoRA slots side by side), the 30M and 1B
// shapes at 256 tokens, and 1B decoding (one query against 1,024 cached keys). Prints ms per call and the
// ratio materialised / fused (> 1: fused is faster), and the bytes each keeps for the backward.
import { type AttentionShape, attention, forceAttentionKernel } from '../src/tensor/ops/attention.ts';
import { backward, engine, tensor, tidy } from '../src/tensor/index.ts';
import { type BenchOptions, randomTensor, report, round, timeGpu } from './lib.ts';

interface Case {
  name: string;
  s: AttentionShape;
  /** Padding mask (B, S): the last `pad` keys of every other row are padding. */
  pad?: number;
  backward: boolean;
}

const training = (B: number, T: number, H: number, Hkv: number, D: number) => ({ B, T, H, Hkv, D, S: T, keys: T, past: 0 });

const cases: Case[] = [
  { name: 'tiny', s: training(2, 64, 4, 2, 16), backward: true },
  { name: 'demo', s: training(32, 32, 4, 4, 32), pad: 12, backward: true },
  { name: 'demo-sft', s: training(4, 256, 4, 4, 32), backward: true },
  { name: '128', s: training(1, 128, 8, 2, 64), backward: true },
  { name: '30M', s: training(1, 256, 8, 2, 64), backward: true },
  { name: '512', s: training(1, 512, 8, 2, 64), backward: true },
  { name: '1B-256', s: training(1, 256, 32, 8, 64), backward: true },
  { name: '1B-decode', s: { B: 1, T: 1, H: 32, Hkv: 8, D: 64, S: 1024, keys: 1024, past: 1023 }, backward: false },
  { name: 'demo-decode', s: { B: 80, T: 1, H: 4, Hkv: 4, D: 32, S: 64, keys: 40, past: 39 }, backward: false },
];

export async function run(opts: BenchOptions): Promise<void> {
  const only = opts.args[0];
  for (const c of cases.filter((x) => !only || x.name === only)) {
    const { s } = c;
    const q = randomTensor([s.B, s.T, s.H * s.D], 'f32', 1);
    const k = randomTensor([s.B, s.S, s.Hkv * s.D], 'f32', 2);
    const v = randomTensor([s.B, s.S, s.Hkv * s.D], 'f32', 3);
    const dout = randomTensor([s.B, s.T, s.H * s.D], 'f32', 4);
    const mask = c.pad
      ? tensor(
          Array.from({ length: s.B * s.S }, (_, i) => (Math.floor(i / s.S) % 2 && i % s.S >= s.S - c.pad! ? 0 : 1)),
          [s.B, s.S],
          'i32',
        )
      : undefined;
    for (const t of [q, k, v]) t.requiresGrad = c.backward;
    const step = () =>
      tidy(() => {
        const o = attention(q, k, v, s, { keyMask: mask });
        if (c.backward) backward(o, dout);
        for (const t of [q, k, v]) {
          t.grad?.dispose();
          t.grad = null;
        }
      });
    const ms: Record<string, number> = {};
    const kept: Record<string, number> = {};
    for (const kind of ['materialised', 'fused'] as const) {
      forceAttentionKernel(kind);
      ms[kind] = (await timeGpu(step)) * 1000;
      // Bytes the graph keeps for the backward beyond q, k, v (the probabilities, or out + lse).
      const o = attention(q, k, v, s, { keyMask: mask });
      kept[kind] = (o.node?.saved ?? []).filter((t) => ![q, k, v, mask].includes(t)).reduce((n, t) => n + t.bytes, 0);
      o.dispose();
      await engine().cmd.sync();
    }
    forceAttentionKernel(null);
    const what = c.backward ? 'forward + backward' : 'forward';
    report(
      opts,
      {
        bench: 'attention',
        shape: c.name,
        ...s,
        pass: what,
        materialised_ms: ms.materialised,
        fused_ms: ms.fused,
        speedup: ms.materialised / ms.fused,
        materialised_saved_bytes: kept.materialised,
        fused_saved_bytes: kept.fused,
      },
      `${c.name.padEnd(11)} B=${s.B} T=${s.T} keys=${s.keys} H=${s.H}/${s.Hkv} D=${s.D} ${what}: materialised ${round(ms.materialised)} ms, fused ${round(ms.fused)} ms ` +
        `(×${round(ms.materialised / ms.fused)}) | kept for backward: ${round(kept.materialised / 2 ** 20)} MiB vs ${round(kept.fused / 2 ** 20)} MiB`,
    );
    [q, k, v, dout, mask].forEach((t) => t?.dispose());
  }
}
