// End to end on the llama-tiny fixture (with a byte-level tokenizer): `seal knowledge run` with 2
// passages × 2 self-edits × 1 seed and a few steps. The loop runs, rewards are logged, the M-step changes
// the weights, the merged model loads, and a run killed mid-way and resumed logs what an uninterrupted one does.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadLlama } from '../../src/model/load.ts';
import { readTensors } from '../model/fixture.ts';
import { FIXTURE } from '../model/fixture.ts';
import { finished, killAfter, logOf, seal } from '../helpers/cli.ts';
import { tinyKnowledgeRun } from '../helpers/knowledge-run.ts';

describe('seal knowledge run on the tiny fixture', () => {
  const work = mkdtempSync(join(tmpdir(), 'seal-ki-'));
  const args = tinyKnowledgeRun(work);

  it('runs the loop, logs rewards, and the M-step writes a changed model that loads', async () => {
    const run = join(work, 'whole');
    const result = await finished(seal(args(run)));
    expect(result.code, result.stderr).toBe(0);
    const log = logOf(run);
    const inner = log.filter((r) => r.kind === 'inner-loop');
    expect(inner).toHaveLength(4); // 2 passages × 2 self-edits × 1 seed
    for (const r of inner) expect(typeof r.score).toBe('number');
    const selections = log.filter((r) => r.kind === 'selection');
    expect(selections.map((s) => (s.rewards as number[]).length)).toEqual([2, 2]);
    const mstep = log.find((r) => r.kind === 'm-step')!;
    expect(mstep.examples).toBe(2);
    const merged = String(mstep.model).replace('<run>', run);
    const before = await readTensors(join(FIXTURE, 'model.safetensors'));
    const after = await readTensors(join(merged, 'model.safetensors'));
    const name = 'model.layers.0.self_attn.q_proj.weight';
    expect(after.get(name)!.some((v, i) => v !== before.get(name)![i])).toBe(true);
    const reloaded = await loadLlama(merged);
    reloaded.dispose();
    expect(existsSync(join(run, 'results.md')) && existsSync(join(run, 'plot.svg')) && existsSync(join(run, 'done'))).toBe(true);

    // A finished run re-run does nothing: the log stays as it is.
    const again = await finished(seal(args(run)));
    expect(again.code, again.stderr).toBe(0);
    expect(logOf(run)).toEqual(log);
  });

  it('resumes a killed run and ends with the same log as an uninterrupted one', async () => {
    const whole = logOf(join(work, 'whole'));
    const run = join(work, 'killed');
    const child = seal(args(run));
    const exit = finished(child);
    // Kill it in the middle of the E-step, once some inner loops are logged.
    await killAfter(child, run, 6);
    expect((await exit).signal).toBe('SIGKILL');
    expect(logOf(run).length).toBeLessThan(whole.length);
    const resumed = await finished(seal(args(run)));
    expect(resumed.code, resumed.stderr).toBe(0);
    const after = logOf(run);
    // The same units with the same results (logOf hides the run directory's own path).
    expect(after).toEqual(whole);
  });
});
