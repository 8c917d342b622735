// Every `seal` command, and finding the one an argument list names (without running it).
import { arcCommands } from './arc.ts';
import { type Command, UsageError } from '../util/flags.ts';
import { continualCommand } from './continual.ts';
import { finetuneCommand } from './finetune.ts';
import { generateCommand } from './generate.ts';
import { knowledgeCommands } from './knowledge.ts';
import { mergeCommand } from './merge.ts';
import { scoreCommand } from './score.ts';
import { workerCommand } from './worker.ts';

export const COMMANDS: readonly Command[] = [
  generateCommand,
  scoreCommand,
  finetuneCommand,
  mergeCommand,
  ...knowledgeCommands,
  continualCommand,
  ...arcCommands,
  workerCommand,
];

export function usage(): string {
  return `seal: a WebGPU deep-learning engine, Llama-3.2 and Qwen2 + LoRA, and the SEAL self-adapting loop\n\nCommands:\n${COMMANDS.map(
    (c) => `  ${c.name.padEnd(17)} ${c.summary}`,
  ).join('\n')}\n\nRun seal <command> --help for its flags. SEAL_WEBGPU_BACKEND / SEAL_WEBGPU_ADAPTER choose the WebGPU backend and adapter.\n`;
}

/**
 * The command `argv` names and the arguments after its name; domains have subcommands (`seal knowledge run …`
 * is the command "knowledge run"). Throws a UsageError for a missing or unknown command or subcommand.
 */
export function findCommand(argv: readonly string[]): { cmd: Command; rest: string[] } {
  const [name, ...rest] = argv;
  if (name === undefined || name.startsWith('-')) throw new UsageError(`seal: give a command first${name ? `, before ${name}` : ''}\n\n${usage()}`);
  const subcommands = COMMANDS.filter((c) => c.name.startsWith(`${name} `)).map((c) => c.name.slice(name.length + 1));
  if (subcommands.length) {
    const sub = rest[0] !== undefined && !rest[0].startsWith('-') ? rest.shift()! : undefined;
    if (sub === undefined) throw new UsageError(`seal ${name}: give a subcommand: ${subcommands.join(', ')}`);
    if (!subcommands.includes(sub)) throw new UsageError(`seal ${name}: unknown subcommand "${sub}" (have ${subcommands.join(', ')})`);
    return { cmd: COMMANDS.find((c) => c.name === `${name} ${sub}`)!, rest };
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) throw new UsageError(`seal: unknown command "${name}"\n\n${usage()}`);
  return { cmd, rest };
}
