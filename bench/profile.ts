// Where a training step's GPU time goes, kernel by kernel: one LoRA step (forward, backward, AdamW) of the
// ~30M-parameter Llama shape (bench/models.ts: 6 layers of 512, a 16k vocabulary; LoRA r 32 on q and v,
// batch 1 × 256 tokens) with every dispatch timed by timestamp queries. It prints the table that
// SEAL_PROFILE=1 prints at the exit of any command (src/gpu/profiler.ts).
//   npm run bench -- profile [30M|tiny]
//
// A first step compiles the pipelines and is not profiled. Each dispatch runs in a timed pass of its own,
// so the total is the kernels' own time, not the step's wall time.
import { engine } from '../src/gpu/engine.ts';
import { randomLlama } from '../src/model/load.ts';
import { backward, profileTable, tidy } from '../src/tensor/index.ts';
import { AdamW } from '../src/train/adamw.ts';
import { LoraAdapter } from '../src/train/lora.ts';
import { type BenchOptions, note, report, round } from './lib.ts';
import { LLAMA_30M, LLAMA_TINY } from './models.ts';

export async function run(opts: BenchOptions): Promise<void> {
  const shape = opts.args[0] ?? '30M';
  if (shape !== '30M' && shape !== 'tiny') throw new Error(`profile bench: unknown shape "${shape}" (30M or tiny)`);
  const config = shape === '30M' ? LLAMA_30M : LLAMA_TINY;
  const T = shape === '30M' ? 256 : 64;
  const { cmd, gpu } = engine();
  if (!gpu.hasTimestamps) {
    note(opts, `profile: SKIPPED, this adapter (${gpu.report.description || gpu.report.device}) has no timestamp queries`);
    return;
  }
  const model = randomLlama(config, 1);
  const adapter = LoraAdapter.create(model, { r: 32, alpha: 64, dropout: 0, targets: ['q_proj', 'v_proj'] }, 1);
  const optimizer = new AdamW(adapter.parameters(), { lr: 1e-4, maxGradNorm: 1 });
  const ids = [Array.from({ length: T }, (_, t) => (t * 7919 + 1) % config.vocabSize)];
  const step = async () => {
    tidy(() => backward(model.loss({ ids, train: true }, ids)));
    optimizer.update();
    optimizer.zeroGrad();
    await cmd.sync();
  };
  note(opts, `profile: one LoRA step of the ${shape} shape (r 32 on q, v; 1 × ${T} tokens), after one to compile the pipelines`);
  await step();
  const profiler = cmd.startProfiling();
  profiler.reset();
  const t0 = performance.now();
  await step();
  const wall = (performance.now() - t0) / 1000;
  const times = await profiler.times();
  cmd.profiler = null;
  const total = times.reduce((sum, t) => sum + t.totalNs, 0);
  if (opts.json) {
    for (const t of times) {
      const fields = { kernel: t.kernel, count: t.count, total_ms: t.totalNs / 1e6, mean_us: t.totalNs / t.count / 1e3 };
      report(opts, { bench: 'profile', shape, ...fields, share: t.totalNs / Math.max(1, total) });
    }
  } else {
    console.log(profileTable(times));
    console.log(`step wall time with a timed pass per dispatch: ${round(wall)} s`);
  }
  optimizer.dispose();
  adapter.dispose();
  model.dispose();
}
