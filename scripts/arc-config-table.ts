// Issue 24, point 3: per family, how often each self-edit configuration's test-time training solves a task,
// measured through the real `seal arc` inner loop (ArcDomain.run: SEAL's TTT data, plan, augmented
// inference and voting) on the tiny ARC model and fresh tasks of its own families. Also in-context
// accuracy (no TTT). Prints a markdown table, writes the rows as JSON (--out) and the demo's `best` table
// (--best-out: per family, the TTT configuration that solved the most tasks, the cheaper one on a tie).
//
//   npx tsx scripts/arc-config-table.ts [--model weights/seal-tiny-arc] [--tasks 10] [--seed 7]
//     [--tools none,all] [--lrs 0.01,0.03] [--epochs 1,2] [--strategy train_using_output_tokens]
//     [--ttt-examples <the demo's cap>] [--out rows.json] [--merge earlier-rows.json,…] [--best-out best.json]
//
// --merge adds the TTT rows of earlier runs (same --model, --tasks and --seed) to the table and the choice.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ArcDemoConfig, ARC_DEMO, worldShape } from '../src/demo/arc-demo.ts';
import { generateArcWorld } from '../src/demo/arc-world.ts';
import { ArcDomain } from '../src/seal/arc/domain.ts';
import { answerTask } from '../src/seal/arc/episode.ts';
import { type SelfEditConfig, type TrainingStrategy, formatSelfEdit, parseSelfEdit } from '../src/seal/arc/self-edit.ts';
import { Policy } from '../src/seal/policy.ts';
import { init, shutdown } from '../src/tensor/index.ts';
import { TOOL_SELECTIONS } from './arc-world-export.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const model = arg('model', join(import.meta.dirname, '..', 'weights', 'seal-tiny-arc'));
const tasks = Number(arg('tasks', '10'));
const seed = Number(arg('seed', '7'));
const strategy = arg('strategy', 'train_using_output_tokens') as TrainingStrategy;
const configs: { name: string; config: SelfEditConfig }[] = [];
for (const tools of arg('tools', 'none,all').split(',').filter(Boolean)) {
  if (!TOOL_SELECTIONS[tools]) throw new Error(`--tools ${tools}: expected some of ${Object.keys(TOOL_SELECTIONS).join(', ')}`);
  for (const lr of arg('lrs', '0.01,0.03').split(',').map(Number)) {
    for (const epochs of arg('epochs', '1,2').split(',').map(Number)) {
      const name = `${tools} lr ${lr} ep ${epochs}${strategy === 'train_using_all_tokens' ? ', all tokens' : ''}`;
      configs.push({ name, config: { tools: TOOL_SELECTIONS[tools], strategy, learningRate: lr, epochs } });
    }
  }
}

process.env.XDG_RUNTIME_DIR ??= '/tmp';
await init();
try {
  const demo: ArcDemoConfig = { ...ARC_DEMO, model };
  const world = generateArcWorld({ seed, trainTasks: 0, evalTasks: tasks, ...worldShape(demo) });
  const policy = await Policy.load(model);
  const domain = new ArcDomain(policy.tokenizer, { ...ARC_DEMO.domain, maxTttExamples: Number(arg('ttt-examples', String(ARC_DEMO.domain.maxTttExamples))) });
  const familyOf = (id: string) => world.meta.tasks[id].family;
  type Row = { task: string; family: string; config: string; selfEdit: string | null; solved: boolean; steps: number; seconds: number };
  const merged = process.argv.includes('--merge') ? arg('merge', '').split(',') : [];
  // Their TTT rows only: this run measures in context itself.
  const rows: Row[] = merged.flatMap((file) => (JSON.parse(readFileSync(file, 'utf8')) as Row[]).filter((r) => r.config !== 'in context'));
  const started = performance.now();
  for (const task of world.eval) {
    for (const { name, config } of [{ name: 'in context', config: null }, ...configs]) {
      const t0 = performance.now();
      // In context: the base model answers SEAL's augmented queries and votes, as the demo's icl condition does.
      const outcome = config
        ? await domain.run(policy, task, parseSelfEdit(formatSelfEdit(config)), seed)
        : { ...(await answerTask(task, (q) => domain.answer(policy, q), { countTokens: domain.countTokens, seed })), plan: { totalSteps: 0 } };
      rows.push({
        task: task.id,
        family: familyOf(task.id),
        config: name,
        selfEdit: config && formatSelfEdit(config),
        solved: outcome.solved,
        steps: outcome.plan.totalSteps,
        seconds: (performance.now() - t0) / 1000,
      });
    }
    console.error(`${task.id} ${familyOf(task.id)}: ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  const families = [...new Set(rows.map((r) => r.family))].sort();
  const names = ['in context', ...new Set(rows.map((r) => r.config).filter((c) => c !== 'in context'))];
  const cell = (config: string, family?: string) => {
    const sel = rows.filter((r) => r.config === config && (!family || r.family === family));
    return `${sel.filter((r) => r.solved).length}/${sel.length}`;
  };
  console.log(`| configuration | ${families.join(' | ')} | all | s per task |`);
  console.log(`|---|${families.map(() => '---:').join('|')}|---:|---:|`);
  for (const name of names) {
    const sel = rows.filter((r) => r.config === name);
    const seconds = sel.reduce((s, r) => s + r.seconds, 0) / sel.length;
    console.log(`| ${name} | ${families.map((f) => cell(name, f)).join(' | ')} | ${cell(name)} | ${seconds.toFixed(1)} |`);
  }
  const solvedBy = new Set(rows.filter((r) => r.solved && r.config !== 'in context').map((r) => r.task));
  console.log(`\nper-task best (any TTT configuration solves it): ${solvedBy.size}/${world.eval.length}`);
  if (process.argv.includes('--out')) writeFileSync(arg('out', ''), `${JSON.stringify(rows, null, 1)}\n`);
  if (process.argv.includes('--best-out')) {
    // Per family, the TTT configuration that solved the most of its tasks; on a tie the one that took less time.
    const trained = names.filter((name) => name !== 'in context');
    const best: Record<string, unknown> = {};
    for (const family of families) {
      const score = (name: string) => {
        const sel = rows.filter((r) => r.config === name && r.family === family);
        return { name, selfEdit: sel[0].selfEdit!, solved: sel.filter((r) => r.solved).length, seconds: sel.reduce((s, r) => s + r.seconds, 0) };
      };
      const [winner] = trained.map(score).sort((a, b) => b.solved - a.solved || a.seconds - b.seconds);
      best[family] = JSON.parse(winner.selfEdit);
    }
    const source = `scripts/arc-config-table.ts, seed ${seed}, ${world.eval.length} tasks, ${trained.length} TTT configurations (notes/arc-demo.md)`;
    writeFileSync(arg('best-out', ''), `${JSON.stringify({ source, families: best }, null, 2)}\n`);
  }
  policy.model.dispose();
} finally {
  await shutdown();
}
