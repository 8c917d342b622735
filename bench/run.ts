// Benchmark runner: `npm run bench` runs every benchmark, `npm run bench -- <name> [args...]` one of
// them, `--json` anywhere makes the output machine-readable.
//
// Contract for a benchmark (add bench/<name>.ts and it is found):
//   export async function run(opts: BenchOptions): Promise<void>     (BenchOptions from bench/lib.ts)
//   - The GPU engine is initialised before `run` and shut down after it; `run` awaits its own GPU work.
//   - opts.args: the command-line words after the benchmark's name (sizes, modes — the module's choice).
//   - Each measurement goes through report(opts, fields, text): with opts.json it prints one JSON object
//     per line and nothing else may reach stdout (notes go through note(), which uses stderr then).
//     Fields: "bench": <name> first, then what was measured and in which unit (e.g. "gflops", "us").
//   - Benchmarks print figures; they assert nothing about time.
//   - `export const standalone = true` keeps a benchmark out of the run of all of them (gpu-check, which
//     runs the others itself); it runs when named.
// Shared helpers may live beside them: a module without `run` is not a benchmark and is skipped when
// running all (naming it is an error); lib.ts, run.ts and the bench/lab/ folder are never run.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { init, shutdown } from '../src/tensor/index.ts';
import type { Bench, BenchOptions } from './lib.ts';

process.env.XDG_RUNTIME_DIR ??= '/tmp'; // lavapipe wants one; Dawn reads it when the instance is created

const here = dirname(fileURLToPath(import.meta.url));
const NOT_BENCHMARKS = new Set(['run', 'lib']);

function available(): string[] {
  return readdirSync(here)
    .filter((f) => f.endsWith('.ts') && !NOT_BENCHMARKS.has(f.slice(0, -3)))
    .map((f) => f.slice(0, -3))
    .sort();
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const json = argv.includes('--json');
  const words = argv.filter((a) => a !== '--json');
  const names = available();
  if (words[0] === '--help' || words[0] === '-h') {
    console.log(`usage: npm run bench -- [--json] [name [args...]]\nbenchmarks: ${names.join(', ')}`);
    return;
  }
  const chosen = words.length ? [words[0]] : names;
  if (words.length && !names.includes(words[0])) {
    throw new Error(`bench: no benchmark "${words[0]}" (have ${names.join(', ')})`);
  }
  await init();
  try {
    for (const name of chosen) {
      const mod = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as { run?: Bench; standalone?: boolean };
      if (typeof mod.run !== 'function') {
        if (words.length) throw new Error(`bench/${name}.ts does not export run(opts): it is not a benchmark`);
        continue;
      }
      if (mod.standalone && !words.length) continue;
      const opts: BenchOptions = { json, args: words.slice(1) };
      if (!json) console.log(`\n== ${name} ==`);
      await mod.run(opts);
    }
  } finally {
    await shutdown();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
