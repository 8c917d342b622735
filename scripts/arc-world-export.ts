// Writes an ARC world (src/demo/arc-world.ts) to a folder in SEAL's task layout, and beside it
// `arc-tiny_sequences.json`: every task rendered with SEAL's few-shot chat text (src/seal/arc/messages.ts,
// grid-text.ts) — what a tiny model is pretrained on, queried with, and test-time trained on — so that a
// prototype outside TypeScript (notes/prototypes/arc_tiny.py) reads exactly the text our pipeline produces.
//
//   nice -n 19 npx tsx scripts/arc-world-export.ts --out scratch/arc-tiny [--seed 1] [--train-tasks 20000]
//     [--eval-tasks 60] [--split held-out|iid|primitives] [--ttt-cap 64] [--ttt-seed 0] [--max-side 7] [--min-side 3]
//     [--density 0.7,0.9] [--families a,b,...]  (one list for both splits, instead of --split)
//
// Per training task: the whole conversation (system with the demonstrations, user with the test input,
// assistant with the test output). Per evaluation task: the query (system + user), the answer text, and
// for each tool selection of a self-edit (none, basic, size, chain, repeat, all) the test-time training
// conversations `buildTttSet` makes from the demonstrations alone (leave-1 and leave-2-out, tools,
// colour-permuted copies, shuffled), cut to --ttt-cap (SEAL's cap is 250; the cut keeps the shuffle's
// first ones, as SEAL's does). No token limit applies (a character count stands in; nothing here nears 8,192).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ARC_WORLD_FILES, type ArcWorldOptions, PRIMITIVE_FAMILIES, generateArcWorld, heldOutSplit, writeArcWorld } from '../src/demo/arc-world.ts';
import type { ArcTask } from '../src/seal/arc/arc-data.ts';
import { formatAnswer } from '../src/seal/arc/grid-text.ts';
import { type ChatMessage, FEW_SHOT_SYSTEM_PROMPT, fewShotConversation, fewShotQuery } from '../src/seal/arc/messages.ts';
import { ALL_TOOLS, NO_TOOLS, type ToolSelection } from '../src/seal/arc/tools.ts';
import { buildTttSet } from '../src/seal/arc/ttt-data.ts';

export const TOOL_SELECTIONS: Record<string, ToolSelection> = {
  none: NO_TOOLS,
  basic: { ...NO_TOOLS, basic: true },
  size: { ...NO_TOOLS, size: true },
  chain: { ...NO_TOOLS, chain: true },
  repeat: { ...NO_TOOLS, repeat: true },
  all: ALL_TOOLS,
};

type Split = 'held-out' | 'iid' | 'primitives';

function familiesOf(split: Split, list?: string[]): ArcWorldOptions['families'] {
  if (list !== undefined) return list;
  if (split === 'held-out') return heldOutSplit();
  if (split === 'primitives') return [...PRIMITIVE_FAMILIES];
  return undefined;
}

/** Messages as [role, content] pairs: compact, and the order is the sequence's. */
const compact = (messages: readonly ChatMessage[]) => messages.map((m) => [m.role, m.content]);

export interface ExportOptions {
  out: string;
  seed: number;
  trainTasks: number;
  evalTasks: number;
  split: Split;
  tttCap: number;
  tttSeed: number;
  maxSide?: number;
  minSide?: number;
  density?: { min: number; max: number };
  /** One family list for both splits, overriding --split. */
  families?: string[];
}

export async function exportArcWorld(o: ExportOptions): Promise<string> {
  const world = generateArcWorld({
    seed: o.seed,
    trainTasks: o.trainTasks,
    evalTasks: o.evalTasks,
    families: familiesOf(o.split, o.families),
    maxSide: o.maxSide,
    minSide: o.minSide,
    density: o.density,
  });
  await writeArcWorld(world, o.out);
  const family = (task: ArcTask) => world.meta.tasks[task.id].family;
  const whole = (task: ArcTask) => ({ demonstrations: task.train, test: { input: task.test[0].input, output: task.test[0].output! } });
  const countTokens = (text: string) => text.length;
  const sequences = {
    seed: o.seed,
    split: o.split,
    maxSide: o.maxSide,
    minSide: o.minSide,
    families: world.meta.families,
    systemPrompt: FEW_SHOT_SYSTEM_PROMPT,
    tttCap: o.tttCap,
    train: world.train.map((task) => ({ id: task.id, family: family(task), messages: compact(fewShotConversation(whole(task))) })),
    eval: world.eval.map((task) => ({
      id: task.id,
      family: family(task),
      demonstrations: task.train.length,
      query: compact(fewShotQuery(whole(task))),
      answer: formatAnswer(task.test[0].output!),
      ttt: Object.fromEntries(
        Object.entries(TOOL_SELECTIONS).map(([name, selection]) => {
          const set = buildTttSet(task.train, selection, { countTokens, seed: o.tttSeed, maxExamples: o.tttCap });
          return [name, set.examples.map((example) => compact(example.messages))];
        }),
      ),
    })),
  };
  const path = join(o.out, 'arc-tiny_sequences.json');
  await writeFile(path, `${JSON.stringify(sequences)}\n`);
  return path;
}

/** `--density 0.7,0.9`: the range of non-empty shares. */
function densityArg(text: string): { min: number; max: number } {
  const [min, max] = text.split(',').map(Number);
  return { min, max: max ?? min };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string, fallback: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : fallback;
  };
  const split = arg('split', 'held-out') as Split;
  if (!['held-out', 'iid', 'primitives'].includes(split)) throw new Error(`--split must be held-out, iid or primitives, got ${split}`);
  const options: ExportOptions = {
    out: arg('out', 'scratch/arc-tiny'),
    seed: Number(arg('seed', '1')),
    trainTasks: Number(arg('train-tasks', '20000')),
    evalTasks: Number(arg('eval-tasks', '60')),
    split,
    tttCap: Number(arg('ttt-cap', '64')),
    tttSeed: Number(arg('ttt-seed', '0')),
    maxSide: Number(arg('max-side', '7')),
    minSide: Number(arg('min-side', '3')),
    density: process.argv.includes('--density') ? densityArg(arg('density', '')) : undefined,
    families: process.argv.includes('--families') ? arg('families', '').split(',') : undefined,
  };
  const started = Date.now();
  const path = await exportArcWorld(options);
  console.log(`wrote ${Object.values(ARC_WORLD_FILES).join(', ')} and ${path} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
