// `seal <command> [flags]`: the command-line entry point.
import { init, shutdown } from '../tensor/index.ts';
import { type Command, UsageError, helpText, parseFlags } from './args.ts';
import { finetuneCommand } from './finetune.ts';
import { arcCommands } from './arc.ts';
import { generateCommand } from './generate.ts';
import { knowledgeCommands } from './knowledge.ts';
import { mergeCommand } from './merge.ts';
import { scoreCommand } from './score.ts';
import { workerCommand } from './worker.ts';

const COMMANDS: Command[] = [generateCommand, scoreCommand, finetuneCommand, mergeCommand, ...knowledgeCommands, ...arcCommands, workerCommand];

function usage(): string {
  return `seal: a WebGPU deep-learning engine, Llama-3.2 + LoRA, and the SEAL self-adapting loop\n\nCommands:\n${COMMANDS.map(
    (c) => `  ${c.name.padEnd(17)} ${c.summary}`,
  ).join('\n')}\n\nRun seal <command> --help for its flags. SEAL_WEBGPU_BACKEND / SEAL_WEBGPU_ADAPTER choose the WebGPU backend and adapter.\n`;
}

async function main(argv: string[]): Promise<number> {
  let [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 1;
  }
  // Domains have subcommands: `seal knowledge run …` is the command "knowledge run".
  if (COMMANDS.some((c) => c.name.startsWith(`${name} `))) {
    const sub = rest[0] && !rest[0].startsWith('-') ? rest.shift() : undefined;
    if (!sub) throw new UsageError(`seal ${name}: give a subcommand: ${COMMANDS.filter((c) => c.name.startsWith(`${name} `)).map((c) => c.name.split(' ')[1]).join(', ')}`);
    name = `${name} ${sub}`;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) throw new UsageError(`seal: unknown command "${name}"\n\n${usage()}`);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(helpText(cmd));
    return 0;
  }
  const { flags, positional } = parseFlags(cmd, rest);
  if (cmd.gpu === false) {
    await cmd.run(flags, positional);
    return 0;
  }
  await init();
  try {
    await cmd.run(flags, positional);
  } finally {
    await shutdown();
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`${e instanceof UsageError ? '' : 'error: '}${e.message}\n`);
    if (process.env.SEAL_DEBUG) console.error(e.stack);
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
