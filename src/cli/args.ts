// Command-line flags: each command declares its flags once (name, type, default, help); parsing, `--help`
// and the saved run configuration all come from that declaration.
export type FlagType = 'string' | 'number' | 'int' | 'boolean' | 'list';

export interface Flag {
  name: string;
  type: FlagType;
  help: string;
  default?: string | number | boolean | string[];
  required?: boolean;
  /** For strings: the allowed values. */
  choices?: readonly string[];
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  flags: Flag[];
  /** False for commands that never touch the GPU (dry runs): the engine is not started. */
  gpu?: boolean;
  run(flags: Record<string, any>, positional: string[]): Promise<void>;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Parses `--name value`, `--name=value` and boolean `--name` / `--no-name`; returns flags keyed in camelCase. */
export function parseFlags(cmd: Command, argv: string[]): { flags: Record<string, any>; positional: string[] } {
  const byName = new Map(cmd.flags.map((f) => [f.name, f]));
  const flags: Record<string, any> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    let [name, value] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    let flag = byName.get(name);
    if (!flag && name.startsWith('no-') && byName.get(name.slice(3))?.type === 'boolean') {
      flag = byName.get(name.slice(3));
      value = 'false';
    }
    if (!flag) throw new UsageError(`seal ${cmd.name}: unknown flag --${name} (see seal ${cmd.name} --help)`);
    if (flag.type === 'boolean') {
      if (value === undefined) value = 'true';
      if (value !== 'true' && value !== 'false') throw new UsageError(`seal ${cmd.name}: --${flag.name} is a switch (true or false), got "${value}"`);
      flags[camel(flag.name)] = value === 'true';
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`seal ${cmd.name}: --${flag.name} needs a value`);
    }
    flags[camel(flag.name)] = convert(cmd, flag, value);
  }
  for (const f of cmd.flags) {
    const key = camel(f.name);
    if (flags[key] !== undefined) continue;
    if (f.required) throw new UsageError(`seal ${cmd.name}: --${f.name} is required (${f.help})`);
    if (f.default !== undefined) flags[key] = f.default;
  }
  return { flags, positional };
}

function convert(cmd: Command, flag: Flag, value: string): unknown {
  const where = `seal ${cmd.name}: --${flag.name}`;
  switch (flag.type) {
    case 'number':
    case 'int': {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${where} takes a number, got "${value}"`);
      if (flag.type === 'int' && !Number.isInteger(n)) throw new UsageError(`${where} takes an integer, got "${value}"`);
      return n;
    }
    case 'list':
      return value.split(',').map((s) => s.trim()).filter(Boolean);
    default:
      if (flag.choices && !flag.choices.includes(value)) throw new UsageError(`${where} must be one of ${flag.choices.join(', ')}, got "${value}"`);
      return value;
  }
}

export function helpText(cmd: Command): string {
  const width = Math.max(...cmd.flags.map((f) => f.name.length + (f.type === 'boolean' ? 0 : 8)));
  const lines = cmd.flags.map((f) => {
    const left = `--${f.name}${f.type === 'boolean' ? '' : ` <${f.type === 'list' ? 'a,b' : f.type === 'int' ? 'n' : f.type === 'number' ? 'x' : 'value'}>`}`;
    const extra = [
      f.required ? 'required' : '',
      f.choices ? `one of ${f.choices.join(' | ')}` : '',
      f.default !== undefined && f.default !== false ? `default ${Array.isArray(f.default) ? f.default.join(',') : f.default}` : '',
    ].filter(Boolean);
    return `  ${left.padEnd(width + 4)}${f.help}${extra.length ? ` (${extra.join('; ')})` : ''}`;
  });
  return `${cmd.summary}\n\nUsage: ${cmd.usage}\n\nFlags:\n${lines.join('\n')}\n  --help${' '.repeat(Math.max(1, width - 2))}Show this help\n`;
}
