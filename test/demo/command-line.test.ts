// The demo's and pretraining's own command lines: declared flags, parsed once, bad values named; a leading
// `arc` picks the ARC demo's.
import { describe, expect, it } from 'vitest';
import { ARC_DEMO, arcDemoCommand } from '../../src/demo/arc-demo.ts';
import { DEMO, demoCommand, demoCommandFor } from '../../src/demo/demo.ts';
import { TINY_RECIPE, pretrainCommand } from '../../src/demo/pretrain.ts';
import { UsageError, helpText, parseFlags } from '../../src/util/flags.ts';

describe('npm run demo -- flags', () => {
  it("defaults to the demo's configuration", () => {
    const f = parseFlags(demoCommand, []);
    expect(f).toMatchObject({ evalPeople: DEMO.evalPeople, rounds: DEMO.rounds, evalSeeds: DEMO.evalSeeds, innerEpochs: DEMO.inner.epochs });
    expect(f.model).toBeUndefined(); // the run falls back to weights/seal-tiny
  });

  it('takes numbers as numbers', () => {
    expect(parseFlags(demoCommand, ['--eval-people', '8', '--rounds=0', '--run', 'runs/x'])).toMatchObject({ evalPeople: 8, rounds: 0, run: 'runs/x' });
  });

  it.each([
    [['--eval-people', 'abc'], /npm run demo --: --eval-people takes a number, got "abc"/],
    [['--eval-people', '0'], /--eval-people must be ≥ 1, got 0/],
    [['--evalpeople', '3'], /unknown flag --evalpeople/],
    [['--inner-epochs', '2.5'], /--inner-epochs takes an integer/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseFlags(demoCommand, argv)).toThrow(UsageError);
    expect(() => parseFlags(demoCommand, argv)).toThrow(message);
  });

  it('says how to run it in its help', () => {
    expect(helpText(demoCommand)).toMatch(/Usage: npm run demo/);
  });
});

describe('npm run demo -- arc flags', () => {
  it('a leading arc picks the ARC demo; anything else is the knowledge demo', () => {
    expect(demoCommandFor(['arc', '--help'])).toEqual({ command: arcDemoCommand, argv: ['--help'] });
    expect(demoCommandFor(['--rounds', '1'])).toEqual({ command: demoCommand, argv: ['--rounds', '1'] });
    expect(helpText(demoCommand)).toContain('npm run demo -- arc');
  });

  it("defaults to ARC_DEMO's configuration", () => {
    const f = parseFlags(arcDemoCommand, []);
    expect(f).toMatchObject({
      worldSeed: ARC_DEMO.world.seed,
      split: 'model',
      trainTasks: ARC_DEMO.world.trainTasks,
      evalTasks: ARC_DEMO.world.evalTasks,
      rounds: ARC_DEMO.rounds,
      selfEdits: ARC_DEMO.evalSelfEdits,
      seeds: ARC_DEMO.evalSeeds,
      oracleLr: ARC_DEMO.oracle.learningRate,
      oracleEpochs: ARC_DEMO.oracle.epochs,
    });
    expect(f.model).toBeUndefined(); // the run falls back to weights/seal-tiny-arc
    expect(f.best).toBeUndefined(); // the placeholder table
    expect(ARC_DEMO.evalSeeds).toBeGreaterThanOrEqual(3);
  });

  it('lists its flags in its help', () => {
    const help = helpText(arcDemoCommand);
    expect(help).toMatch(/Usage: npm run demo -- arc/);
    for (const flag of ['--model', '--run', '--world-seed', '--train-tasks', '--eval-tasks', '--rounds', '--self-edits', '--seeds', '--oracle-lr', '--best']) {
      expect(help).toContain(flag);
    }
  });

  it.each([
    [['--rounds', '3'], /npm run demo -- arc: --rounds must be ≥ 1 and ≤ 2, got 3/],
    [['--rounds', '0'], /--rounds must be ≥ 1 and ≤ 2, got 0/],
    [['--seeds', '1'], /--seeds must be ≥ 2, got 1/],
    [['--self-edits', 'five'], /--self-edits takes a number, got "five"/],
    [['--split', 'random'], /--split must be one of model, held-out, iid, got "random"/],
    [['--oracle-epochs', '0'], /--oracle-epochs must be > 0, got 0/],
    [['--eval-people', '3'], /unknown flag --eval-people/],
    [['arc'], /unexpected argument "arc"/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseFlags(arcDemoCommand, argv)).toThrow(UsageError);
    expect(() => parseFlags(arcDemoCommand, argv)).toThrow(message);
  });
});

describe('npm run pretrain-tiny -- flags', () => {
  it("defaults to the recipe's steps", () => {
    expect(parseFlags(pretrainCommand, [])).toMatchObject({ steps: TINY_RECIPE.steps });
  });
  it('refuses a step count below 1', () => {
    expect(() => parseFlags(pretrainCommand, ['--train-on', '-3'])).toThrow(/--train-on must be ≥ 1, got -3/);
  });
});
