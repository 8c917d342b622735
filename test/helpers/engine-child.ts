// A process that starts the engine, runs one kernel and shuts down: for tests of what a whole process
// prints (the driver's notes at start, SEAL_PROFILE's table at exit). It writes a line to each stream before
// and after, so a test can check that nothing of its own is lost or reordered.
import { fill, init, shutdown } from '../../src/tensor/index.ts';

process.stdout.write('out: before\n');
process.stderr.write('err: before\n');
await init();
await fill([1024], 1).read();
process.stdout.write('out: after\n');
process.stderr.write('err: after\n');
if (process.env.ENGINE_CHILD_FAIL) throw new Error('the child fails as asked');
await shutdown();
