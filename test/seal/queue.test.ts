// The queue's pieces without Redis: job ids and result checks, what a knowledge job carries (a worker's
// domain sees the coordinator's training texts and prompts exactly), ARC's settings, how a unit's own
// failure is isolated and scored, and --queue URLs.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../src/io/tokenizer.ts';
import { ArcDomain, ARC_DOMAIN_DEFAULTS } from '../../src/seal/arc/domain.ts';
import type { ArcTask } from '../../src/seal/arc/arc-data.ts';
import { type IndexedPassage, KnowledgeDomain, SEAL_INNER_LOOP, containmentGrader, sealFormat } from '../../src/seal/knowledge/domain.ts';
import type { Domain, InnerLoopUnit } from '../../src/seal/loop.ts';
import type { Policy } from '../../src/seal/policy.ts';
import { redisConnection } from '../../src/seal/queue/connection.ts';
import { arcJobs, knowledgeJobs, workerDomain } from '../../src/seal/queue/domains.ts';
import { evaluateIsolating } from '../../src/seal/queue/failures.ts';
import { type InnerLoopJobData, jobId, resultProblem } from '../../src/seal/queue/job.ts';
import { TrainingDivergedError } from '../../src/train/sft.ts';
import { byteTokenizerJson } from '../helpers/byte-tokenizer.ts';

const tokenizerDir = mkdtempSync(join(tmpdir(), 'queue-tok-'));
writeFileSync(join(tokenizerDir, 'tokenizer.json'), JSON.stringify(byteTokenizerJson()));
writeFileSync(join(tokenizerDir, 'tokenizer_config.json'), JSON.stringify({ bos_token: '<s>', eos_token: '</s>' }));

const job = (seed = 1): InnerLoopJobData => ({
  version: 1,
  origin: '/runs/a',
  model: { dir: '/m', hash: 'abc' },
  domain: { kind: 'arc', answerTokens: 8, answerBatch: 2 },
  wide: false,
  units: [{ key: 'r1/t/e0/s0', seed, selfEdit: '{}', context: { id: 't', b: [1, 2], a: null } }],
});

describe('jobs', () => {
  it('are named by a hash of everything in them, whatever the order of their keys', () => {
    const a = job();
    const reordered: InnerLoopJobData = {
      units: a.units.map((u) => ({ context: { a: null, b: [1, 2], id: 't' }, selfEdit: u.selfEdit, seed: u.seed, key: u.key })),
      wide: false,
      domain: { answerBatch: 2, answerTokens: 8, kind: 'arc' },
      model: { hash: 'abc', dir: '/m' },
      origin: '/runs/a',
      version: 1,
    };
    expect(jobId(reordered)).toBe(jobId(a));
    expect(jobId(job(2))).not.toBe(jobId(a));
    expect(jobId(a)).toMatch(/^il-[0-9a-f]{40}$/); // no ':' and not all digits, as BullMQ requires
  });

  it('accept only the result of the same job, on the same policy, one finite score per unit in order', () => {
    const data = job();
    const id = jobId(data);
    const ok = { id, model: 'abc', worker: 'w', seconds: 1, results: [{ key: 'r1/t/e0/s0', score: 0.5, details: null }] };
    expect(resultProblem(data, id, ok)).toBeNull();
    expect(resultProblem(data, id, { ...ok, id: 'il-other' })).toMatch(/for job il-other/);
    expect(resultProblem(data, id, { ...ok, model: 'def' })).toMatch(/content hash def/);
    expect(resultProblem(data, id, { ...ok, results: [{ ...ok.results[0], key: 'r1/t/e1/s0' }] })).toMatch(/not r1\/t\/e0\/s0/);
    expect(resultProblem(data, id, { ...ok, results: [{ ...ok.results[0], score: NaN }] })).toMatch(/score NaN/);
    expect(resultProblem(data, id, { ...ok, results: [] })).toMatch(/0 results for 1 units/);
    expect(resultProblem(data, id, 'done')).toMatch(/not an inner-loop job result/);
  });
});

describe('what a job carries', () => {
  it("knowledge: a worker's domain trains on the coordinator's texts (companions included) and asks its prompts", async () => {
    const tokenizer = await loadTokenizer(tokenizerDir);
    const passages = [
      { title: 'Zorblat', context: 'Zorblat is a city in Quux.', questions: [{ question: 'Where is Zorblat?', answer: 'Quux' }] },
      {
        title: 'Mira',
        context: 'Mira is a red star.',
        questions: [
          { question: 'What colour is Mira?', answer: 'red' },
          { question: 'Is it a star?', answer: 'yes' },
        ],
      },
    ];
    const companions = (c: IndexedPassage) => passages.filter((_, i) => i !== c.index);
    const inner = { ...SEAL_INNER_LOOP, epochs: 3 };
    const coordinator = new KnowledgeDomain(tokenizer, sealFormat('implications'), inner, containmentGrader, companions);
    const units: InnerLoopUnit<IndexedPassage>[] = passages.map((passage, index) => ({
      key: `r1/p${index}/e0/s0`,
      context: { index, passage },
      contextId: `p${index}`,
      selfEditIndex: 0,
      seedIndex: 0,
      selfEdit: `1. ${passage.title} exists.\n2. It is known.`,
      seed: 7,
    }));
    const { spec, contexts } = knowledgeJobs('containment').describe(coordinator, units);
    expect(spec).toEqual({ kind: 'knowledge', inner, grader: 'containment' });
    // Through JSON, as Redis carries it.
    const graders: string[] = [];
    const worker = await workerDomain(JSON.parse(JSON.stringify(spec)), tokenizer, async (name) => (graders.push(name), containmentGrader));
    const domain = worker.domain as KnowledgeDomain;
    expect(graders).toEqual(['containment']);
    expect(domain.inner).toEqual(inner);
    units.forEach((u, i) => {
      const c = worker.context(JSON.parse(JSON.stringify(contexts[i]))) as IndexedPassage;
      expect(domain.innerLoopTexts(c, 'ignored: the texts travel rendered')).toEqual(coordinator.innerLoopTexts(u.context, u.selfEdit));
      expect(coordinator.innerLoopTexts(u.context, u.selfEdit)).toContain(coordinator.format.passageSequence(passages[1 - i])); // a companion
      expect(c.passage.questions.map((q) => domain.format.answerPrompt(c.passage, q))).toEqual(
        u.context.passage.questions.map((q) => coordinator.format.answerPrompt(u.context.passage, q)),
      );
      expect(c.passage.questions.map((q) => domain.format.gradedQuestion(c.passage, q))).toEqual(
        u.context.passage.questions.map((q) => coordinator.format.gradedQuestion(u.context.passage, q)),
      );
      expect(c.passage.questions.map((q) => q.answer)).toEqual(u.context.passage.questions.map((q) => q.answer));
    });
  });

  it('ARC: the task and the answering settings', async () => {
    const tokenizer = await loadTokenizer(tokenizerDir);
    const task: ArcTask = { id: 't1', train: [{ input: [[1]], output: [[2]] }], test: [{ input: [[3]], output: [[4]] }] };
    const coordinator = new ArcDomain(tokenizer, { ...ARC_DOMAIN_DEFAULTS, answerTokens: 33, answerBatch: 3 });
    const unit = { key: 'r1/t1/e0/s0', context: task, contextId: 't1', selfEditIndex: 0, seedIndex: 0, selfEdit: '{}', seed: 3 };
    const { spec, contexts } = arcJobs().describe(coordinator, [unit]);
    const worker = await workerDomain(spec, tokenizer, async () => containmentGrader);
    expect((worker.domain as ArcDomain).options).toEqual({ ...ARC_DOMAIN_DEFAULTS, answerTokens: 33, answerBatch: 3 });
    expect(worker.context(JSON.parse(JSON.stringify(contexts[0])))).toEqual(task);
  });
});

describe("a unit's own failure", () => {
  // Self-edit "nan" diverges wherever it runs; "lost" is the machine's failure; others score their length.
  const domain: Domain<number> = {
    id: (c) => `c${c}`,
    prompt: () => [],
    evaluate: async (_p, _c, selfEdit) => (await domain.evaluateMany!(null as unknown as Policy, [{ context: 0, selfEdit, seed: 0 }]))[0],
    evaluateMany: async (_p, units) => {
      if (units.some((u) => u.selfEdit === 'lost')) throw new Error('device lost');
      if (units.some((u) => u.selfEdit === 'nan')) throw new TrainingDivergedError(2, NaN);
      if (units.some((u) => u.selfEdit === 'long')) throw new RangeError('position 9000 is beyond the context');
      return units.map((u) => ({ score: u.selfEdit.length / 10, details: { n: u.selfEdit.length } }));
    },
    select: () => [],
  };
  const chunk = (...texts: string[]) => texts.map((selfEdit, i) => ({ context: i, selfEdit, seed: i }));
  const policy = null as unknown as Policy;

  it('is recorded with score 0 and why; its chunk-mates run alone and keep their scores', async () => {
    expect(await evaluateIsolating(policy, domain, chunk('abc', 'defgh'), true)).toEqual([
      { score: 0.3, details: { n: 3 } },
      { score: 0.5, details: { n: 5 } },
    ]);
    expect(await evaluateIsolating(policy, domain, chunk('abc', 'nan', 'long', 'de'), true)).toEqual([
      { score: 0.3, details: { n: 3, ranAlone: true } },
      {
        score: 0,
        details: {
          failed: "TrainingDivergedError: The loss became NaN at step 2; training stopped before that step's update (the parameters are those after step 1)",
        },
      },
      { score: 0, details: { failed: 'RangeError: position 9000 is beyond the context' } },
      { score: 0.2, details: { n: 2, ranAlone: true } },
    ]);
    expect(await evaluateIsolating(policy, domain, chunk('nan'), false)).toEqual([
      { score: 0, details: { failed: expect.stringMatching(/^TrainingDivergedError/) } },
    ]);
  });

  it("is not the machine's: any other error fails the job (BullMQ retries it)", async () => {
    await expect(evaluateIsolating(policy, domain, chunk('abc', 'lost'), true)).rejects.toThrow('device lost');
  });
});

describe('--queue', () => {
  it('takes redis:// and rediss:// URLs with a port, a database, credentials', () => {
    expect(redisConnection('redis://10.0.0.5:6380/2')).toEqual({ host: '10.0.0.5', port: 6380, db: 2 });
    expect(redisConnection('redis://localhost')).toEqual({ host: 'localhost', port: 6379, db: 0 });
    expect(redisConnection('rediss://u:p%40ss@h:1')).toEqual({ host: 'h', port: 1, db: 0, username: 'u', password: 'p@ss', tls: {} });
    expect(() => redisConnection('http://h:1')).toThrow(/redis:\/\/ or rediss:\/\//);
    expect(() => redisConnection('h:1')).toThrow(/redis:\/\/ or rediss:\/\//);
    expect(() => redisConnection('redis://h:1/x')).toThrow(/database/);
  });
});
