// Dawn's WebGPU classes and constants (GPUBufferUsage, GPUBuffer, ...) as globals, as in a browser.
// Imported first by every module that names them.
import { globals } from 'webgpu';

Object.assign(globalThis, globals);
