// The device check: one command for the day a real GPU is lent (it should take under 8 minutes there).
// It runs the kernel tests on the GPU, then the benchmarks that tell a user what the engine does on it,
// each in a process of its own (so every peak is its own), and ends with a summary:
//   1. the kernel tests (test/tensor, test/gpu; the default vitest project), pass and fail counts
//   2. Llama-3.2-1B's shape, random weights: prefill and decode tok/s, peak GPU memory   (bench llama-1b)
//   3. a LoRA step of the 1B shape: tok/s, step time, peak GPU memory                    (bench lora 1B)
//   4. an ARC test-time-training step (1B, the paper's oracle configuration): step time and peak (bench arc-ttt;
//      it needs ../shared/data/arc and says so when absent)
//   5. where a LoRA step's GPU time goes, kernel by kernel (30M shape)                   (bench profile)
//
//   npm run bench -- gpu-check             the check as above
//   npm run bench -- gpu-check --quick     less work (8-token prefill, 4 decode steps, the 30M LoRA step, a
//                                          32-token ARC step): proves on lavapipe that it runs end to end
//
// The first run writes a random-weight 1B folder (2.5 GB) under the system's temporary folder; later runs
// reuse it. A step that fails is reported and the rest still run; the exit code says whether all passed.
// Not part of `npm run bench` (all benchmarks): it runs them itself.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engine, shutdown } from '../src/tensor/index.ts';
import { type BenchOptions, note, report, round } from './lib.ts';

const ROOT = join(import.meta.dirname, '..');

interface Step {
  label: string;
  seconds: number;
  ok: boolean;
  summary: string;
}

/** Runs a command with stdin closed and stderr on ours; returns its exit code and stdout (also shown on `echo`). */
function exec(command: string, args: string[], echo?: NodeJS.WriteStream): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      echo?.write(chunk);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout }));
  });
}

/** One benchmark in its own process, its JSON lines parsed (bench/run.ts --json). */
async function bench(name: string, args: string[]): Promise<{ ok: boolean; rows: Record<string, unknown>[] }> {
  const { code, stdout } = await exec(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--json', name, ...args]);
  const rows = stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { ok: code === 0, rows };
}

const gib = (bytes: unknown) => `${round(Number(bytes) / 2 ** 30)} GiB`;
const num = (x: unknown) => round(Number(x));

export async function run(opts: BenchOptions): Promise<void> {
  const quick = opts.args.includes('--quick');
  const info = engine().gpu.report;
  const adapter =
    `${info.description || info.device} (${info.vendor}${info.architecture ? ` ${info.architecture}` : ''}; ` +
    `subgroups ${info.subgroupMinSize}–${info.subgroupMaxSize}; binding ${gib(info.maxStorageBufferBindingSize)}, buffer ${gib(info.maxBufferSize)})`;
  // The children need the GPU: this process lets go of it.
  await shutdown();
  note(opts, `gpu-check${quick ? ' --quick' : ''} on ${adapter}\n`);
  const steps: Step[] = [];
  const time = async (label: string, what: () => Promise<{ ok: boolean; summary: string }>) => {
    note(opts, `── ${label}`);
    const t0 = performance.now();
    let result: { ok: boolean; summary: string };
    try {
      result = await what();
    } catch (e) {
      result = { ok: false, summary: `failed: ${(e as Error).message}` };
    }
    steps.push({ label, seconds: (performance.now() - t0) / 1000, ...result });
  };

  await time('kernel tests', async () => {
    const out = join(tmpdir(), `seal-gpu-check-${process.pid}.json`);
    const { code } = await exec(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'),
        'run',
        '--project',
        'default',
        'test/tensor',
        'test/gpu',
        '--reporter=default',
        '--reporter=json',
        `--outputFile.json=${out}`,
      ],
      opts.json ? process.stderr : process.stdout,
    );
    const r = JSON.parse(readFileSync(out, 'utf8')) as { numTotalTests: number; numPassedTests: number; numFailedTests: number; numPendingTests: number };
    rmSync(out, { force: true });
    return { ok: code === 0, summary: `${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped of ${r.numTotalTests}` };
  });

  await time('Llama-3.2-1B shape: prefill and decode', async () => {
    const { ok, rows } = await bench('llama-1b', quick ? ['8', '4'] : ['128', '32']);
    const r = rows.find((x) => x.bench === 'llama-1b');
    if (!r) return { ok: false, summary: 'no result' };
    return {
      ok,
      summary:
        `decode ${num(r.decode_tok_per_s)} tok/s, prefill ${num(r.prefill_tok_per_s)} tok/s (${r.prefill_tokens} tokens), load ${num(r.load_s)} s, ` +
        `peak GPU ${gib(r.peak_gpu_bytes)} = ${num(r.peak_over_weights)}× the weights`,
    };
  });

  await time(`LoRA step, ${quick ? '30M' : '1B'} shape`, async () => {
    // The production way only ('after'; the first row used to be the materialised baseline's).
    const { ok, rows } = await bench('lora', [quick ? '30M' : '1B', 'after']);
    const r = rows.find((x) => x.bench === 'lora' && x.way === 'after');
    if (!r) return { ok: false, summary: 'no result' };
    return {
      ok,
      summary:
        `${num(r.tokens_per_s)} tok/s (${r.batch} × ${r.seq} tokens, step ${num(r.step_s)} s), ${num(r.gflops)} model GFLOP/s, ` +
        `peak GPU ${gib(r.peak_gpu_bytes)} (weights ${gib(r.weight_bytes)})`,
    };
  });

  await time('ARC test-time-training step, 1B shape', async () => {
    const { ok, rows } = await bench('arc-ttt', quick ? ['59341089', '32'] : []);
    const r = rows.find((x) => x.bench === 'arc-ttt');
    if (!r) return { ok, summary: ok ? 'skipped (no ARC data: ../shared/data/arc)' : 'no result' };
    return {
      ok,
      summary:
        `step ${num(r.measured_step_s)} s at ${r.batch} × ${r.tokens} tokens (longest: ${r.max_tokens}), peak GPU ${gib(r.peak_gpu_bytes)} = ` +
        `${num(r.peak_over_weights)}× the weights; whole TTT estimated at ${num(Number(r.estimated_ttt_s) / 60)} min`,
    };
  });

  await time('kernel profile of a LoRA step, 30M shape', async () => {
    const { ok, rows } = await bench('profile', ['30M']);
    if (!rows.length) return { ok, summary: ok ? 'skipped (no timestamp queries)' : 'no result' };
    const total = rows.reduce((s, r) => s + Number(r.total_ms), 0);
    const top = rows.slice(0, 3).map((r) => `${r.kernel} ${Math.round(100 * Number(r.share))} %`);
    return { ok, summary: `${round(total)} ms of kernels; most: ${top.join(', ')}` };
  });

  const total = steps.reduce((t, s) => t + s.seconds, 0);
  if (opts.json) {
    for (const s of steps) report(opts, { bench: 'gpu-check', quick, step: s.label, ok: s.ok, seconds: s.seconds, summary: s.summary });
  } else {
    console.log(`\ngpu-check${quick ? ' --quick' : ''} on ${adapter}`);
    for (const s of steps) console.log(`${s.ok ? 'ok  ' : 'FAIL'} ${s.label.padEnd(44)} ${String(round(s.seconds)).padStart(6)} s  ${s.summary}`);
    console.log(`total ${round(total / 60)} min`);
  }
  if (steps.some((s) => !s.ok)) process.exitCode = 1;
}

/** Runs only when named (bench/run.ts): it runs the other benchmarks itself. */
export const standalone = true;
