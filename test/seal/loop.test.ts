// The ReST-EM loop's logic with a scripted domain and policy (no model): what it samples, evaluates,
// keeps and imitates, and that a crash at any unit resumes to the same log.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Domain, type RestEmConfig, keepBest, keepBestAboveMean, keepSolved, restEm } from '../../src/seal/loop.ts';
import type { Demonstration, Policy } from '../../src/seal/policy.ts';
import { RunDir } from '../../src/seal/run-dir.ts';

describe('selection', () => {
  it('keeps the best self-edit (the first of ties, as numpy.argmax), with no threshold', () => {
    expect(keepBest([0.2, 0.6, 0.6, 0.1])).toEqual([1]);
    expect(keepBest([0, 0, 0])).toEqual([0]);
  });
  it('keeps the best only when it beats the mean, as the tiny demo does', () => {
    expect(keepBestAboveMean([0.2, 0.6, 0.4])).toEqual([1]);
    expect(keepBestAboveMean([0.4, 0.4])).toEqual([]);
  });
  it('keeps every self-edit that solved the task (ARC)', () => {
    expect(keepSolved([0, 1, 1, 0])).toEqual([1, 2]);
    expect(keepSolved([0, 0])).toEqual([]);
  });
});

/** Contexts are numbers; self-edit j of context c in round r is "r<r>c<c>e<j>"; its score under seed s is scripted. */
function scripted(crashAt = -1) {
  let calls = 0;
  const imitated: Demonstration[][] = [];
  const domain: Domain<number> = {
    id: (c) => `c${c}`,
    prompt: (c) => [c],
    promptText: (c) => `prompt ${c}`,
    sampleSelfEdits: async (policy, c, m) => ({ texts: Array.from({ length: m }, (_, j) => `${(policy as any).round}c${c}e${j}`) }),
    evaluate: async (_p, c, selfEdit, seed) => {
      if (calls++ === crashAt) throw new Error('killed');
      const j = Number(selfEdit.split('e')[1]);
      return { score: ((c + j) % 3) / 2 + (seed % 2) * 0.01 };
    },
    select: keepBest,
  };
  const policy = {
    round: 'r0',
    dir: 'base',
    imitate: async (demos: Demonstration[], _config: unknown, dir: string) => {
      imitated.push(demos);
      policy.round = `r${imitated.length}`;
      policy.dir = dir;
      return [1];
    },
  };
  return { domain, policy, imitated };
}

const config: RestEmConfig = {
  rounds: 2,
  samples: 3,
  seeds: 2,
  sampling: { temperature: 1, topP: 1, maxNewTokens: 8 },
  imitation: {
    lora: { r: 1, alpha: 1, dropout: 0, targets: ['q_proj'] },
    lr: 1,
    epochs: 1,
    batchSize: 1,
    gradAccum: 1,
    schedule: 'constant',
    warmupSteps: 0,
    maxGradNorm: 0,
    seed: 0,
  },
  seed: 7,
};

function logOf(run: RunDir) {
  return run.records().map(({ at, seconds, ...rest }) => rest);
}

describe('restEm', () => {
  it('samples M self-edits per context, scores each over S seeds, keeps the best, and imitates them', async () => {
    const { domain, policy, imitated } = scripted();
    const run = RunDir.open(mkdtempSync(join(tmpdir(), 'loop-')), { test: 1 });
    await restEm(policy as unknown as Policy, domain, (r) => [r, r + 10], config, run, { loadPolicy: async () => {} });
    expect(run.records('inner-loop')).toHaveLength(2 * 2 * 3 * 2);
    const sel = run.get('r1/c1/selection')!;
    // context 1: (1 + j) % 3 / 2 → [0.5, 1, 0] (+ 0.005 from the seeds' mean) → keep e1
    expect(sel.kept).toEqual([1]);
    expect(imitated.map((d) => d.map((x) => x.selfEdit))).toEqual([
      ['r0c1e1', 'r0c11e0'],
      ['r1c2e0', 'r1c12e2'],
    ]);
    expect(run.get('r1/c1/samples')!.prompt).toBe('prompt 1');
    run.close();
  });

  it('runs the inner loops of every context of a round side by side, `parallel` at a time, reporting progress as they train', async () => {
    const { domain, policy } = scripted();
    const chunks: string[][] = [];
    const progress: number[] = [];
    const wide: Domain<number> = {
      ...domain,
      evaluateMany: async (p, units, onProgress) => {
        chunks.push(units.map((u) => u.selfEdit));
        onProgress?.(0.5);
        return Promise.all(units.map((u) => domain.evaluate(p, u.context, u.selfEdit, u.seed)));
      },
    };
    const run = RunDir.open(mkdtempSync(join(tmpdir(), 'loop-')), { test: 1 });
    await restEm(policy as unknown as Policy, wide, (r) => [r, r + 10], { ...config, rounds: 1, parallel: 5 }, run, {
      loadPolicy: async () => {},
      onProgress: (what, done) => what === 'inner-loop' && progress.push(done),
    });
    // 2 contexts × 3 self-edits × 2 seeds = 12 inner loops in chunks of 5, the second across both contexts.
    expect(chunks.map((c) => c.length)).toEqual([5, 5, 2]);
    expect(chunks[1]).toEqual(['r0c1e2', 'r0c11e0', 'r0c11e0', 'r0c11e1', 'r0c11e1']);
    expect(progress).toEqual([0, 2.5, 5, 7.5, 10, 11, 12]);
    // The same scores as one by one: the log's inner loops match a narrow run's.
    const narrow = RunDir.open(mkdtempSync(join(tmpdir(), 'loop-')), { test: 1 });
    const one = scripted();
    await restEm(one.policy as unknown as Policy, one.domain, (r) => [r, r + 10], { ...config, rounds: 1 }, narrow, { loadPolicy: async () => {} });
    const scores = (r: RunDir) => r.records('inner-loop').map((x) => [x.key, x.score]);
    expect(scores(run)).toEqual(scores(narrow));
    run.close();
    narrow.close();
  });

  it("logs a domain sampler's self-edits context by context: a crash sampling the second loses only the second's", async () => {
    // ARC's sampler resamples one task at a time until its self-edits parse (seconds each on a real model):
    // a kill must not throw away the tasks already drawn.
    const { domain, policy } = scripted();
    let calls = 0;
    const crashing: Domain<number> = {
      ...domain,
      sampleSelfEdits: async (p, c, m, seed) => {
        if (calls++ === 1) throw new Error('killed');
        return domain.sampleSelfEdits!(p, c, m, seed);
      },
    };
    const run = RunDir.open(mkdtempSync(join(tmpdir(), 'loop-')), { test: 1 });
    await expect(restEm(policy as unknown as Policy, crashing, (r) => [r, r + 10], config, run, { loadPolicy: async () => {} })).rejects.toThrow('killed');
    expect(run.records('self-edits').map((r) => r.key)).toEqual(['r1/c1/samples']);
    run.close();
  });

  it('resumes after a crash at any unit to the log an uninterrupted run writes', async () => {
    const whole = RunDir.open(mkdtempSync(join(tmpdir(), 'loop-')), { test: 1 });
    const a = scripted();
    await restEm(a.policy as unknown as Policy, a.domain, (r) => [r, r + 10], config, whole, { loadPolicy: async () => {} });
    for (const crashAt of [0, 5, 13, 20]) {
      const dir = mkdtempSync(join(tmpdir(), 'loop-'));
      const first = scripted(crashAt);
      let run = RunDir.open(dir, { test: 1 });
      await expect(restEm(first.policy as unknown as Policy, first.domain, (r) => [r, r + 10], config, run, { loadPolicy: async () => {} })).rejects.toThrow(
        'killed',
      );
      run.close();
      // A new process: a fresh policy, reloaded from the last finished M-step if there is one.
      const second = scripted();
      run = RunDir.open(dir, { test: 1 });
      await restEm(second.policy as unknown as Policy, second.domain, (r) => [r, r + 10], config, run, {
        loadPolicy: async (d) => {
          second.policy.dir = d;
          second.policy.round = `r${d.split('round-')[1]}`;
        },
      });
      expect(JSON.stringify(logOf(run)).split(dir).join('')).toEqual(JSON.stringify(logOf(whole)).split(whole.dir).join(''));
      run.close();
    }
    whole.close();
  });
});
