// A knowledge-incorporation experiment, as in the paper's Table 2: baselines and SEAL's rounds, each
// scored on the same evaluation passages (questions answered without the passage), mean ± std over seeds.
//
// Conditions (condition.ts; evaluated per seed s and passage p, each a logged, resumable unit
// `eval/<label>/s<s>/p<i>`): base, passage, self-edits:<file> (the first self-edit a file such as GPT-4.1's
// stores for the passage), round-<r>, repeated:<c> (the equal-token control), and cpt:<c> (continued
// pretraining, cpt.ts, SEAL's v1 or v2: one update on every passage's c completions at once, `eval/<label>/s<s>`).
import { type KnowledgeCondition, type PassageCondition, formatCondition, policyRound } from '../condition.ts';
import type { Grader } from './llm-judge.ts';
import { knowledgeEvaluation } from '../records.ts';
import { type JsonValue, type RunDir, traceUnitStart } from '../run-dir.ts';
import { type Domain, type InnerLoopRunner, type LoopEvents, type RestEmConfig, restEm, unitSeed } from '../loop.ts';
import type { Policy } from '../policy.ts';
import { CPT_RECIPES, type CptMode, continuedPretraining } from './cpt.ts';
import { type IndexedPassage, KnowledgeDomain, type KnowledgeFormat, type InnerLoopConfig } from './domain.ts';
import { pyStrip } from './python-text.ts';
import { meanStd, passageAccuracy } from './scoring.ts';
import type { SelfEditPassage, SquadPassage } from './squad-data.ts';

export interface KnowledgeRunConfig {
  /**
   * Passages that share one inner-loop adapter (their texts trained together, all their questions asked
   * of it); 1, SEAL's setting, by default. In the E-step, a context's companions are the other passages of
   * its group, whose plain passages join its training data.
   */
  groupSize?: number;
  /** Which self-edits the M-step imitates (default: SEAL's best-of-M). */
  selection?: (rewards: number[]) => number[];
  /** Passages the RL rounds train on (fresh ones each round) and those the conditions are scored on. */
  trainPassages: SquadPassage[];
  evalPassages: SquadPassage[];
  /** Training passages per round. */
  passagesPerRound: number;
  /**
   * Per round (rounds past the list repeat its last value), whether the E-step's inner loops split the
   * self-edit into lines: SEAL's round 1 did (results/query_server/train/rank_iter0.json), its round 2 did
   * not (rank_iter1.json). Unset: the format's default, for every round.
   */
  eStepSplitNewlines?: readonly boolean[];
  /** Conditions to score, in table order (see above); `round-<r>` for r ≤ rounds. */
  conditions: KnowledgeCondition[];
  /** Seeds per evaluation condition (mean ± std over them). */
  evalSeeds: number;
  restEm: RestEmConfig;
  /** Self-edit files by the name used in `self-edits:<name>` conditions. */
  selfEditFiles: Record<string, SelfEditPassage[]>;
  /** How `cpt:<label>` conditions train and score (cpt.ts): SEAL's v1 (LoRA, default) or v2 (full fine-tune). */
  cpt?: CptMode;
  /** Where the E-step's inner loops run (default: in this process; a queue's workers: src/seal/queue). */
  innerLoops?: InnerLoopRunner<IndexedPassage>;
  /**
   * Sample the evaluation passages' self-edits after every round (every seed), also of rounds no condition
   * scores: a report can then follow how the policy's writing changes round over round at no inner-loop cost.
   */
  selfEditsEveryRound?: boolean;
}

export interface ConditionResult {
  label: string;
  condition: KnowledgeCondition;
  /** Macro accuracy over the evaluation passages, per seed. */
  perSeed: number[];
  /** Tokens of training data per passage, averaged (0 for base). */
  trainTokens: number;
  /** cpt:<c> only: the unadapted policy's micro accuracy on the same questions, per seed (SEAL's CPT baseline). */
  baseline?: number[];
}

export interface KnowledgeUi extends Partial<Pick<LoopEvents, 'onProgress' | 'log'>> {
  evalProgress?(label: string, done: number, total: number): void;
}

export class KnowledgeRun {
  readonly domain: KnowledgeDomain;

  constructor(
    readonly policy: Policy,
    format: KnowledgeFormat,
    inner: InnerLoopConfig,
    grader: Grader,
    readonly config: KnowledgeRunConfig,
    readonly run: RunDir,
    readonly ui: KnowledgeUi = {},
    /** Reloads the policy from a saved folder (resume after an M-step). */
    readonly loadPolicy: (dir: string) => Promise<void> = async () => {
      throw new Error('this run cannot reload a saved policy');
    },
  ) {
    const G = this.groupSize;
    const companions = (c: IndexedPassage) => {
      const first = Math.floor(c.index / G) * G;
      return config.trainPassages.slice(first, first + G).filter((_, k) => first + k !== c.index);
    };
    this.domain = new KnowledgeDomain(policy.tokenizer, format, inner, grader, companions, config.selection, config.restEm.sampling);
    const split = config.eStepSplitNewlines;
    if (split?.length) this.domain.eStepSplitNewlines = (c) => split[Math.min(Math.floor(c.index / config.passagesPerRound), split.length - 1)];
  }

  get groupSize(): number {
    return Math.max(1, this.config.groupSize ?? 1);
  }

  /** Everything: the conditions before RL, the rounds (scoring round-r conditions after each), the table. */
  async all(): Promise<ConditionResult[]> {
    const rounds = this.config.restEm.rounds;
    // Conditions that need round r's policy run right after round r; the rest before RL.
    for (const c of this.config.conditions) if ((policyRound(c) ?? 0) === 0) await this.condition(c);
    if (rounds > 0) {
      const contexts = (round: number): IndexedPassage[] =>
        this.config.trainPassages
          .slice((round - 1) * this.config.passagesPerRound, round * this.config.passagesPerRound)
          .map((passage, i) => ({ index: (round - 1) * this.config.passagesPerRound + i, passage }));
      const needed = rounds * this.config.passagesPerRound;
      if (this.config.trainPassages.length < needed) {
        throw new Error(
          `${rounds} rounds × ${this.config.passagesPerRound} passages need ${needed} training passages; the data has ${this.config.trainPassages.length}`,
        );
      }
      await restEm(this.policy, this.domain as Domain<IndexedPassage>, contexts, this.config.restEm, this.run, {
        onProgress: this.ui.onProgress,
        log: this.ui.log,
        loadPolicy: this.loadPolicy,
        afterRound: async (round) => {
          if (this.config.selfEditsEveryRound) {
            const all = this.config.evalPassages.map((_, i) => i);
            for (let seed = 0; seed < this.config.evalSeeds; seed++) await this.sampleSelfEdits(round, seed, all);
          }
          for (const c of this.config.conditions) if (policyRound(c) === round) await this.condition(c);
        },
        innerLoops: this.config.innerLoops,
      });
    }
    return this.config.conditions.map((c) => this.result(c));
  }

  /** Scores one condition (skipping logged units) and returns its result. */
  async condition(c: KnowledgeCondition): Promise<ConditionResult> {
    const label = formatCondition(c);
    const passages = this.config.evalPassages;
    const total = this.config.evalSeeds * (c.kind === 'cpt' ? 1 : passages.length);
    let done = 0;
    if (c.kind === 'cpt') {
      for (let s = 0; s < this.config.evalSeeds; s++) {
        await this.run.evaluationUnit(`eval/${label}/s${s}`, () => this.continuedPretraining(c.of, s));
        this.ui.evalProgress?.(label, ++done, total);
      }
      return this.result(c);
    }
    // Groups (of `groupSize` passages sharing one adapter; 1 in SEAL's setting) of every seed not scored
    // yet, `parallel` inner loops at a time.
    const G = this.groupSize;
    const groups = Array.from({ length: Math.ceil(passages.length / G) }, (_, g) => passages.map((_, i) => i).slice(g * G, (g + 1) * G));
    const units = Array.from({ length: this.config.evalSeeds }, (_, s) => groups.map((members) => ({ s, members }))).flat();
    const pending = units.filter(({ s, members }) => members.some((i) => !this.run.has(`eval/${label}/s${s}/p${i}`)));
    done += total - pending.reduce((n, u) => n + u.members.length, 0);
    const parallel = Math.max(1, this.config.restEm.parallel ?? 1);
    // The bar appears when the work starts, not when its first chunk ends (often the only chunk).
    if (pending.length) this.ui.evalProgress?.(label, done, total);
    for (let from = 0; from < pending.length; from += parallel) {
      const chunk = pending.slice(from, from + parallel);
      const started = performance.now();
      const round = policyRound(c);
      for (let s = 0; s < this.config.evalSeeds; s++) {
        if (round === null) continue;
        await this.sampleSelfEdits(
          round,
          s,
          chunk.filter((u) => u.s === s).flatMap((u) => u.members),
        );
      }
      const prepared = new Map<string, { texts: string[] | null; selfEdit?: string }>();
      for (const { s, members } of chunk) for (const i of members) prepared.set(`${s}/${i}`, await this.trainingTexts(c, s, i));
      const jobs = chunk.map(({ s, members }) => {
        const texts = members.flatMap((i) => prepared.get(`${s}/${i}`)!.texts ?? []);
        return {
          passages: members.map((i) => passages[i]),
          texts: texts.length ? texts : null,
          seed: unitSeed(this.config.restEm.seed, 'eval', s, members[0]),
        };
      });
      const chunkPassages = chunk.reduce((n, u) => n + u.members.length, 0);
      traceUnitStart(chunk.flatMap(({ s, members }) => members.map((i) => `eval/${label}/s${s}/p${i}`)).filter((k) => !this.run.has(k)));
      const results = await this.domain.adaptAndAnswerMany(this.policy, jobs, parallel, (f) => this.ui.evalProgress?.(label, done + f * chunkPassages, total));
      const seconds = (performance.now() - started) / 1000 / chunk.length;
      chunk.forEach(({ s, members }, k) => {
        // Split the group's answers back to its passages, question by question.
        let q = 0;
        for (const i of members) {
          const n = passages[i].questions.length;
          const verdicts = results[k].verdicts.slice(q, q + n);
          const answers = results[k].answers.slice(q, q + n);
          q += n;
          const key = `eval/${label}/s${s}/p${i}`;
          if (this.run.has(key)) continue;
          const prep = prepared.get(`${s}/${i}`)!;
          this.run.log({
            kind: 'evaluation',
            key,
            condition: label,
            seed: s,
            passage: i,
            ...(G > 1 ? { group: members } : {}),
            selfEdit: prep.selfEdit ?? null,
            trainSequences: prep.texts?.length ?? 0,
            trainTokens: this.tokens(prep.texts ?? []),
            answers,
            verdicts,
            accuracy: passageAccuracy(verdicts),
            seconds,
          });
        }
      });
      done += chunkPassages;
      this.ui.evalProgress?.(label, done, total);
    }
    return this.result(c);
  }

  /** A condition's result from the log (all its units must be done). */
  result(c: KnowledgeCondition): ConditionResult {
    const label = formatCondition(c);
    const perSeed: number[] = [];
    const baseline: number[] = [];
    let tokens = 0;
    let units = 0;
    for (let s = 0; s < this.config.evalSeeds; s++) {
      if (c.kind === 'cpt') {
        const r = knowledgeEvaluation(this.run.get(`eval/${label}/s${s}`, 'evaluation'));
        if (!r) throw new Error(`condition ${label} is not finished (seed ${s})`);
        perSeed.push(r.accuracy);
        if ('baselineAccuracy' in r && r.baselineAccuracy !== undefined) baseline.push(r.baselineAccuracy);
        tokens += r.trainTokens;
        units++;
        continue;
      }
      const accuracies = this.config.evalPassages.map((_, i) => {
        const r = knowledgeEvaluation(this.run.get(`eval/${label}/s${s}/p${i}`, 'evaluation'));
        if (!r) throw new Error(`condition ${label} is not finished (seed ${s}, passage ${i})`);
        tokens += r.trainTokens;
        units++;
        return r.accuracy;
      });
      perSeed.push(meanStd(accuracies).mean);
    }
    return { label, condition: c, perSeed, trainTokens: tokens / Math.max(1, units), ...(baseline.length ? { baseline } : {}) };
  }

  /** The training texts a condition uses for one passage, and the self-edit behind them. */
  async trainingTexts(condition: PassageCondition, seed: number, index: number): Promise<{ texts: string[] | null; selfEdit?: string }> {
    const c: IndexedPassage = { index, passage: this.config.evalPassages[index] };
    switch (condition.kind) {
      case 'base':
        return { texts: null };
      case 'passage':
        return { texts: [this.domain.format.passageSequence(c.passage)] };
      case 'self-edits': {
        const selfEdit = this.storedSelfEdit(condition.name, index);
        return { texts: this.domain.sequences(c, selfEdit), selfEdit };
      }
      case 'round': {
        const selfEdit = await this.policySelfEdit(condition.round, seed, index);
        return { texts: this.domain.sequences(c, selfEdit), selfEdit };
      }
      case 'repeated': {
        // The passage alone, repeated until it has as many tokens as the other condition's training texts.
        const other = await this.trainingTexts(condition.of, seed, index);
        const passage = this.domain.format.passageSequence(c.passage);
        const target = this.tokens(other.texts ?? []);
        const copies = Math.max(1, Math.round(target / this.tokens([passage])));
        return { texts: new Array(copies).fill(passage) };
      }
    }
  }

  /**
   * Continued pretraining (cpt.ts, mode v1 or v2 as SEAL ran it): one update on every evaluation passage's
   * completions from `source` (a self-edit file's non-empty completions, of which cptCorpus takes k as the
   * mode does, or k samples of the round's policy; none for other conditions, i.e. the passages alone).
   */
  private async continuedPretraining(source: KnowledgeCondition, seed: number): Promise<Record<string, JsonValue>> {
    const recipe = CPT_RECIPES[this.config.cpt ?? 'v1'];
    const passages = this.config.evalPassages;
    const k = recipe.completions;
    let completions: string[][] = passages.map(() => []);
    if (source.kind === 'self-edits') completions = passages.map((_, i) => this.storedSelfEdits(source.name, i));
    else if (source.kind === 'round') {
      const requests = passages.flatMap((_, i) =>
        Array.from({ length: k }, (_, j) => ({
          prompt: this.domain.prompt({ index: i, passage: passages[i] }),
          seed: unitSeed(this.config.restEm.seed, 'cpt', formatCondition(source), seed, i, j),
        })),
      );
      const texts = await this.policy.sample(requests, this.config.restEm.sampling);
      completions = passages.map((_, i) => texts.slice(i * k, (i + 1) * k).filter((t) => pyStrip(t) !== ''));
    }
    const r = await continuedPretraining(this.policy, this.domain, passages, completions, recipe, unitSeed(this.config.restEm.seed, 'cpt', seed));
    return { condition: formatCondition({ kind: 'cpt', of: source }), mode: this.config.cpt ?? 'v1', seed, ...(r as unknown as Record<string, JsonValue>) };
  }

  /**
   * The self-edits the round-r policy writes for evaluation passages under seed `seed`, for a condition
   * that needs them (round-r, or one built on it): sampled together, each from its own seed, logged once.
   */
  private async sampleSelfEdits(r: number, seed: number, indices: number[]): Promise<void> {
    const round = formatCondition({ kind: 'round', round: r });
    const missing = indices.filter((i) => !this.run.has(`eval-self-edit/${round}/s${seed}/p${i}`));
    if (missing.length === 0) return;
    const current = this.currentRound();
    if (r !== current) throw new Error(`${round} needs the round-${r} policy, but the policy in memory is round ${current}'s`);
    traceUnitStart(missing.map((i) => `eval-self-edit/${round}/s${seed}/p${i}`));
    const requests = missing.map((i) => ({
      prompt: this.domain.prompt({ index: i, passage: this.config.evalPassages[i] }),
      seed: unitSeed(this.config.restEm.seed, round, seed, i),
    }));
    const texts = await this.policy.sample(requests, this.config.restEm.sampling);
    missing.forEach((i, k) =>
      this.run.log({ kind: 'eval-self-edit', key: `eval-self-edit/${round}/s${seed}/p${i}`, condition: round, seed, passage: i, text: texts[k] }),
    );
  }

  /** The self-edit the round-r policy wrote for evaluation passage `index` under seed `seed`. */
  private async policySelfEdit(round: number, seed: number, index: number): Promise<string> {
    await this.sampleSelfEdits(round, seed, [index]);
    return this.run.get(`eval-self-edit/round-${round}/s${seed}/p${index}`, 'eval-self-edit')!.text;
  }

  private currentRound(): number {
    let r = 0;
    while (this.run.has(`r${r + 1}/m-step`)) r++;
    return r;
  }

  /** The non-empty completions a self-edit file stores for evaluation passage `index`, in file order (CPT's k are picked from them). */
  private storedSelfEdits(name: string, index: number): string[] {
    this.storedSelfEdit(name, index);
    const p = this.config.evalPassages[index];
    const entry = this.config.selfEditFiles[name].find((e) => e.title === p.title && e.context === p.context) ?? this.config.selfEditFiles[name][index];
    return entry.completions.filter((c) => pyStrip(c) !== '');
  }

  private storedSelfEdit(name: string, index: number): string {
    const file = this.config.selfEditFiles[name];
    if (!file) throw new Error(`condition self-edits:${name}: no self-edit file was given under that name`);
    const p = this.config.evalPassages[index];
    const entry = file.find((e) => e.title === p.title && e.context === p.context) ?? file[index];
    if (!entry || entry.context !== p.context) throw new Error(`self-edit file "${name}" has no entry for evaluation passage ${index} ("${p.title}")`);
    const text = entry.completions.find((c) => c.trim() !== '');
    if (text === undefined) throw new Error(`self-edit file "${name}": passage ${index} ("${p.title}") has no non-empty completion`);
    return text;
  }

  private tokens(texts: string[]): number {
    return texts.reduce((n, t) => n + this.policy.tokenizer.encode(t).length + 1, 0);
  }
}
