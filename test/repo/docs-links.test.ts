// The repository's prose cites only what the repository holds: every relative markdown link in README.md,
// docs/, notes/ and the other READMEs points at a file (and, with #anchor, a heading) that exists; no file
// names a machine path (/work/…, /tmp/…) or the gitignored scratch/ folder of out-of-repo prototypes; and
// every path written from the repository root (src/…, test/…, bench/…, …) exists, but for the few that
// name something outside the repository on purpose, listed below with the reason.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

const mdIn = (dir: string): string[] =>
  existsSync(join(ROOT, dir))
    ? readdirSync(join(ROOT, dir))
        .filter((f) => f.endsWith('.md'))
        .map((f) => join(dir, f))
    : [];

const FILES = ['README.md', ...mdIn('docs'), ...mdIn('notes'), 'weights/README.md', 'test/fixtures/llama-tiny/README.md'].filter((f) =>
  existsSync(join(ROOT, f)),
);

// Paths from the repository root that name something outside it on purpose.
const OUTSIDE = new Map<string, string>([
  ['src/continual/continual_self_edits.py', "SEAL's repository"],
  ['scripts/CPT.sh', "SEAL's repository"],
  ['src/query/CPT.py', "SEAL's repository"],
  ['weights/seal-tiny-arc', "the tiny ARC model, which another step of issue 24 makes (the ARC demo's default)"],
]);
// weights/<folder>: a model folder the user downloads (weights/README.md); git ignores all but seal-tiny.
const DOWNLOADED = /^weights\/(?!seal-tiny\b)[^/]+\/?$/;
const TOP = ['src', 'test', 'bench', 'shaders', 'notes', 'docs', 'scripts', 'weights', 'bin', '.ci'];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

const anchors = (file: string): Set<string> =>
  new Set(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => /^#{1,6} /.test(l))
      .map((l) => slug(l.replace(/^#+ /, ''))),
  );

interface Link {
  file: string;
  line: number;
  target: string;
}

function links(file: string): Link[] {
  const out: Link[] = [];
  readFileSync(join(ROOT, file), 'utf8')
    .split('\n')
    .forEach((text, i) => {
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) out.push({ file, line: i + 1, target: m[1] });
    });
  return out;
}

describe('repository prose', () => {
  it('finds the files it checks', () => {
    expect(FILES).toContain('README.md');
    expect(FILES.some((f) => f.startsWith('docs/'))).toBe(true);
    expect(FILES.some((f) => f.startsWith('notes/'))).toBe(true);
  });

  it('links only to files and headings that exist', () => {
    const bad: string[] = [];
    for (const file of FILES) {
      for (const { line, target } of links(file)) {
        if (/^[a-z]+:/i.test(target)) continue; // https:, mailto:
        const [path, anchor] = target.split('#');
        const abs = path ? resolve(ROOT, dirname(file), path) : join(ROOT, file);
        const where = `${file}:${line}: ${target}`;
        if (!abs.startsWith(ROOT + '/') && abs !== ROOT) bad.push(`${where} (outside the repository)`);
        else if (!existsSync(abs)) bad.push(`${where} (no such file: ${relative(ROOT, abs)})`);
        else if (anchor && statSync(abs).isFile() && abs.endsWith('.md') && !anchors(abs).has(anchor)) bad.push(`${where} (no heading #${anchor})`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('cites no machine path and no out-of-repo prototype', () => {
    const bad: string[] = [];
    for (const file of FILES) {
      readFileSync(join(ROOT, file), 'utf8')
        .split('\n')
        .forEach((text, i) => {
          for (const m of text.matchAll(/(?<![\w.-])(\/work\/|\/tmp\/|scratch\/)\S*/g)) bad.push(`${file}:${i + 1}: ${m[0]}`);
        });
    }
    expect(bad).toEqual([]);
  });

  it('names only paths that exist in the repository', () => {
    const bad: string[] = [];
    const pattern = new RegExp(`(?<![\\w./-])(?:${TOP.map((d) => d.replace('.', '\\.')).join('|')})/[\\w./-]*`, 'g');
    for (const file of FILES) {
      readFileSync(join(ROOT, file), 'utf8')
        .split('\n')
        .forEach((text, i) => {
          for (const m of text.matchAll(pattern)) {
            const path = m[0].replace(/[.,:;]+$/, '');
            if (OUTSIDE.has(path) || DOWNLOADED.test(path) || existsSync(join(ROOT, path))) continue;
            bad.push(`${file}:${i + 1}: ${path}`);
          }
        });
    }
    expect(bad).toEqual([]);
  });
});
