// Files appear under their real name only once complete: written to a temporary file beside them, synced,
// then renamed (rename within a folder is atomic), so a crash or an error never leaves a half-written file
// behind, and readers see the old file or the new one. One protocol for every writer of the project: the
// streaming one (safetensors), and the synchronous one (a SEAL run directory's small JSON files).
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Per process, so that two processes saving the same file never write into one temporary file. */
export function temporaryPath(path: string): string {
  return `${path}.tmp-${process.pid}`;
}

/** Runs `write` on a fresh temporary file, then syncs and renames it to `path`; on error removes the temporary file. */
export async function atomically(path: string, write: (out: FileHandle) => Promise<void>): Promise<void> {
  const tmp = temporaryPath(path);
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

/** writeFileAtomically for synchronous callers. */
export function writeFileAtomicallySync(path: string, data: string | Uint8Array): void {
  const tmp = temporaryPath(path);
  mkdirSync(dirname(path), { recursive: true });
  let fd: number | null = openSync(tmp, 'w');
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== null) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
}
