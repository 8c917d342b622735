// The content hash of a model folder: what a worker on another machine checks before it trusts that the
// folder it sees at a path is the coordinator's policy. Covers every file a model or tokenizer is read
// from (*.safetensors, *.json, *.jinja); remembered per folder until a file's size or mtime changes.
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

const MODEL_FILE = /\.(safetensors|json|jinja)$/;
const known = new Map<string, { stamp: string; hash: string }>();

export async function modelHash(dir: string): Promise<string> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => MODEL_FILE.test(n)).sort();
  } catch (e) {
    throw new Error(
      `model folder ${dir} cannot be read (${(e as Error).message}); every worker must see the policy folder at this path (a shared directory), or map it with --path-map`,
    );
  }
  if (!names.includes('config.json')) throw new Error(`${dir} has no config.json: it is not a Hugging Face model folder`);
  const stats = await Promise.all(names.map((n) => stat(join(dir, n))));
  const stamp = names.map((n, i) => `${n}:${stats[i].size}:${stats[i].mtimeMs}`).join('|');
  const cached = known.get(dir);
  if (cached?.stamp === stamp) return cached.hash;
  const hash = createHash('sha256');
  // Each file as its name and length, then its bytes: no two folders give the same stream.
  for (const [i, name] of names.entries()) {
    hash.update(`${name}\0${stats[i].size}\0`);
    for await (const chunk of createReadStream(join(dir, name))) hash.update(chunk as Buffer);
  }
  const digest = hash.digest('hex');
  known.set(dir, { stamp, hash: digest });
  return digest;
}
