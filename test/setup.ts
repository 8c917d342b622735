// Every test file gets the GPU engine, and releases it at the end.
import { afterAll, beforeAll } from 'vitest';
import { init, shutdown } from '../src/tensor/index.ts';

beforeAll(async () => {
  await init();
});
afterAll(async () => {
  await shutdown();
});
