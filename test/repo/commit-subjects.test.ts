// Commit subjects fit in 72 characters (details go in the body). Commit 11dd6af is the last one of the old
// style; every commit after it on this branch must comply. Without git, outside a clone, or in a shallow
// clone that lacks the base commit, the test says why and skips.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const BASE = '11dd6af';
const LIMIT = 72;

function git(...args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  return { ok: !r.error && r.status === 0, out: r.stdout ?? '' };
}

function whyNot(): string | undefined {
  if (!git('--version').ok) return 'git is not installed';
  if (git('rev-parse', '--is-inside-work-tree').out.trim() !== 'true') return 'the project is not a git clone';
  if (!git('cat-file', '-e', `${BASE}^{commit}`).ok) {
    const shallow = git('rev-parse', '--is-shallow-repository').out.trim() === 'true';
    return `base commit ${BASE} is not in this clone${shallow ? ' (a shallow clone: git fetch --unshallow)' : ''}`;
  }
  if (!git('merge-base', '--is-ancestor', BASE, 'HEAD').ok) return `base commit ${BASE} is not an ancestor of HEAD`;
  return undefined;
}

const skip = whyNot();
if (skip) console.warn(`SKIPPING the commit-subject check: ${skip}`);

describe('commit subjects', () => {
  it.skipIf(!!skip)(`every subject after ${BASE} is at most ${LIMIT} characters`, () => {
    const log = git('log', '--format=%h %s', `${BASE}..HEAD`);
    expect(log.ok).toBe(true);
    const long = log.out
      .split('\n')
      .filter(Boolean)
      .map((line) => ({ hash: line.slice(0, line.indexOf(' ')), subject: line.slice(line.indexOf(' ') + 1) }))
      .filter(({ subject }) => [...subject].length > LIMIT)
      .map(({ hash, subject }) => `${hash} (${[...subject].length} characters): ${subject}`);
    expect(long, `commit subjects over ${LIMIT} characters; put the details in the body`).toEqual([]);
  });
});
