// A device that goes away under the engine (a driver reset, a GPU removed): simulated by destroying it
// behind the engine's back. Nothing more can run on it; the error says so and what to do.
import { describe, expect, it } from 'vitest';
import { GpuDeviceLostError, engine, fill, init, shutdown } from '../../src/tensor/index.ts';
import { TEST_LIMITS } from '../setup.ts';

describe('device loss', () => {
  it('gives a GpuDeviceLostError naming the fix, at the next read and at every op after it', async () => {
    const x = fill([4], 1);
    await x.read();
    engine().gpu.device.destroy(); // not through the engine: to the engine, the device is lost
    const lost = x.read();
    await expect(lost).rejects.toThrow(GpuDeviceLostError);
    await expect(lost).rejects.toThrow(/The GPU device was lost \(destroyed.*start the process again \(a SEAL run resumes where it stopped\)/);
    expect(() => fill([4], 2)).toThrow(GpuDeviceLostError);
  });

  it('a fresh engine works again after shutdown', async () => {
    await shutdown();
    await init({ limits: TEST_LIMITS });
    expect(await fill([2], 3).read()).toEqual(Float32Array.of(3, 3));
  });
});
