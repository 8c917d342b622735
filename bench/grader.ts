// How often does the deterministic grader agree with GPT-4.1? Over every baseline and adapter answer in
// ../shared/data/squad/judged/*.json, compare the grader's verdict with GPT-4.1's; also for plain SQuAD
// containment (the baseline to beat) and for the grader with each of its rules switched off.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ContainmentOptions, gradeByContainment, plainContainment } from '../src/seal/knowledge/containment-grader.ts';
import { type JudgedAnswer, loadJudgedAnswers } from '../src/seal/knowledge/judged-answers.ts';

const JUDGED_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../shared/data/squad/judged');

type Verdict = (gold: string, prediction: string) => boolean;

const ABLATIONS: Array<[string, ContainmentOptions]> = [
  ['without number words', { numbers: false }],
  ['without unit names', { units: false }],
  ['without British→American spelling', { spelling: false }],
  ['without stemming', { stem: false }],
  ['without gold alternatives', { alternatives: false }],
  ['without order-free matching', { unordered: false }],
  ['without run-on truncation', { truncateRunOn: false }],
  ['without partial credit for long gold answers', { minRecall: 1 }],
  ['without short answers inside the gold', { answerInGold: false }],
  ['without the negation check', { negation: false }],
];

interface Tally {
  n: number;
  agree: number;
  /** Grader says right, GPT-4.1 says wrong. */
  falsePositive: number;
  /** Grader says wrong, GPT-4.1 says right. */
  falseNegative: number;
}

function tally(answers: readonly JudgedAnswer[], verdict: Verdict): Tally {
  const t: Tally = { n: answers.length, agree: 0, falsePositive: 0, falseNegative: 0 };
  for (const a of answers) {
    const v = verdict(a.gold, a.prediction);
    if (v === a.correct) t.agree++;
    else if (v) t.falsePositive++;
    else t.falseNegative++;
  }
  return t;
}

const rate = (t: Tally) => t.agree / t.n;
const pct = (x: number) => `${(100 * x).toFixed(2)} %`;

export async function run(opts: { json: boolean; args: string[] }): Promise<void> {
  const dir = opts.args[0] ?? JUDGED_DIR;
  if (!existsSync(dir)) {
    console.warn(`grader bench skipped: ${dir} not found (SEAL's judged answers; pass their folder as the first argument)`);
    if (opts.json) console.log(JSON.stringify({ bench: 'grader', skipped: `${dir} not found` }));
    return;
  }
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  const byFile = new Map(files.map((f) => [f.replace(/\.json$/, ''), loadJudgedAnswers(join(dir, f))]));
  const all = [...byFile.values()].flat();

  const improved = tally(all, (g, p) => gradeByContainment(g, p));
  const plain = tally(all, plainContainment);
  const perFile = Object.fromEntries([...byFile].map(([name, answers]) => [name, tally(answers, (g, p) => gradeByContainment(g, p))]));
  const plainPerFile = Object.fromEntries([...byFile].map(([name, answers]) => [name, tally(answers, plainContainment)]));
  const ablations = ABLATIONS.map(([name, options]) => [name, tally(all, (g, p) => gradeByContainment(g, p, options))] as const);
  const judgeYes = all.filter((a) => a.correct).length / all.length;

  if (opts.json) {
    const round = (x: number) => Math.round(x * 1e4) / 1e4;
    console.log(
      JSON.stringify({
        bench: 'grader',
        agreement: round(rate(improved)),
        n: improved.n,
        plain_agreement: round(rate(plain)),
        false_positives: improved.falsePositive,
        false_negatives: improved.falseNegative,
        per_file: Object.fromEntries(Object.entries(perFile).map(([k, t]) => [k, round(rate(t))])),
        plain_per_file: Object.fromEntries(Object.entries(plainPerFile).map(([k, t]) => [k, round(rate(t))])),
        ablations: Object.fromEntries(ablations.map(([k, t]) => [k, round(rate(t))])),
      }),
    );
    return;
  }
  const rows: Array<[string, Tally]> = [
    ['plain SQuAD containment', plain],
    ['deterministic grader', improved],
    ...ablations.map(([name, t]) => [`  ${name}`, t] as [string, Tally]),
    ...Object.entries(perFile).map(([name, t]) => [`grader on ${name}.json`, t] as [string, Tally]),
    ...Object.entries(plainPerFile).map(([name, t]) => [`plain on ${name}.json`, t] as [string, Tally]),
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  console.log(`Agreement with GPT-4.1 over ${all.length} verdicts (GPT-4.1 says yes to ${pct(judgeYes)})\n`);
  console.log(`${'grader'.padEnd(width)}  agreement   said yes, GPT no   said no, GPT yes      n`);
  for (const [name, t] of rows) {
    console.log(
      `${name.padEnd(width)}  ${pct(rate(t)).padStart(9)}   ${String(t.falsePositive).padStart(16)}   ${String(t.falseNegative).padStart(16)}   ${String(t.n).padStart(4)}`,
    );
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  await run({ json: args.includes('--json'), args: args.filter((a) => a !== '--json') });
}
