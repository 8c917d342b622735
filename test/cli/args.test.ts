// Flags checked at the door: every numeric flag of every `seal` command declares its range, a value out of
// range is refused by name before any model loads, and unknown commands, flags and stray words say so.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError, inRange, parseFlags } from '../../src/util/flags.ts';
import { COMMANDS, findCommand } from '../../src/cli/commands.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const parse = (argv: string[]) => {
  const { cmd, rest } = findCommand(argv);
  return parseFlags(cmd, rest);
};

describe('seal flags', () => {
  it('every numeric flag declares a lower bound, and its default lies in its range', () => {
    for (const cmd of COMMANDS) {
      for (const f of cmd.flags.filter((x) => x.type === 'int' || x.type === 'number')) {
        expect(f.min !== undefined || f.above !== undefined, `seal ${cmd.name} --${f.name} has no lower bound`).toBe(true);
        if (f.default !== undefined) expect(inRange(f, f.default as number), `seal ${cmd.name} --${f.name} default ${f.default}`).toBe(true);
      }
    }
  });

  it('refuses --max-new-tokens -3 at the door, naming the flag (it used to reach the KV cache)', () => {
    expect(() => parse(['generate', '--model', 'm', '--prompt', 'hi', '--max-new-tokens', '-3'])).toThrow(
      new UsageError('seal generate: --max-new-tokens must be ≥ 1, got -3'),
    );
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'seal.js'), 'generate', '--model', 'nowhere', '--prompt', 'hi', '--max-new-tokens', '-3'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('seal generate: --max-new-tokens must be ≥ 1, got -3\n');
  });

  it('names each kind of mistake', () => {
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /seal: unknown command "frobnicate"/],
      [['knowledge', 'frob'], /seal knowledge: unknown subcommand "frob" \(have render, run, eval, continual\)/],
      [['arc'], /seal arc: give a subcommand: render, run, eval/],
      [['--model', 'x'], /seal: give a command first, before --model/],
      [['generate', '--model', 'm', '--prompt', 'a', 'stray'], /unexpected argument "stray"/],
      [['generate', '--model', 'm', '--prompt', 'a', '--bogus', '1'], /unknown flag --bogus/],
      [['generate', '--model', 'm', '--prompt', 'a', '--seed', '1', '--seed', '2'], /--seed is given twice/],
      [['generate', '--model', 'm', '--prompt', 'a', '--temperature', 'hot'], /--temperature takes a number, got "hot"/],
      [['generate', '--model', 'm', '--prompt', 'a', '--top-p', '0'], /--top-p must be > 0 and ≤ 1, got 0/],
      [['generate', '--model', 'm', '--prompt', 'a', '--seed', '4294967296'], /--seed must be ≥ 0 and ≤ 4294967295/],
      [['generate', '--model', 'm', '--prompt', 'a', '--seed', '1.5'], /--seed takes an integer/],
      [['generate', '--model', 'm', '--prompt', 'a', '--ids', '1,2'], /exactly one of --prompt and --ids/],
      [['generate', '--model', 'm', '--ids', '1,-2'], /--ids takes comma-separated token ids/],
      [['generate', '--model', 'm', '--prompt', 'a', '--system', 's'], /--system needs --chat/],
      [['generate', '--model=', '--prompt', 'a'], /--model needs a value, got an empty string/],
      [['generate', '--model', 'm', '--prompt', 'a', '--chat=yes'], /--chat is a switch/],
      [['generate', '--model', 'm', '--prompt', 'a', '--no-chat=true'], /--no-chat takes no value/],
      [['score', '--model', 'm', '--data', 'd', '--batch-size', '0'], /--batch-size must be ≥ 1, got 0/],
      [['finetune', '--model', 'm', '--data', 'd', '--out', 'o', '--lr', '0'], /--lr must be > 0, got 0/],
      [['finetune', '--model', 'm', '--data', 'd', '--out', 'o', '--dropout', '1'], /--dropout must be ≥ 0 and < 1, got 1/],
      [['finetune', '--model', 'm', '--data', 'd', '--out', 'o', '--betas', '0.9'], /--betas takes two numbers in \[0, 1\)/],
      [['finetune', '--model', 'm', '--data', 'd', '--out', 'o', '--betas', '0.9,1'], /--betas: each beta is a number in \[0, 1\), got "1"/],
      [['finetune', '--model', 'm', '--data', 'd', '--out', 'o', '--targets', 'q_proj,qkv'], /--targets: LoRA: target module "qkv"/],
      [['finetune', '--model', 'm', '--data', 'd', '--out', 'o', '--targets', ','], /--targets takes a comma-separated list/],
      [['knowledge', 'run', '--model', 'm', '--eval-data', 'e', '--run', 'r'], /--data \(the training passages\) is required for RL rounds/],
      [['knowledge', 'eval', '--model', 'm', '--eval-data', 'e', '--run', 'r', '--self-edits', 'gpt4'], /--self-edits takes name=path entries, got "gpt4"/],
      [['knowledge', 'render', '--data', 'd', '--index', '-1'], /--index must be ≥ 0, got -1/],
      [['arc', 'run', '--model', 'm', '--challenges', 'c', '--solutions', 's', '--run', 'r', '--answer-batch', '0'], /--answer-batch must be ≥ 1/],
      [['arc', 'render', '--challenges', 'c', '--task', 't', '--limit', '0'], /--limit must be ≥ 1, got 0/],
      [
        ['arc', 'run', '--model', 'm', '--challenges', 'c', '--solutions', 's', '--run', 'r', '--conditions', 'oracle,best'],
        /best needs a fixed self-edit per task/,
      ],
    ];
    for (const [argv, message] of cases) expect(() => parse(argv), argv.join(' ')).toThrow(message);
    for (const [argv] of cases) expect(() => parse(argv)).toThrow(UsageError);
  });

  it('parses what is right: both value forms, switches, defaults, lists', () => {
    const f = parse(['finetune', '--model', 'm', '--data=d', '--out', 'o', '--rank', '8', '--lr=3e-4', '--no-recompute', '--targets', 'q_proj, v_proj']);
    expect(f).toMatchObject({ model: 'm', data: 'd', rank: 8, lr: 3e-4, recompute: false, targets: ['q_proj', 'v_proj'], epochs: 1, betas: [0.9, 0.999] });
    expect(parse(['knowledge', 'eval', '--model', 'm', '--eval-data', 'e', '--run', 'r', '--self-edits', 'a=x=y.json'])).toMatchObject({
      selfEdits: ['a=x=y.json'],
    });
  });
});
