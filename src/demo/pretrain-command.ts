// `npm run pretrain-tiny [-- <flags>]` pretrains the knowledge demo's tiny model (pretrain.ts);
// `npm run pretrain-tiny -- arc [<flags>]` the ARC demo's (arc-pretrain.ts).
import { runCommandLine } from '../util/flags.ts';
import { arcPretrainCommand } from './arc-pretrain.ts';
import { pretrainCommand } from './pretrain.ts';

process.env.XDG_RUNTIME_DIR ??= '/tmp';
const argv = process.argv.slice(2);
if (argv[0] === 'arc') await runCommandLine(arcPretrainCommand, argv.slice(1));
else await runCommandLine(pretrainCommand, argv);
