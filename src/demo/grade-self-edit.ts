// How correct a self-edit is, measured against the world (the demo's "fraction of facts in the model's
// self-edits that are correct" control, and the copy gauge of notes/tiny-world.md).
//
// A line states a fact when it holds exactly one value token (of any attribute). The fact is correct when that
// value is the person's value for its attribute and the line is about the person: it names them ("First
// Last") or starts with their pronoun, as the passage does. Named correct lines are counted apart: only they
// are self-contained, which is what makes them useful when several people are learnt at once. A line with
// no value or several values states no fact (it still costs training tokens).
import { parseImplications } from './prompts.ts';
import { ATTRIBUTES, type AttributeKey } from './world-schema.ts';
import type { Person, World } from './world.ts';

export interface SelfEditGrade {
  lines: number;
  /** Lines stating exactly one fact. */
  factLines: number;
  /** Fact lines with the person's value, naming the person or starting with their pronoun. */
  correctLines: number;
  /** Correct lines that name the person (self-contained). */
  namedCorrectLines: number;
  /** Fact lines with the person's full name (whatever the value). */
  namedLines: number;
  /** Fact lines whose value is the person's value for that attribute (whatever the name). */
  rightValueLines: number;
  /** Attributes stated correctly at least once. */
  coveredAttributes: AttributeKey[];
}

/** value token → attribute, for the world's pools (which are disjoint). */
export function valueIndex(world: World): Map<string, AttributeKey> {
  const index = new Map<string, AttributeKey>();
  for (const a of ATTRIBUTES) for (const v of world.values[a.key]) index.set(v, a.key);
  return index;
}

export function gradeSelfEdit(world: World, person: Person, completion: string, index = valueIndex(world)): SelfEditGrade {
  const lines = parseImplications(completion);
  const grade: SelfEditGrade = {
    lines: lines.length,
    factLines: 0,
    correctLines: 0,
    namedCorrectLines: 0,
    namedLines: 0,
    rightValueLines: 0,
    coveredAttributes: [],
  };
  const covered = new Set<AttributeKey>();
  for (const line of lines) {
    const words = line.split(' ');
    const values = words.filter((w) => index.has(w));
    if (values.length !== 1) continue;
    grade.factLines++;
    const attribute = index.get(values[0])!;
    const named = words.some((w, i) => w === person.first && words[i + 1] === person.last);
    const rightValue = person.values[attribute] === values[0];
    if (named) grade.namedLines++;
    if (rightValue) grade.rightValueLines++;
    const aboutPerson = named || words[0] === person.pronoun;
    if (aboutPerson && rightValue) {
      grade.correctLines++;
      covered.add(attribute);
      if (named) grade.namedCorrectLines++;
    }
  }
  grade.coveredAttributes = ATTRIBUTES.map((a) => a.key).filter((k) => covered.has(k));
  return grade;
}

export interface SelfEditSummary {
  selfEdits: number;
  meanLines: number;
  /** Correct fact lines / fact lines, pooled over self-edits. */
  precision: number;
  /** Mean fraction of the person's attributes stated correctly at least once. */
  coverage: number;
  /** Named correct lines / fact lines: the self-contained share. */
  namedPrecision: number;
  /** Self-edits written in the named style (most of their fact lines name the person): what ReST-EM selects for. */
  namedSelfEdits: number;
  nameCopyRate: number;
  valueCopyRate: number;
}

export function summariseGrades(grades: readonly SelfEditGrade[]): SelfEditSummary {
  const sum = (f: (g: SelfEditGrade) => number) => grades.reduce((n, g) => n + f(g), 0);
  const facts = Math.max(
    1,
    sum((g) => g.factLines),
  );
  return {
    selfEdits: grades.length,
    meanLines: grades.length ? sum((g) => g.lines) / grades.length : 0,
    precision: sum((g) => g.correctLines) / facts,
    coverage: grades.length ? sum((g) => g.coveredAttributes.length / ATTRIBUTES.length) / grades.length : 0,
    namedPrecision: sum((g) => g.namedCorrectLines) / facts,
    namedSelfEdits: grades.length ? grades.filter(isNamed).length / grades.length : 0,
    nameCopyRate: sum((g) => g.namedLines) / facts,
    valueCopyRate: sum((g) => g.rightValueLines) / facts,
  };
}

/** A self-edit in the named style: more than half of its fact lines name the person. */
export function isNamed(g: SelfEditGrade): boolean {
  return g.namedLines > g.factLines / 2;
}
