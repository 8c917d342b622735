// Where the shared SEAL data lives for tests ("../shared" from the project root), and a loud skip when absent.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const SQUAD_DIR = resolve(import.meta.dirname, '../../../../shared/data/squad');
export const HAVE_SQUAD = existsSync(SQUAD_DIR);

if (!HAVE_SQUAD) console.warn(`SKIPPING tests on SEAL's SQuAD files: ${SQUAD_DIR} not found (the shared data folder next to the project)`);
