// Every test file gets the GPU engine, and releases it at the end.
//
// Tests pin the limits they rely on: tensors "larger than one storage binding" are sized from
// maxStorageBufferBindingSize, so it is held at WebGPU's default of 128 MiB (lavapipe's own maximum)
// whatever the adapter offers; on a GPU that binds 2 GiB, those tests would otherwise build multi-GiB
// arrays. The subgroup-size projects of vitest.config.ts also check that lavapipe gave the subgroup size
// they are named for.
import { afterAll, beforeAll, expect } from 'vitest';
import { engine, init, shutdown } from '../src/tensor/index.ts';
import { writeCompileLog } from '../src/gpu/pipelines.ts';

export const TEST_LIMITS = { maxStorageBufferBindingSize: 128 << 20 };

beforeAll(async () => {
  // The compile census (SEAL_COMPILE_LOG, src/gpu/pipelines.ts) counts the processes a test starts under its file.
  process.env.SEAL_COMPILE_WHO = expect.getState().testPath;
  await init({ limits: TEST_LIMITS });
  const expected = Number(process.env.SEAL_TEST_SUBGROUP_SIZE ?? 0);
  const { report } = engine().gpu;
  if (expected && (report.subgroupMinSize !== expected || report.subgroupMaxSize !== expected)) {
    throw new Error(
      `This test project runs kernels at subgroup size ${expected} on lavapipe (LP_NATIVE_VECTOR_WIDTH = ${expected * 32}), ` +
        `but the adapter "${report.description || report.device}" has subgroups of ${report.subgroupMinSize}–${report.subgroupMaxSize}. ` +
        'Run `npx vitest run --project default` on other adapters.',
    );
  }
});
afterAll(async () => {
  await shutdown();
  writeCompileLog(process.env.SEAL_COMPILE_WHO);
});
