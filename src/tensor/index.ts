// The engine's public API: everything above this layer (model, training, SEAL, io) imports from here only.
export { init, shutdown, engine, type Engine } from '../gpu/engine.ts';
export {
  type GpuOptions,
  type AdapterReport,
  GpuError,
  GpuOutOfMemoryError,
  GpuDeviceLostError,
} from '../gpu/device.ts';
export { type KernelTime, profileTable } from '../gpu/profiler.ts';
export { onShaderCompiled } from '../gpu/pipelines.ts';
export {
  Tensor,
  type GradNode,
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
  recordOp,
} from './tensor.ts';
export { type DType, BYTES, isHalf, encode, decode, f32ToBf16, bf16ToF32, f32ToF16, f16ToF32 } from './dtype.ts';
export {
  fill,
  zeros,
  add,
  sub,
  mul,
  scale,
  silu,
  swiglu,
  sigmoid,
  clone,
  detach,
  addInto,
  axpy,
  broadcastShape,
} from './ops/elementwise.ts';
export { sum, mean, max, sumTo } from './ops/reduce.ts';
export { rmsnorm } from './ops/rmsnorm.ts';
export { RopeTable, rope } from './ops/rope.ts';
export { softmax, type SoftmaxOptions } from './ops/softmax.ts';
export { crossEntropy, linearCrossEntropy, IGNORE_INDEX } from './ops/cross-entropy.ts';
export { embedding } from './ops/embedding.ts';
export { attention, type AttentionShape, type AttentionOptions } from './ops/attention.ts';
export { gemm, matmul, linear, type GemmOperand } from './ops/matmul.ts';
export { lowRankLinear, type LowRankOptions } from './ops/low-rank.ts';
export { dropout } from './ops/dropout.ts';

// Writing an op of one's own (as the optimiser and the LoRA merge do): a shader's pipeline by file, entry
// point and defines (it carries its parameters' struct, filled by name at dispatch, and its workgroup
// size: kernel-interface.ts); splitting work so each binding fits; recording the op for autograd
// (recordOp, above); and the kernel variants an adapter chooses between, which tests and benchmarks force.
export { k, ranges, groups, placeholder, reduction } from './ops/launch.ts';
export { type VariantFamily, variantFamily, forceKernels, kernelFamilies } from './ops/variants.ts';
