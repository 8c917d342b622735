// A process that starts the engine, runs one kernel and shuts down: for tests of what a whole process
// prints (the driver's notes at start, SEAL_PROFILE's table at exit).
import { fill, init, shutdown } from '../../src/tensor/index.ts';

await init();
await fill([1024], 1).read();
await shutdown();
