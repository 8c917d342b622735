// The engine's public API: everything above this layer (model, training, SEAL) imports from here only.
export { init, shutdown, engine, type Engine } from '../gpu/engine.ts';
export type { GpuOptions, AdapterReport } from '../gpu/device.ts';
export {
  Tensor,
  type Shape,
  numel,
  shapeStr,
  empty,
  tensor,
  fromBytes,
  parameter,
  tidy,
  keep,
  noGrad,
  withGrad,
  checkpoint,
  gradEnabled,
  backward,
  assertDtype,
  assertShape,
} from './tensor.ts';
export { type DType, BYTES, isHalf, encode, decode, f32ToBf16, bf16ToF32, f32ToF16, f16ToF32 } from './dtype.ts';
export * from './ops/elementwise.ts';
export { sum, mean, max, sumTo } from './ops/reduce.ts';
export { rmsnorm } from './ops/rmsnorm.ts';
export { RopeTable, rope } from './ops/rope.ts';
export { softmax, type SoftmaxOptions } from './ops/softmax.ts';
export { crossEntropy, linearCrossEntropy, IGNORE_INDEX } from './ops/cross-entropy.ts';
export { embedding } from './ops/embedding.ts';
export { attention, type AttentionShape, type AttentionOptions } from './ops/attention.ts';
export { gemm, matmul, linear, type GemmOperand } from './ops/matmul.ts';
export { dropout } from './ops/dropout.ts';
