// Kernel lab (after llm.c's dev/cuda): the GEMM kernel in numbered steps, each checked against the float64
// CPU reference and timed on the same square product, so a reader can see what each step bought.
//   npx tsx bench/lab/run.ts [n=1024] [rounds=3]
//
// The CPU line (what lavapipe runs):
//   1 naive              one invocation per output (shaders/matmul-naive.wgsl)
//   2 register-block     8×4 outputs per invocation: each B load feeds 8 FMAs (02-register-block.wgsl)
//   3 subgroup-broadcast A loaded once per 8-lane subgroup, shared by subgroupBroadcast (03-…wgsl; 8 lanes only)
//   4 production         four k per step from vec4 loads, a 32-row tile per subgroup with every load of a step
//                        issued before its arithmetic, any subgroup size, and (in gemm) operands whose rows are
//                        1 KiB apart read through a copy with a padded row stride (shaders/matmul-subgroup.wgsl,
//                        matmul-pack.wgsl)
// The GPU line (what GPUs run; on lavapipe only checked, its speed there means nothing):
//   5 workgroup-tiled    64×64 blocks staged in workgroup memory one element at a time, 4×4 outputs per
//                        invocation read as scalars (05-workgroup-tiled.wgsl)
//   6 gpu production     the same blocks staged and read as vec4s: one vec4 of A and one of B per k feed 16
//                        FMAs; any shape, transposes and bf16/f16 B (shaders/matmul-gpu.wgsl)
//
// Why the CPU line runs in this order on lavapipe: every storage load with a per-lane index becomes a loop
// over the lanes with a bounds check each (~10 instructions per value), while a multiply-add is 3 vector
// instructions for all 8 lanes. So the steps cut loads per FLOP: 2 per 2 FLOP (1) → 1.1 per 8 (2) → 0.16
// per 8 (3) → ~0.1 with cheaper vec4 loads (4). Workgroup memory adds a store and a load per value, hence
// the GPU line loses there. Step 4's copy: rows 4 KiB apart fall into the same L1 cache sets, and a tile's
// 32 rows evict each other. Figures move by ±30 % when other processes share the 2 cores; compare the
// ratios of one run.
import { init, shutdown } from '../../src/tensor/index.ts';
import { matmul as reference } from '../../src/tensor/cpu-reference-matmul.ts';
import { type Tensor, empty, engine } from '../../src/tensor/index.ts';
import { type GemmVariant, forceGemmVariant, gemmVariant, subgroupLanes } from '../../src/tensor/ops/matmul-kernels.ts';
import { gemm } from '../../src/tensor/ops/matmul.ts';
import { randomTensor, round, timeGpu } from '../lib.ts';

process.env.XDG_RUNTIME_DIR ??= '/tmp';

function steps(): GemmVariant[] {
  const lanes = subgroupLanes(engine().gpu);
  return [
    { ...gemmVariant('naive'), name: '1 naive' },
    { name: '2 register-block', file: '../bench/lab/02-register-block.wgsl', rows: 32, cols: 32 },
    ...(lanes === 8 ? [{ name: '3 subgroup-broadcast', file: '../bench/lab/03-subgroup-broadcast.wgsl', rows: 64, cols: 32 }] : []),
    ...(lanes ? [{ ...gemmVariant('subgroup'), name: '4 production (CPU)' }] : []),
    { name: '5 workgroup-tiled', file: '../bench/lab/05-workgroup-tiled.wgsl', rows: 64, cols: 64 },
    { ...gemmVariant('gpu'), name: '6 production (GPU)' },
  ];
}

function product(a: Tensor, b: Tensor, c: Tensor, n: number, m = n, k = n): void {
  gemm({ a: { t: a, ld: k }, b: { t: b, ld: n }, c: { t: c, ld: n }, M: m, N: n, K: k });
}

/** Largest |GPU − float64 reference| at an odd shape, relative to the largest |value|. */
async function check(v: GemmVariant): Promise<number> {
  const [M, N, K] = [67, 45, 33];
  const a = randomTensor([M, K], 'f32', 3);
  const b = randomTensor([K, N], 'f32', 4);
  const c = empty([M, N]);
  forceGemmVariant(v);
  product(a, b, c, N, M, K);
  const want = reference({ data: Float64Array.from(await a.read()), shape: [M, K] }, { data: Float64Array.from(await b.read()), shape: [K, N] });
  const got = await c.read();
  let err = 0;
  let scale = 0;
  want.data.forEach((w, i) => {
    err = Math.max(err, Math.abs(got[i] - w));
    scale = Math.max(scale, Math.abs(w));
  });
  [a, b, c].forEach((t) => t.dispose());
  return err / scale;
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 1024);
  const rounds = Number(process.argv[3] ?? 3);
  await init();
  const a = randomTensor([n, n], 'f32', 1);
  const b = randomTensor([n, n], 'f32', 2);
  const c = empty([n, n]);
  const STEPS = steps();
  if (STEPS.length < 6)
    console.log(
      `(this adapter's subgroups have ${subgroupLanes(engine().gpu) || 'no'} lanes: the 8-lane lab step 3${subgroupLanes(engine().gpu) ? '' : ' and step 4'} cannot run)`,
    );
  const errors: number[] = [];
  for (const v of STEPS) errors.push(await check(v));
  // Interleaved rounds, best time of each: other processes on the machine only ever slow a kernel down.
  const best = STEPS.map(() => Infinity);
  for (let r = 0; r < rounds; r++) {
    for (const [i, v] of STEPS.entries()) {
      forceGemmVariant(v);
      const slow = i === 0 && n > 1024;
      best[i] = Math.min(best[i], await timeGpu(() => product(a, b, c, n), { reps: slow ? 1 : 2, batchSeconds: slow ? 0 : 0.3 }));
    }
  }
  forceGemmVariant(null);
  const flop = 2 * n ** 3;
  console.log(`n = ${n}: GFLOP/s (best of ${rounds} rounds), ratio to naive, relative error vs float64`);
  for (const [i, v] of STEPS.entries()) {
    console.log(`${v.name.padEnd(22)} ${String(round(flop / best[i] / 1e9)).padStart(6)}  ×${round(best[0] / best[i])}  err ${errors[i].toExponential(1)}`);
  }
  await shutdown();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
