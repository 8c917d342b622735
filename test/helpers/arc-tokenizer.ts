// The tiny ARC model's tokenizer, written to a temporary folder and loaded back, for tests that need one
// without a model: `({ tok, dispose } = await temporaryArcTokenizer())` in beforeAll, `dispose()` in afterAll.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeArcTokenizerFiles } from '../../src/demo/arc-tokenizer.ts';
import { type Tokenizer, loadTokenizer } from '../../src/io/tokenizer.ts';

export async function temporaryArcTokenizer(maxPositions = 1024): Promise<{ tok: Tokenizer; dispose: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'arc-tok-'));
  await writeArcTokenizerFiles(dir, maxPositions);
  return { tok: await loadTokenizer(dir), dispose: () => rm(dir, { recursive: true, force: true }) };
}
