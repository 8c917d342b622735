// Exits 0 and prints the adapter when Dawn finds one; exits 1 otherwise. Used by setup.sh.
import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
let adapter = await create([]).requestAdapter();
if (!adapter) {
  console.error('no WebGPU adapter');
  process.exit(1);
}
const { vendor, architecture, device, description } = adapter.info;
console.log(JSON.stringify({ vendor, architecture, device, description }));
adapter = null;
process.exit(0);
