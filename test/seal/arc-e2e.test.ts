// End to end on the llama-tiny fixture (byte-level tokenizer with a minimal chat template) and one small
// real ARC task: a test-time-training inner loop trains, answers and votes; `seal arc run` with 2 self-edits
// logs every unit, and a killed run resumes to the same log.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../src/io/tokenizer.ts';
import { loadLlama } from '../../src/model/load.ts';
import { loadArcTasks } from '../../src/seal/arc/arc-data.ts';
import { ArcDomain, ARC_DOMAIN_DEFAULTS } from '../../src/seal/arc/domain.ts';
import { parseSelfEdit } from '../../src/seal/arc/self-edit.ts';
import { Policy } from '../../src/seal/policy.ts';
import { withByteTokenizer } from '../helpers/byte-tokenizer.ts';
import { ARC_CHALLENGES, ARC_SOLUTIONS, tinyArcRun } from '../helpers/arc-run.ts';
import { finished, killAfter, logOf, seal } from '../helpers/cli.ts';
import { FIXTURE } from '../model/fixture.ts';

const HAVE = existsSync(ARC_CHALLENGES);
if (!HAVE) console.warn(`SKIPPING ARC end-to-end tests: ${ARC_CHALLENGES} is absent (the shared data folder ../shared next to the project)`);

describe.skipIf(!HAVE)('few-shot ARC on the tiny fixture', () => {
  const model = withByteTokenizer(FIXTURE);

  it('runs a test-time-training inner loop: trains the planned steps, answers every query, votes', async () => {
    const tokenizer = await loadTokenizer(model);
    const llama = await loadLlama(model);
    const policy = new Policy(llama, tokenizer, model, [2]);
    const domain = new ArcDomain(tokenizer, { ...ARC_DOMAIN_DEFAULTS, answerTokens: 32 });
    const task = loadArcTasks(ARC_CHALLENGES, ARC_SOLUTIONS).find((t) => t.id === '6150a2bd')!;
    const selfEdit = parseSelfEdit(
      JSON.stringify({
        data_generation: { use_basic_augmentations: false, use_size_augmentations: false, use_chain_augmentations: false, use_repeat_augmentations: true },
        training: { strategy: 'train_using_output_tokens', learning_rate: 1e-3, num_train_epochs: 1 },
      }),
    );
    expect(selfEdit.fallbacks).toEqual([]);
    const outcome = await domain.run(policy, task, selfEdit, 1);
    expect(outcome.plan.refusal).toBeNull();
    expect(outcome.plan.totalSteps).toBeGreaterThan(0);
    expect(outcome.attempts).toHaveLength(task.test.length);
    // A random tiny model does not solve ARC; the point is that every stage ran.
    expect(outcome.reward).toBe(0);
    llama.dispose();
  });

  it('seal arc run: 2 self-edits per task, logged and resumable after a kill', async () => {
    const work = mkdtempSync(join(tmpdir(), 'seal-arc-'));
    const args = tinyArcRun();
    const whole = join(work, 'whole');
    const first = await finished(seal(args(whole)));
    expect(first.code, first.stderr).toBe(0);
    const log = logOf(whole);
    expect(log.filter((r) => r.kind === 'inner-loop')).toHaveLength(2);
    expect(log.filter((r) => r.kind === 'evaluation')).toHaveLength(1 + 2 + 2);
    expect(log.some((r) => r.kind === 'm-step')).toBe(true);
    expect(existsSync(join(whole, 'results.md'))).toBe(true);

    const killed = join(work, 'killed');
    const child = seal(args(killed));
    const exit = finished(child);
    await killAfter(child, killed, 3);
    expect((await exit).signal).toBe('SIGKILL');
    const resumed = await finished(seal(args(killed)));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(logOf(killed)).toEqual(log);
  });
});
