// One open safetensors file: its validated header and a file handle for reading tensor bytes on demand.
// Nothing but the header is read at open time, so opening a multi-gigabyte checkpoint is instant.
import { type FileHandle, open } from 'node:fs/promises';
import { type Header, type HeaderOptions, SafetensorsError, headerLength, parseHeader } from './safetensors-header.ts';

export class SafetensorsFile {
  private handle: FileHandle | null;

  private constructor(
    readonly path: string,
    readonly header: Header,
    handle: FileHandle,
  ) {
    this.handle = handle;
  }

  static async open(path: string, options: HeaderOptions = {}): Promise<SafetensorsFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (e) {
      throw new SafetensorsError(`${path}: cannot open the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
    }
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw new SafetensorsError(`${path}: not a regular file.`);
      const size = stats.size;
      const prefix = await readExactly(handle, path, 0, new Uint8Array(Math.min(8, size)));
      const n = headerLength(path, prefix, size);
      const json = await readExactly(handle, path, 8, new Uint8Array(n));
      return new SafetensorsFile(path, parseHeader(path, json, size, options), handle);
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  /** Fills `into` with the bytes at `position` (absolute file offset). */
  async read(position: number, into: Uint8Array): Promise<Uint8Array> {
    if (!this.handle) throw new SafetensorsError(`${this.path}: read after close().`);
    return readExactly(this.handle, this.path, position, into);
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    await h?.close();
  }
}

/** fs reads may return fewer bytes than asked; loop, and treat an early end of file as truncation. */
async function readExactly(handle: FileHandle, path: string, position: number, into: Uint8Array): Promise<Uint8Array> {
  let done = 0;
  while (done < into.byteLength) {
    const { bytesRead } = await handle.read(into, done, into.byteLength - done, position + done);
    if (bytesRead === 0) {
      throw new SafetensorsError(
        `${path}: the file ended at byte ${position + done} while reading ${into.byteLength} bytes at ${position}; ` +
          `it was truncated or changed after it was opened.`,
      );
    }
    done += bytesRead;
  }
  return into;
}
