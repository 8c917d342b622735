// The demo's and pretraining's own command lines: declared flags, parsed once, bad values named.
import { describe, expect, it } from 'vitest';
import { DEMO, demoCommand } from '../../src/demo/demo.ts';
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

describe('npm run pretrain-tiny -- flags', () => {
  it("defaults to the recipe's steps", () => {
    expect(parseFlags(pretrainCommand, [])).toMatchObject({ steps: TINY_RECIPE.steps });
  });
  it('refuses a step count below 1', () => {
    expect(() => parseFlags(pretrainCommand, ['--train-on', '-3'])).toThrow(/--train-on must be ≥ 1, got -3/);
  });
});
