// Files appear under their real name only once complete: written to `path + '.tmp'`, synced, then renamed
// (rename within a folder is atomic), so a crash or an error never leaves a half-written file behind.
import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Runs `write` on a fresh `path.tmp`, then syncs and renames it to `path`; on error removes the temp file. */
export async function atomically(path: string, write: (out: FileHandle) => Promise<void>): Promise<void> {
  const tmp = `${path}.tmp`;
  await mkdir(dirname(path), { recursive: true });
  const out = await open(tmp, 'w');
  try {
    await write(out);
    await out.sync();
    await out.close();
    await rename(tmp, path);
  } catch (e) {
    await out.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
}

export async function writeFileAtomically(path: string, data: string | Uint8Array): Promise<void> {
  await atomically(path, async (out) => {
    await out.writeFile(data);
  });
}
