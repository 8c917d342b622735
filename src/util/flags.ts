// Command-line flags: each command declares its flags once (name, type, range, default, help); parsing,
// `--help` and the saved run configuration all come from that declaration. Everything a flag can get
// wrong is caught here, before a model loads: unknown or repeated flags, stray words, values of the wrong
// type or out of range (each error names the flag), and each command's checks across flags.
//
// The declaration is also the flags' type: defineCommand gives `check` and `run` an object whose keys are
// the flags' camelCase names and whose values have the flags' types (FlagsOf), optional where a flag has
// neither a default nor `required`. Past parseFlags nothing coerces a flag.
export type FlagType = 'string' | 'number' | 'int' | 'boolean' | 'list';

export interface Flag {
  name: string;
  type: FlagType;
  help: string;
  default?: string | number | boolean | readonly string[];
  required?: boolean;
  /** For strings: the allowed values. */
  choices?: readonly string[];
  /**
   * For lists: turns each item into its typed value (a condition, say), throwing an Error whose message
   * says what is wrong; parsing reports it as a UsageError naming the flag.
   */
  item?: (text: string) => unknown;
  /** For numbers: inclusive bounds (min, max) and exclusive ones (above, below). */
  min?: number;
  max?: number;
  above?: number;
  below?: number;
}

/** kebab-case to camelCase, as parseFlags keys the flags: "max-new-tokens" → "maxNewTokens". */
export type Camel<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<Camel<Tail>>}` : S;

/** The value of one parsed flag. */
export type FlagValue<F extends Flag> = F['type'] extends 'int' | 'number'
  ? number
  : F['type'] extends 'boolean'
    ? boolean
    : F['type'] extends 'list'
      ? F extends { item: (text: string) => infer T }
        ? T[]
        : string[]
      : F extends { choices: readonly (infer C)[] }
        ? C
        : string;

type Given<F extends Flag> = F extends { required: true } ? F : F extends { default: unknown } ? F : never;

/** The parsed flags of a declaration: every flag under its camelCase name, optional unless required or defaulted. */
export type FlagsOf<Flags extends readonly Flag[]> = {
  [F in Given<Flags[number]> as Camel<F['name']>]: FlagValue<F>;
} & {
  [F in Exclude<Flags[number], Given<Flags[number]>> as Camel<F['name']>]?: FlagValue<F>;
};

/** Flags as parseFlags returns them, before a command's declaration types them. */
export type ParsedFlags = Record<string, unknown>;

export interface Command {
  name: string;
  /** How a user starts it, for messages (default "seal <name>"): e.g. "npm run demo --". */
  invocation?: string;
  summary: string;
  usage: string;
  flags: readonly Flag[];
  /** False for commands that never touch the GPU (dry runs): the engine is not started. */
  gpu?: boolean;
  /** Checks across flags (and of list values), at parse time; throws a UsageError naming the flag. */
  check?(flags: ParsedFlags): void;
  run(flags: ParsedFlags): Promise<void>;
}

/** A command whose `check` and `run` see the flags typed by its declaration. */
export interface TypedCommand<Flags extends readonly Flag[]> extends Omit<Command, 'flags' | 'check' | 'run'> {
  flags: Flags;
  check?(flags: FlagsOf<Flags>): void;
  run(flags: FlagsOf<Flags>): Promise<void>;
}

/**
 * Declares a command. The flags parseFlags hands it were built from this very declaration, so they have
 * the declared types: the one place the parsed record is taken as FlagsOf.
 */
export function defineCommand<const Flags extends readonly Flag[]>(cmd: TypedCommand<Flags>): Command {
  const typed = (flags: ParsedFlags) => flags as FlagsOf<Flags>;
  return {
    ...cmd,
    check: cmd.check && ((flags) => cmd.check!(typed(flags))),
    run: (flags) => cmd.run(typed(flags)),
  };
}

/** A flag list declared apart from its command (shared by several), its literal types kept for FlagsOf. */
export const defineFlags = <const Flags extends readonly Flag[]>(flags: Flags): Flags => flags;

export class UsageError extends Error {
  override name = 'UsageError';
}

/** Seeds are unsigned 32-bit integers (the generator keeps the low 32 bits, so larger ones would alias). */
export const SEED_RANGE = { min: 0, max: 2 ** 32 - 1 } as const;

/** The command as a user types it, for messages. */
export function invocation(cmd: Pick<Command, 'name' | 'invocation'>): string {
  return cmd.invocation ?? `seal ${cmd.name}`;
}

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Parses `--name value`, `--name=value` and boolean `--name` / `--no-name`; returns flags keyed in camelCase. */
export function parseFlags(cmd: Command, argv: readonly string[]): ParsedFlags {
  const byName = new Map(cmd.flags.map((f) => [f.name, f]));
  const flags: ParsedFlags = {};
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      throw new UsageError(`${invocation(cmd)}: unexpected argument "${arg}" (every value follows its --flag; see ${invocation(cmd)} --help)`);
    }
    let [name, value] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    let flag = byName.get(name);
    if (!flag && name.startsWith('no-') && byName.get(name.slice(3))?.type === 'boolean') {
      flag = byName.get(name.slice(3));
      if (value !== undefined) throw new UsageError(`${invocation(cmd)}: --${name} takes no value, got "${value}"`);
      value = 'false';
    }
    if (!flag) throw new UsageError(`${invocation(cmd)}: unknown flag --${name} (see ${invocation(cmd)} --help)`);
    if (given.has(flag.name)) throw new UsageError(`${invocation(cmd)}: --${flag.name} is given twice`);
    given.add(flag.name);
    if (flag.type === 'boolean') {
      if (value === undefined) value = 'true';
      if (value !== 'true' && value !== 'false') throw new UsageError(`${invocation(cmd)}: --${flag.name} is a switch (true or false), got "${value}"`);
      flags[camel(flag.name)] = value === 'true';
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`${invocation(cmd)}: --${flag.name} needs a value`);
    }
    flags[camel(flag.name)] = convert(cmd, flag, value);
  }
  for (const f of cmd.flags) {
    const key = camel(f.name);
    if (flags[key] !== undefined) continue;
    if (f.required) throw new UsageError(`${invocation(cmd)}: --${f.name} is required (${f.help})`);
    if (f.default !== undefined) flags[key] = f.item && Array.isArray(f.default) ? f.default.map(f.item) : f.default;
  }
  cmd.check?.(flags);
  return flags;
}

function convert(cmd: Command, flag: Flag, value: string): unknown {
  const where = `${invocation(cmd)}: --${flag.name}`;
  switch (flag.type) {
    case 'number':
    case 'int': {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${where} takes a number, got "${value}"`);
      if (flag.type === 'int' && !Number.isSafeInteger(n)) throw new UsageError(`${where} takes an integer, got "${value}"`);
      const range = rangeText(flag);
      if (range && !inRange(flag, n)) throw new UsageError(`${where} must be ${range}, got ${value}`);
      return n;
    }
    case 'list': {
      const items = value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (!items.length) throw new UsageError(`${where} takes a comma-separated list, got "${value}"`);
      if (!flag.item) return items;
      return items.map((item) => {
        try {
          return flag.item!(item);
        } catch (e) {
          throw new UsageError(`${where}: ${(e as Error).message}`);
        }
      });
    }
    default:
      if (value === '') throw new UsageError(`${where} needs a value, got an empty string`);
      if (flag.choices && !flag.choices.includes(value)) throw new UsageError(`${where} must be one of ${flag.choices.join(', ')}, got "${value}"`);
      return value;
  }
}

/** Whether a number satisfies the flag's declared bounds. */
export function inRange(flag: Flag, n: number): boolean {
  return (
    (flag.min === undefined || n >= flag.min) &&
    (flag.max === undefined || n <= flag.max) &&
    (flag.above === undefined || n > flag.above) &&
    (flag.below === undefined || n < flag.below)
  );
}

/** The bounds in words, e.g. "≥ 1" or "> 0 and ≤ 1"; '' when the flag declares none. */
export function rangeText(flag: Flag): string {
  const parts = [
    flag.min !== undefined ? `≥ ${flag.min}` : '',
    flag.above !== undefined ? `> ${flag.above}` : '',
    flag.max !== undefined ? `≤ ${flag.max}` : '',
    flag.below !== undefined ? `< ${flag.below}` : '',
  ].filter(Boolean);
  return parts.join(' and ');
}

export function helpText(cmd: Command): string {
  const width = Math.max(...cmd.flags.map((f) => f.name.length + (f.type === 'boolean' ? 0 : 8)));
  const lines = cmd.flags.map((f) => {
    const left = `--${f.name}${f.type === 'boolean' ? '' : ` <${f.type === 'list' ? 'a,b' : f.type === 'int' ? 'n' : f.type === 'number' ? 'x' : 'value'}>`}`;
    const extra = [
      f.required ? 'required' : '',
      f.choices ? `one of ${f.choices.join(' | ')}` : '',
      rangeText(f),
      f.default !== undefined && f.default !== false ? `default ${Array.isArray(f.default) ? f.default.join(',') : f.default}` : '',
    ].filter(Boolean);
    return `  ${left.padEnd(width + 4)}${f.help}${extra.length ? ` (${extra.join('; ')})` : ''}`;
  });
  return `${cmd.summary}\n\nUsage: ${cmd.usage}\n\nFlags:\n${lines.join('\n')}\n  --help${' '.repeat(Math.max(1, width - 2))}Show this help\n`;
}

/**
 * The entry of a script that is one command (`npm run demo`, `npm run pretrain-tiny`): `--help` prints its
 * help; bad flags print their UsageError and exit with 2, any other error with 1.
 */
export async function runCommandLine(cmd: Command, argv: readonly string[]): Promise<void> {
  try {
    if (argv.includes('--help') || argv.includes('-h')) process.stdout.write(helpText(cmd));
    else await cmd.run(parseFlags(cmd, argv));
  } catch (e) {
    process.stderr.write(`${e instanceof UsageError ? '' : 'error: '}${(e as Error).message}\n`);
    if (process.env.SEAL_DEBUG) console.error((e as Error).stack);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  }
}
