// PyTorch as a peer in our own benchmarks: `npm run bench -- lora --peer torch` (and matmul) runs the same
// shapes through bench/peers/<bench>.py, right after our own measurement, and prints both figures and the
// ratio. The scripts need a Python with torch; without one the bench says how to get it (once) and runs
// our figures alone. Nothing else (tests, setup) needs torch.
//
// Which Python: $SEAL_PEER_PYTHON when set (and only it), else `python3` on PATH, then /usr/bin/python3
// (a pyenv shim may shadow Debian's python3-torch): the first where `import torch` works.
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { type BenchOptions, note } from './lib.ts';

export const PEERS = ['torch'] as const;
export type Peer = (typeof PEERS)[number];

/** The one line printed when no candidate Python has torch. */
export function torchHowto(env: NodeJS.ProcessEnv = process.env): string {
  const tried = env.SEAL_PEER_PYTHON ? `SEAL_PEER_PYTHON=${env.SEAL_PEER_PYTHON}` : pythonCandidates(env).join(', ');
  return (
    `no Python with torch (tried ${tried}): our figures only. To compare with PyTorch, Debian: ` +
    'apt-get install python3-torch libopenblas0-pthread (elsewhere: pip install torch), or set SEAL_PEER_PYTHON to a python that has it'
  );
}

/**
 * Takes `--peer <name>` (or `--peer=<name>`) out of a bench's arguments: the peer named, or null, and the
 * other arguments in their order. An unknown or missing name is an error naming the valid ones.
 */
export function parsePeer(args: string[]): { peer: Peer | null; args: string[] } {
  let peer: Peer | null = null;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a !== '--peer' && !a.startsWith('--peer=')) {
      rest.push(a);
      continue;
    }
    const name = a === '--peer' ? args[++i] : a.slice('--peer='.length);
    if (!PEERS.includes(name as Peer)) {
      const got = name === undefined ? 'needs a name' : `"${name}" is not a peer`;
      throw new Error(`--peer: ${got}; the valid one is ${PEERS.join(', ')} (--peer torch)`);
    }
    peer = name as Peer;
  }
  return { peer, args: rest };
}

/** The Pythons to try, in order. */
export function pythonCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.SEAL_PEER_PYTHON) return [env.SEAL_PEER_PYTHON];
  return ['python3', '/usr/bin/python3'];
}

export interface TorchPython {
  python: string;
  torch: string;
}

let found: TorchPython | null | undefined;

/** The first candidate Python where `import torch` works (looked for once per process), or null. */
export function findTorchPython(): TorchPython | null {
  if (found !== undefined) return found;
  found = null;
  for (const python of pythonCandidates()) {
    const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) {
      found = { python, torch: r.stdout.trim() };
      break;
    }
  }
  return found;
}

let howtoPrinted = false;

/**
 * Runs bench/peers/<script>.py with `config` as its JSON argument and returns the JSON object its last
 * stdout line holds; null when no Python has torch (the how-to note is printed the first time). A script
 * that fails with torch present is an error (its stderr in the message).
 */
export function runPeer<T extends object>(opts: BenchOptions, script: 'lora' | 'matmul', config: object): (T & { python: string }) | null {
  const py = findTorchPython();
  if (!py) {
    if (!howtoPrinted) note(opts, torchHowto());
    howtoPrinted = true;
    return null;
  }
  const file = join(import.meta.dirname, 'peers', `${script}.py`);
  // -B: no __pycache__ beside the scripts (they import peers/common.py).
  const r = spawnSync(py.python, ['-B', file, JSON.stringify(config)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    throw new Error(`peer ${py.python} ${file} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stderr.trim()}`);
  }
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return { ...(JSON.parse(last) as T), python: py.python };
  } catch {
    throw new Error(`peer ${file}: its last line is not JSON: ${last}`);
  }
}

/** What the peer's JSON says about itself, for a note: torch version, threads, BLAS. The peer measures at
 *  1 thread and at the machine's cores and keeps the faster (bench/peers/common.py says why). */
export function describePeer(r: { torch: string; threads: number; blas: string; python: string }): string {
  // Debian's python3-torch calls libblas.so.3, the reference BLAS unless OpenBLAS is installed: about 6
  // GFLOP/s at n = 1024 on this 2-core machine where OpenBLAS gives about 100.
  const reference = /\/blas\/libblas\.so/.test(r.blas)
    ? ' (the unoptimised reference BLAS, about 16× slower products than OpenBLAS: apt-get install libopenblas0-pthread)'
    : '';
  return `torch ${r.torch} (${r.python}), the faster of 1 and ${cpus()} threads, BLAS ${r.blas}${reference}`;
}

const cpus = () => availableParallelism();
