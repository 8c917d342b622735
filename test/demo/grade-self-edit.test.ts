import { describe, expect, it } from 'vitest';
import { gradeSelfEdit, summariseGrades } from '../../src/demo/grade-self-edit.ts';
import { implicationsCompletion } from '../../src/demo/prompts.ts';
import { allRestatements, generateWorld, pronounStatement, restatement } from '../../src/demo/world.ts';

const world = generateWorld({ seed: 2 });
const person = world.eval[0];
const other = world.eval[1];

describe('self-edit grading', () => {
  it('scores perfect implications as fully correct and covering every attribute', () => {
    const g = gradeSelfEdit(world, person, implicationsCompletion(allRestatements(person)));
    expect(g.lines).toBe(15);
    expect(g.factLines).toBe(15);
    expect(g.correctLines).toBe(15);
    expect(g.namedCorrectLines).toBe(15);
    expect(g.coveredAttributes).toHaveLength(5);
  });

  it('counts a pronoun line as correct but not as named', () => {
    const line = pronounStatement(person, 'city', 0);
    expect(line.startsWith(person.pronoun)).toBe(true);
    const g = gradeSelfEdit(world, person, line);
    expect(g).toMatchObject({ factLines: 1, correctLines: 1, namedCorrectLines: 0, namedLines: 0 });
    expect(summariseGrades([g]).namedPrecision).toBe(0);
  });

  it('calls a self-edit named when most of its fact lines name the person', () => {
    const named = [restatement(person, 'city', 0), restatement(person, 'year', 1), pronounStatement(person, 'major', 0)].join('\n');
    const pronoun = [restatement(person, 'city', 0), pronounStatement(person, 'year', 1), pronounStatement(person, 'major', 0)].join('\n');
    const s = summariseGrades([gradeSelfEdit(world, person, named), gradeSelfEdit(world, person, pronoun)]);
    expect(s.namedSelfEdits).toBe(0.5);
  });

  it('separates wrong values, wrong names and lines without a fact', () => {
    const otherMajor = world.values.major.find((m) => m !== person.values.major)!;
    const wrongValue = restatement({ ...person, values: { ...person.values, major: otherMajor } }, 'major', 0);
    const wrongName = restatement({ ...other, values: person.values }, 'city', 1);
    const right = restatement(person, 'employer', 2);
    const noFact = `The major of ${person.name} was .`;
    const g = gradeSelfEdit(world, person, [wrongValue, wrongName, right, noFact].join('\n'));
    expect(g).toMatchObject({ lines: 4, factLines: 3, correctLines: 1, namedCorrectLines: 1, namedLines: 2, rightValueLines: 2 });
    expect(g.coveredAttributes).toEqual(['employer']);
    const s = summariseGrades([g, gradeSelfEdit(world, person, right)]);
    expect(s.precision).toBeCloseTo(2 / 4);
    expect(s.coverage).toBeCloseTo((1 / 5 + 1 / 5) / 2);
    expect(s.meanLines).toBe(2.5);
  });

  it('needs first and last name next to each other', () => {
    const line = `The employer of ${person.first} ${other.last} is ${person.values.employer} .`;
    const g = gradeSelfEdit(world, person, line);
    expect(g.namedLines).toBe(person.last === other.last ? 1 : 0);
  });
});
