// Keeps the driver's notes off the user's stderr; SEAL_DEBUG=1 shows them. Dawn on Vulkan prints two
// ("maxDynamicUniformBuffersPerPipelineLayout artificially reduced…") from native code, with fprintf on
// descriptor 2, while it enumerates adapters: Node's streams never see them, and Node cannot dup() a
// descriptor, so the only handle we have is which file descriptor 2 (and 1) refer to.
import { spawn } from 'node:child_process';
import { closeSync, constants, fstatSync, mkdtempSync, openSync, readFileSync, rmSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The lines dropped: Dawn's notes that it clamped a limit to what it supports (grep -E syntax). */
export const DRIVER_NOTE = '^Warning: [A-Za-z]+ artificially reduced from [0-9]+ to [0-9]+ to fit dynamic offset allocation limit\\.$';

/**
 * Runs `fn` (a call into Dawn that may print notes) so that the notes do not reach the user:
 * - stderr a terminal or a pipe: descriptor 2 points at /dev/null during `fn` and is reopened through /proc
 *   after it, which gives the same terminal or pipe back (they have no file offset to lose);
 * - anything else (a log file, the socket a parent Node process reads): reopening would give a file a second
 *   offset, and `cmd > log 2>&1` or a shell's `(a; cmd; b) > log` would overwrite their own lines. So stderr
 *   (and stdout when it is the same file) go through a FIFO to a `grep` that drops the notes and writes the
 *   rest, in order, to the original descriptor, for the rest of the process.
 * Elsewhere (not Linux, stdin or stdout closed, no sh/mkfifo/grep) `fn` runs as it is and the notes stay.
 */
export function withoutDriverNoise<T>(fn: () => T): T {
  if (process.env.SEAL_DEBUG || process.platform !== 'linux') return fn();
  let stderr: Stats;
  try {
    // Both must be open: the descriptors opened below must land on 2 (or 1), the lowest free ones.
    fstatSync(0);
    fstatSync(1);
    stderr = fstatSync(2);
  } catch {
    return fn();
  }
  if (stderr.isFIFO() || stderr.isCharacterDevice()) return silenced(fn);
  filterThroughGrep(stderr);
  return fn();
}

function silenced<T>(fn: () => T): T {
  let saved: number;
  try {
    saved = openSync('/proc/self/fd/2', constants.O_WRONLY | constants.O_NOCTTY);
  } catch {
    return fn();
  }
  closeSync(2);
  const quiet = openSync('/dev/null', constants.O_WRONLY);
  try {
    return fn();
  } finally {
    closeSync(quiet);
    const restored = openSync(`/proc/self/fd/${saved}`, constants.O_WRONLY | constants.O_NOCTTY);
    closeSync(saved);
    // biome-ignore lint/correctness/noUnsafeFinally: a broken stderr must not pass silently, whatever fn did
    if (restored !== 2) throw new Error(`internal: stderr came back as descriptor ${restored}`);
  }
}

let filtering = false;

function filterThroughGrep(stderr: Stats): void {
  if (filtering) return;
  filtering = true; // once per process; if it cannot be set up, the notes stay and nothing else changes
  const dir = mkdtempSync(join(tmpdir(), 'seal-stderr-'));
  const fifo = join(dir, 'fifo');
  try {
    // sh makes the FIFO (Node cannot) and ignores the signals a terminal sends the whole process group, so
    // that this process can still report an interruption; then it becomes grep, writing to our descriptor 2.
    const script = 'trap "" HUP INT QUIT TERM; mkfifo -m 600 "$0" && exec grep -a -v -E --line-buffered "$1" "$0"';
    const grep = spawn('sh', ['-c', script, fifo, DRIVER_NOTE], { stdio: ['ignore', 2, 2] });
    grep.on('error', () => {}); // no sh: the FIFO never appears and the wait below gives up
    grep.unref();
    const probe = openWhenRead(fifo, 2000);
    if (probe === null || grep.pid === undefined) {
      grep.kill('SIGKILL');
      return;
    }
    const stdoutToo = sameFile(fstatSync(1), stderr);
    closeSync(2);
    openSync(fifo, constants.O_WRONLY); // lands on 2; blocking, as stderr was
    if (stdoutToo) {
      closeSync(1);
      openSync(fifo, constants.O_WRONLY); // lands on 1: one pipe keeps the two streams' lines in order
    }
    closeSync(probe);
    const pid = grep.pid;
    // Node reports an uncaught error after the 'exit' event: then the FIFO stays open for the report, and
    // grep writes it once this process is gone.
    let fatal = false;
    process.on('uncaughtExceptionMonitor', () => {
      fatal = true;
    });
    process.on('exit', () => {
      if (!fatal) drain(pid, stdoutToo);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true }); // the open FIFO lives on without its name
  }
}

const napCell = new Int32Array(new SharedArrayBuffer(4));
/** Blocks this thread for 1 ms (the event loop does not run: used while setting up and at exit). */
const nap = () => Atomics.wait(napCell, 0, 0, 1);

/** Opens the FIFO for writing once its reader has opened it, or gives up after `ms` (null). */
function openWhenRead(fifo: string, ms: number): number | null {
  for (let waited = 0; waited < ms; waited++) {
    try {
      return openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENXIO') return null; // ENOENT: not made yet; ENXIO: no reader yet
    }
    nap();
  }
  return null;
}

const sameFile = (a: Stats, b: Stats) => a.dev === b.dev && a.ino === b.ino;

/**
 * At exit: closes this process's ends of the FIFO and waits (up to 2 s) for grep to write what is left, so
 * that whoever reads the log next (`cmd 2> log; cat log`) finds it complete. Later writes go to /dev/null.
 */
function drain(pid: number, stdoutToo: boolean): void {
  for (const fd of stdoutToo ? [1, 2] : [2]) {
    closeSync(fd);
    openSync('/dev/null', constants.O_WRONLY);
  }
  for (let waited = 0; waited < 2000; waited++) {
    let state: string;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      state = stat[stat.lastIndexOf(')') + 2];
    } catch {
      return; // reaped
    }
    if (state === 'Z' || state === 'X') return; // exited (nobody reaps it while this process exits)
    nap();
  }
}
