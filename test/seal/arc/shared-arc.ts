// Where the shared ARC data lives for tests ("../shared" from the project root), and a loud skip when absent.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const ARC_DIR = resolve(import.meta.dirname, '../../../../shared/data/arc');
export const HAVE_ARC = existsSync(ARC_DIR);
export const TRAINING_CHALLENGES = resolve(ARC_DIR, 'arc-agi_training_challenges.json');
export const TRAINING_SOLUTIONS = resolve(ARC_DIR, 'arc-agi_training_solutions.json');

if (!HAVE_ARC) console.warn(`SKIPPING tests on the ARC task files: ${ARC_DIR} not found (the shared data folder next to the project)`);
