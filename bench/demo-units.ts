// The demo's unit operations on the bundled tiny model (weights/seal-tiny), timed one by one so that a
// regression in any phase of `npm run demo` shows here first:
//   sample     one batch of self-edits (the evaluation people's implications, T = 0.7, KV cache)
//   inner      one inner loop alone: a LoRA fitted to 4 people's passages + self-edits (10 epochs)
//   slots-N    N inner loops side by side in one stacked adapter (the demo's evaluation and E-step batch)
//   answer     closed-book QA for N groups (greedy, one forward per token)
// Each is run once untimed (pipelines compile; with an empty Mesa cache that first run is the cold cost,
// printed too) and then timed. `npm run bench -- demo-units [slots]` (default 16).
import { join } from 'node:path';
import { WORLD_FORMAT, exactValue, personPassage } from '../src/demo/demo.ts';
import { readTinyRecord } from '../src/demo/pretrain.ts';
import { TINY_INNER_LOOP, TINY_SELF_EDIT_SAMPLING } from '../src/demo/recipe.ts';
import { generateWorld } from '../src/demo/world.ts';
import { engine } from '../src/gpu/engine.ts';
import { loadTokenizer } from '../src/io/tokenizer.ts';
import { loadLlama } from '../src/model/load.ts';
import { type InnerLoopJob, KnowledgeDomain } from '../src/seal/knowledge/domain.ts';
import { Policy } from '../src/seal/policy.ts';
import { DEMO } from '../src/demo/demo.ts';
import { type BenchOptions, note, report, round } from './lib.ts';

const MODEL = join(import.meta.dirname, '..', 'weights', 'seal-tiny');

async function timed<T>(work: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const start = performance.now();
  const value = await work();
  await engine().cmd.sync();
  return { seconds: (performance.now() - start) / 1000, value };
}

export async function run(opts: BenchOptions): Promise<void> {
  const slots = Number(opts.args[0] ?? 16);
  const record = readTinyRecord(MODEL);
  const world = generateWorld(record.world);
  const tokenizer = await loadTokenizer(MODEL);
  const model = await loadLlama(MODEL);
  const policy = new Policy(model, tokenizer, MODEL, [...new Set([...model.config.eosTokenIds, ...tokenizer.eosIds])]);
  const domain = new KnowledgeDomain(tokenizer, WORLD_FORMAT, DEMO.inner, exactValue);
  const G = TINY_INNER_LOOP.peoplePerAdapter;
  const people = world.eval.slice(0, slots * G).map(personPassage);
  while (people.length < slots * G) people.push(...people.slice(0, slots * G - people.length));
  const sampling = { temperature: TINY_SELF_EDIT_SAMPLING.temperature, topP: 1, maxNewTokens: TINY_SELF_EDIT_SAMPLING.maxNewTokens };

  // sample: one self-edit per person, all in one batch
  const prompts = people.map((p, i) => ({ prompt: domain.prompt({ index: i, passage: p }), seed: i }));
  const sampleCold = await timed(() => policy.sample(prompts, sampling));
  const sample = await timed(() => policy.sample(prompts, sampling));
  const generated = sample.value.reduce((n, t) => n + tokenizer.encode(t, { addBos: false }).length, 0);
  report(
    opts,
    { bench: 'demo-units', unit: 'sample', rows: prompts.length, tokens: generated, seconds: sample.seconds, cold_seconds: sampleCold.seconds },
    `sample      ${prompts.length} self-edits (${generated} tokens) in ${round(sample.seconds)} s (${round(generated / sample.seconds)} tok/s; first run ${round(sampleCold.seconds)} s)`,
  );

  // The inner-loop jobs: each group of G people trains on its passages + self-edits (the round-0 condition).
  const jobs: InnerLoopJob[] = Array.from({ length: slots }, (_, g) => {
    const members = people.slice(g * G, (g + 1) * G);
    const texts = members.flatMap((p, k) => domain.sequences({ index: g * G + k, passage: p }, sample.value[g * G + k]));
    return { passages: members, texts, seed: g };
  });
  const tokensOf = (job: InnerLoopJob) => job.texts!.reduce((n, t) => n + tokenizer.encode(t).length + 1, 0) * DEMO.inner.epochs;

  const lone = [jobs[0]];
  const innerCold = await timed(() => domain.adaptAndAnswerMany(policy, lone, 1));
  const inner = await timed(() => domain.adaptAndAnswerMany(policy, lone, 1));
  report(
    opts,
    { bench: 'demo-units', unit: 'inner', slots: 1, train_tokens: tokensOf(jobs[0]), seconds: inner.seconds, cold_seconds: innerCold.seconds },
    `inner       1 inner loop (${tokensOf(jobs[0])} training tokens) in ${round(inner.seconds)} s (${round(tokensOf(jobs[0]) / inner.seconds)} tok/s; first run ${round(innerCold.seconds)} s)`,
  );

  const many = await timed(() => domain.adaptAndAnswerMany(policy, jobs, slots));
  const total = jobs.reduce((n, j) => n + tokensOf(j), 0);
  report(
    opts,
    { bench: 'demo-units', unit: `slots`, slots, train_tokens: total, seconds: many.seconds, per_inner_loop_s: many.seconds / slots },
    `slots-${slots}   ${slots} inner loops side by side (${total} training tokens) in ${round(many.seconds)} s: ${round(many.seconds / slots)} s per inner loop, ${round(total / many.seconds)} tok/s, ×${round(inner.seconds / (many.seconds / slots))} the lone loop`,
  );

  const answer = await timed(() =>
    domain.answer(
      policy,
      jobs.map((j) => j.passages),
    ),
  );
  const questions = jobs.reduce((n, j) => n + j.passages.reduce((m, p) => m + p.questions.length, 0), 0);
  report(
    opts,
    { bench: 'demo-units', unit: 'answer', groups: slots, questions, seconds: answer.seconds },
    `answer      ${questions} questions of ${slots} groups in ${round(answer.seconds)} s`,
  );
  note(opts, `${engine().cmd.dispatches} dispatches, ${engine().cmd.submits} submits in all`);
  model.dispose();
}
