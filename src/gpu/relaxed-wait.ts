// Waiting for a Dawn promise without keeping a core busy.
//
// While any of its promises is pending, dawn.node (the npm `webgpu` package) polls for it by handing a tick
// to the global `setImmediate`, which queues the next tick, and so on: the JavaScript thread spins, a whole
// core, until the GPU answers (measured: a 17 s first dispatch on lavapipe, LLVM compiling the kernel, made
// 2,082,078 ticks and took 33 s of CPU). For a wait that is expected to be long, `relaxedWait` spaces those
// ticks by a 1 ms timer instead (15,258 ticks, 19 s of CPU, the same wall time), leaving the core to the
// compiler or to another process: test files then compile side by side on two cores.
//
// The binding looks `setImmediate` up on the global object at every tick, so the timer version is installed
// there while such a wait is pending and the original put back after the last one settles. Anything else that
// calls setImmediate meanwhile runs a millisecond later, which no caller can tell from being scheduled late.

const immediate = globalThis.setImmediate;
const clearImmediateOriginal = globalThis.clearImmediate;
const timers = new WeakSet<object>();
let pending = 0;

// A timer stands in for an Immediate; clearImmediate must then clear the timer (Node's clearImmediate would
// count a Timeout as an Immediate). Installed for good on first use, since a timer made during a wait may be
// cleared after it.
function timerImmediate(callback: (...args: unknown[]) => void, ...args: unknown[]): NodeJS.Immediate {
  const timer = setTimeout(callback, 1, ...args);
  timers.add(timer);
  return timer as unknown as NodeJS.Immediate;
}
function clearEither(handle: NodeJS.Immediate | undefined): void {
  if (handle && timers.has(handle)) clearTimeout(handle as unknown as NodeJS.Timeout);
  else clearImmediateOriginal(handle);
}

/** Awaits `done` (which creates a Dawn promise) with the binding's polling spaced by a 1 ms timer. */
export async function relaxedWait<T>(done: () => Promise<T>): Promise<T> {
  if (pending++ === 0) {
    globalThis.clearImmediate = clearEither as typeof clearImmediate;
    globalThis.setImmediate = timerImmediate as unknown as typeof setImmediate;
  }
  try {
    return await done();
  } finally {
    if (--pending === 0) globalThis.setImmediate = immediate;
  }
}
