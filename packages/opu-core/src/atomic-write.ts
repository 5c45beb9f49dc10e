import { randomBytes } from 'node:crypto';
import { open, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Whatever `fs.promises.writeFile` accepts: bytes, a string, an (async) iterable of chunks or a stream. */
export type AtomicWriteData = Parameters<typeof writeFile>[1];

/**
 * Replaces the file at `path` with `data` so that a reader, or the next boot after a crash, sees either the old file
 * or the complete new one, never a mix. The data goes to a temporary file in the same directory (a rename is atomic
 * only within one file system), is flushed to disk, and is renamed over `path`; then the directory is flushed so the
 * rename itself survives a power loss. If anything fails before the rename, the temporary file is removed and the
 * file at `path` is untouched.
 */
export async function writeFileAtomic(path: string, data: AtomicWriteData): Promise<void> {
  const directory = dirname(path);
  const temporary = join(directory, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeDurably(temporary, data);
    await rename(temporary, path);
  } catch (error) {
    // The write's error is the one worth reporting; a failed cleanup must not replace it.
    await rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
  await syncDirectory(directory);
}

async function writeDurably(path: string, data: AtomicWriteData): Promise<void> {
  // 'wx' fails rather than share a temporary name with a concurrent writer.
  const file = await open(path, 'wx');
  try {
    await writeFile(file, data);
    await file.sync();
  } finally {
    await file.close();
  }
}

/** Codes of file systems that cannot flush a directory (some network and FUSE mounts): the rename still happened. */
const UNSYNCABLE_DIRECTORY = new Set(['EINVAL', 'EPERM', 'ENOTSUP', 'EISDIR']);

async function syncDirectory(directory: string): Promise<void> {
  // Windows cannot open a directory for flushing; its file systems journal the rename instead.
  if (process.platform === 'win32') return;
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } catch (error) {
    if (!UNSYNCABLE_DIRECTORY.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
  } finally {
    await handle.close();
  }
}
