import { describe, expect, it } from 'vitest';
import { relaxedWait } from '../../src/gpu/relaxed-wait.ts';

// dawn.node polls a pending promise through the global setImmediate; relaxedWait swaps in a timer version
// for the length of the wait. These tests stand in for the binding with plain promises.
describe('relaxedWait', () => {
  const original = globalThis.setImmediate;

  it('passes the result through and puts setImmediate back after the last of overlapping waits', async () => {
    let releaseOuter = (_: string) => {};
    const outer = relaxedWait(
      () =>
        new Promise<string>((resolve) => {
          releaseOuter = resolve;
        }),
    );
    expect(globalThis.setImmediate).not.toBe(original);
    const inner = await relaxedWait(async () => 7);
    expect(inner).toBe(7);
    expect(globalThis.setImmediate).not.toBe(original); // the outer wait is still pending
    releaseOuter('done');
    expect(await outer).toBe('done');
    expect(globalThis.setImmediate).toBe(original);
  });

  it('puts setImmediate back when the wait rejects', async () => {
    await expect(relaxedWait(() => Promise.reject(new Error('device lost')))).rejects.toThrow('device lost');
    expect(globalThis.setImmediate).toBe(original);
  });

  it('runs immediates made during a wait, and clearImmediate cancels them even after it', async () => {
    const ran: string[] = [];
    let cancelled: NodeJS.Immediate | undefined;
    // Both are made while the wait is pending; the wait settles before either runs (a microtask).
    await relaxedWait(async () => {
      setImmediate((tag: string) => ran.push(tag), 'kept');
      cancelled = setImmediate(() => ran.push('cleared'));
    });
    expect(globalThis.setImmediate).toBe(original);
    clearImmediate(cancelled);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ran).toEqual(['kept']);
  });
});
