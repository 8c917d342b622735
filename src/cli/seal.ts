// `seal <command> [flags]`: the command-line entry point. Flags are checked before the GPU starts.
import { init, shutdown } from '../tensor/index.ts';
import { UsageError, helpText, parseFlags } from '../util/flags.ts';
import { findCommand, usage } from './commands.ts';

async function main(argv: string[]): Promise<number> {
  const [name] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 1;
  }
  const { cmd, rest } = findCommand(argv);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(helpText(cmd));
    return 0;
  }
  const flags = parseFlags(cmd, rest);
  if (cmd.gpu === false) {
    await cmd.run(flags);
    return 0;
  }
  await init();
  try {
    await cmd.run(flags);
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
