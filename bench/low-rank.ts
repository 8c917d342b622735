// One LoRA projection (lowRankLinear: x·Wᵀ + s·(x·Aᵀ)·Bᵀ, forward and backward) with its branch fused
// (shaders/low-rank.wgsl, two dispatches fewer a projection) and as GEMMs, in the same process, on the
// projections of the LoRA bench's shapes. Prints µs per forward + backward for each and fused / GEMMs: only
// ratios within a run count on a shared machine. The frozen products (x·Wᵀ, G·W) and dA, dB are the same
// kernels both ways.
//   npm run bench -- low-rank [tiny|demo|30M|1B]
import { backward, forceKernels, keep, tidy } from '../src/tensor/index.ts';
import { lowRankLinear } from '../src/tensor/ops/low-rank.ts';
import { type BenchOptions, randomTensor, report, round, timeGpu } from './lib.ts';

interface Shape {
  name: string;
  /** Rows (tokens), slots, Cin, Cout, rank. */
  N: number;
  S: number;
  Cin: number;
  Cout: number;
  r: number;
}

// bench/lora.ts's cases: tiny's attention and MLP projections, the demo's 16 slots, the 30M and 1B q_proj.
const SHAPES: Shape[] = [
  { name: 'tiny', N: 128, S: 1, Cin: 64, Cout: 64, r: 4 },
  { name: 'tiny', N: 128, S: 1, Cin: 64, Cout: 192, r: 4 },
  { name: 'tiny', N: 128, S: 1, Cin: 192, Cout: 64, r: 4 },
  { name: 'demo', N: 1024, S: 16, Cin: 128, Cout: 128, r: 8 },
  { name: '30M', N: 256, S: 1, Cin: 512, Cout: 512, r: 32 },
  { name: '1B', N: 256, S: 1, Cin: 2048, Cout: 2048, r: 32 },
];

export async function run(opts: BenchOptions): Promise<void> {
  const only = opts.args[0];
  for (const c of SHAPES.filter((s) => !only || s.name === only)) {
    const { N, S, Cin, Cout, r } = c;
    const stack = (rows: number, cols: number) => (S > 1 ? [S, rows, cols] : [rows, cols]);
    const x = keep(randomTensor([N, Cin], 'f32', 1));
    x.requiresGrad = true;
    const w = keep(randomTensor([Cout, Cin], 'bf16', 2, 0.1));
    const a = keep(randomTensor(stack(r, Cin), 'f32', 3, 0.1));
    const b = keep(randomTensor(stack(Cout, r), 'f32', 4, 0.1));
    a.requiresGrad = b.requiresGrad = true;
    const g = keep(randomTensor([N, Cout], 'f32', 5));
    const step = () =>
      tidy(() => {
        backward(lowRankLinear(x, w, a, b, { scale: 2, slots: S }), g);
        for (const t of [x, a, b]) {
          t.grad?.dispose();
          t.grad = null;
        }
      });
    const us: Record<string, number> = {};
    // Alternating, twice each, keeping the faster: a neighbour's load hits both ways alike.
    for (const pass of [0, 1]) {
      for (const way of ['fused', 'gemm']) {
        forceKernels({ lora: way });
        const t = (await timeGpu(step)) * 1e6;
        us[way] = pass === 0 ? t : Math.min(us[way], t);
      }
    }
    forceKernels({ lora: null });
    report(
      opts,
      { bench: 'low-rank', shape: c.name, N, slots: S, Cin, Cout, r, fused_us: us.fused, gemm_us: us.gemm, fused_over_gemm: us.fused / us.gemm },
      `${c.name.padEnd(4)} N ${N}${S > 1 ? ` (${S} slots)` : ''}, ${Cin} → ${Cout}, r ${r}: forward + backward fused ${round(us.fused)} µs, GEMMs ${round(us.gemm)} µs, fused/GEMMs ×${round(us.fused / us.gemm)}`,
    );
    for (const t of [x, w, a, b, g]) t.dispose();
  }
}
