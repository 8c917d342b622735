// The layer order of src/ (README, "A short tour"), checked on every import: a module may import its own
// layer and the layers below it, never one above.
//
//   util, gpu → tensor → io → model → train → seal → demo → cli
//
// util (generators, progress, plots) and gpu (the device) import nothing of ours; io reads and writes
// tensors, so it sits above tensor. The demo (the tiny world, its recipe) is an application of seal; the
// cli is the outermost edge and may drive any of them (`seal knowledge continual --world` runs on the demo's
// world), while nothing below it ever imports a command.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '..', '..', 'src');
export const LAYERS: Record<string, number> = { util: 0, gpu: 0, tensor: 1, io: 2, model: 3, train: 4, seal: 5, demo: 6, cli: 7 };

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every module specifier a file imports or re-exports, static or dynamic (comments stripped first). */
export function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const specs: string[] = [];
  for (const m of code.matchAll(/\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g)) specs.push(m[1]);
  for (const m of code.matchAll(/\bimport\s*['"]([^'"]+)['"]/g)) specs.push(m[1]);
  for (const m of code.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1]);
  return specs;
}

const layerOf = (file: string): string => relative(SRC, file).split(sep)[0];

describe('the layers of src/', () => {
  const files = sources(SRC);

  it('are known for every top-level folder', () => {
    const unknown = [...new Set(files.map(layerOf))].filter((l) => !(l in LAYERS));
    expect(unknown, `folders of src/ with no place in LAYERS (give them one here and in the README): ${unknown.join(', ')}`).toEqual([]);
  });

  it('finds the imports it checks', () => {
    expect(
      importsOf(
        "import { a } from '../x.ts';\nimport type {\n  B,\n} from './y.ts';\nexport { c } from \"../z.ts\";\nawait import('../w.ts');\n// import { d } from '../no.ts'\nimport './side.ts';",
      ),
    ).toEqual(['../x.ts', './y.ts', '../z.ts', './side.ts', '../w.ts']);
  });

  it('import only their own layer and those below it', () => {
    const upward: string[] = [];
    for (const file of files) {
      const from = layerOf(file);
      for (const spec of importsOf(readFileSync(file, 'utf8'))) {
        if (!spec.startsWith('.')) continue; // node: and packages
        const target = resolve(dirname(file), spec);
        const to = layerOf(target);
        if (target.startsWith(SRC + sep) && LAYERS[to] > LAYERS[from]) {
          upward.push(`src/${relative(SRC, file)} imports '${spec}' (${from} must not import ${to}, a higher layer)`);
        }
        if (!target.startsWith(SRC + sep)) upward.push(`src/${relative(SRC, file)} imports '${spec}', outside src/`);
      }
    }
    expect(upward, upward.join('\n')).toEqual([]);
  });
});
