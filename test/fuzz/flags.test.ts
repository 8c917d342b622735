// Fuzzing the argument parsing of every `seal` command (no GPU, no files): random flag names (real ones,
// misspelt ones, unknown ones), random values (numbers in and out of range, non-numbers, empty strings,
// lists, switches), stray words and missing values. Each argument list must parse into flags that obey
// every declaration, or be refused with a UsageError naming the flag or the mistake.
import { describe, expect, it } from 'vitest';
import { type Command, type Flag, UsageError, inRange, parseFlags } from '../../src/util/flags.ts';
import { COMMANDS, findCommand } from '../../src/cli/commands.ts';
import { PROJECTIONS } from '../../src/model/llama.ts';
import { Rng } from './mutate.ts';

const NUMBERS = [
  '0',
  '1',
  '-1',
  '-3',
  '2',
  '0.5',
  '1e-4',
  '3e-4',
  '1.5',
  '-0',
  '1e309',
  'NaN',
  'Infinity',
  '0x10',
  '4294967296',
  '9007199254740993',
  ' 7 ',
  '',
  'abc',
  '1,2',
];
const WORDS = [
  '',
  'x',
  'q_proj',
  'q_proj,v_proj',
  `${PROJECTIONS.join(',')}`,
  'qkv_proj',
  ',',
  'true',
  'false',
  'all',
  'completion',
  'linear',
  'implications',
  'a=b',
  '=b',
  'gpt4=',
  '--',
  '-h',
];

function randomValue(rng: Rng, flag: Flag | undefined): string {
  if (flag?.choices && rng.uniform() < 0.5) return rng.pick(flag.choices);
  if (flag && (flag.type === 'int' || flag.type === 'number') && rng.uniform() < 0.7) return rng.pick(NUMBERS);
  return rng.uniform() < 0.5 ? rng.pick(WORDS) : rng.pick(NUMBERS);
}

/** A plausible argument list: the required flags, then random flags and values, sometimes broken. */
function randomArgs(rng: Rng, cmd: Command): { argv: string[]; kinds: string[] } {
  const argv: string[] = [];
  const kinds: string[] = [];
  for (const f of cmd.flags.filter((x) => x.required)) if (rng.uniform() < 0.95) argv.push(`--${f.name}`, f.choices?.[0] ?? 'path');
  const n = rng.int(6);
  for (let k = 0; k < n; k++) {
    const roll = rng.uniform();
    const flag = rng.pick(cmd.flags);
    if (roll < 0.07) {
      argv.push(rng.pick(['stray', '-x', '7']));
      kinds.push('stray-word');
    } else if (roll < 0.14) {
      argv.push(`--${rng.pick(['bogus', `${flag.name}s`, flag.name.replace('-', '_'), 'help-me'])}`, '1');
      kinds.push('unknown-flag');
    } else if (flag.type === 'boolean') {
      argv.push(rng.pick([`--${flag.name}`, `--no-${flag.name}`, `--${flag.name}=${rng.pick(['true', 'false', 'yes', ''])}`]));
      kinds.push('switch');
    } else if (roll < 0.5) {
      argv.push(`--${flag.name}=${randomValue(rng, flag)}`);
      kinds.push(`${flag.type}=`);
    } else {
      argv.push(`--${flag.name}`);
      if (rng.uniform() < 0.95) argv.push(randomValue(rng, flag));
      kinds.push(flag.type);
    }
  }
  return { argv, kinds };
}

/** What a successful parse must satisfy: every declared flag's type, range, choices and requiredness. */
function checkParsed(cmd: Command, flags: Record<string, any>): string | null {
  for (const f of cmd.flags) {
    const v = flags[f.name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())];
    if (v === undefined) {
      if (f.required) return `--${f.name} is required but missing`;
      continue;
    }
    if (f.type === 'int' && !(Number.isSafeInteger(v) && inRange(f, v))) return `--${f.name} = ${v}`;
    if (f.type === 'number' && !(Number.isFinite(v) && inRange(f, v))) return `--${f.name} = ${v}`;
    if (f.type === 'boolean' && typeof v !== 'boolean') return `--${f.name} = ${v}`;
    if (f.type === 'string' && (typeof v !== 'string' || v === '' || (f.choices && !f.choices.includes(v)))) return `--${f.name} = ${JSON.stringify(v)}`;
    // A list with an item parser holds its typed items (conditions, say); the others hold non-empty strings.
    const item = (x: unknown) => (f.item ? x !== undefined : typeof x === 'string' && x !== '');
    if (f.type === 'list' && !(Array.isArray(v) && v.every(item) && (v.length > 0 || f.default !== undefined))) {
      return `--${f.name} = ${JSON.stringify(v)}`;
    }
  }
  return null;
}

describe('fuzzing the seal command line', () => {
  it('3,000 random argument lists over every command: a valid parse or a named UsageError', () => {
    const rng = new Rng(11);
    const failures: string[] = [];
    let parsed = 0;
    let refused = 0;
    for (let i = 0; i < 3000 && failures.length < 10; i++) {
      const cmd = rng.pick(COMMANDS);
      const { argv, kinds } = randomArgs(rng, cmd);
      const full = [...cmd.name.split(' '), ...argv];
      const where = `case ${i} (${kinds.join(', ')}): seal ${full.map((a) => JSON.stringify(a)).join(' ')}`;
      try {
        const { cmd: found, rest } = findCommand(full);
        if (found !== cmd) throw new Error(`found ${found.name}`);
        const problem = checkParsed(cmd, parseFlags(cmd, rest));
        if (problem) failures.push(`${where}: parsed, but ${problem}`);
        else parsed++;
      } catch (e) {
        if (!(e instanceof UsageError)) failures.push(`${where}: ${(e as Error).name}: ${(e as Error).message}`);
        else if (!/--[a-z]|argument|command/.test(e.message)) failures.push(`${where}: the message names no flag: ${e.message}`);
        else refused++;
      }
    }
    expect(failures).toEqual([]);
    expect(parsed).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(100);
    console.log(`fuzz seal flags: ${parsed + refused} argument lists, ${parsed} parsed within every declaration, ${refused} refused by name`);
  });

  it('1,000 random command lines: an unknown command or subcommand is named', () => {
    const rng = new Rng(12);
    const names = [...new Set(COMMANDS.flatMap((c) => c.name.split(' ')))];
    for (let i = 0; i < 1000; i++) {
      const words = Array.from({ length: rng.int(3) }, () => (rng.uniform() < 0.6 ? rng.pick(names) : rng.pick(['frob', '-v', '--model', 'help2', ''])));
      try {
        const { cmd, rest } = findCommand(words);
        expect(`${cmd.name} ${rest.join(' ')}`.trim()).toBe(words.join(' ').trim());
      } catch (e) {
        expect(e, words.join(' ')).toBeInstanceOf(UsageError);
        expect((e as Error).message).toMatch(/command|subcommand/);
      }
    }
  });
});
