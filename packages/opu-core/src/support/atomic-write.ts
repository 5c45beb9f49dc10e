import { randomBytes } from 'node:crypto';
import { open, readdir, rename, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { StorageError } from './errors.js';

/** Whatever `fs.promises.writeFile` accepts: bytes, a string, an (async) iterable of chunks or a stream. */
export type AtomicWriteData = Parameters<typeof writeFile>[1];

/**
 * Replaces the file at `path` with `data` so that a reader, or the next boot after a crash, sees either the old file
 * or the complete new one, never a mix. The data goes to a temporary file in the same directory (a rename is atomic
 * only within one file system), is flushed to disk, and is renamed over `path`; then the directory is flushed so the
 * rename itself survives a power loss. If anything fails before the rename, the temporary file is removed and the
 * file at `path` is untouched.
 *
 * Every file the SDK writes goes through here. A failure of the file system (a full disk, no permission) becomes a
 * `StorageError` naming the path and the space left; any other error (one thrown by a generator of `data`) passes
 * through unchanged. A writer killed mid-write leaves its temporary file behind: the name carries the writer's
 * process id, and the next write to the same path removes those of writers that are no longer running.
 */
export async function writeFileAtomic(path: string, data: AtomicWriteData): Promise<void> {
  const directory = dirname(path);
  await removeStaleTemporaries(path);
  const temporary = join(directory, `${temporaryPrefix(path)}${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeDurably(temporary, data);
    await rename(temporary, path);
  } catch (error) {
    // The write's error is the one worth reporting; a failed cleanup must not replace it.
    await rm(temporary, { force: true }).catch(() => undefined);
    throw await asStorageError(error, path, data, 'unchanged');
  }
  try {
    await syncDirectory(directory);
  } catch (error) {
    throw await asStorageError(error, path, data, 'replaced');
  }
}

/** Temporary files of `path` are `.<name>.<pid>.<12 hex digits>.tmp` beside it. */
const temporaryPrefix = (path: string) => `.${basename(path)}.`;
const TEMPORARY_TAIL = /^(\d+)\.[0-9a-f]{12}\.tmp$/;
/**
 * Names that earlier versions of the SDK left: `.<name>.<12 hex digits>.tmp` (the writer's pid unknown) and
 * checkpoints' `<name>.<pid>.tmp`. A pid-less one counts as abandoned once it has not changed for an hour.
 */
const LEGACY_TAIL = /^[0-9a-f]{12}\.tmp$/;
const LEGACY_CHECKPOINT_TAIL = /^(\d+)\.tmp$/;
const LEGACY_ABANDONED_MS = 3600_000;

/**
 * Removes the temporary files that earlier writes to `path` left behind when their process died. Files of a live
 * process are a concurrent write in progress and stay; so do those of other paths in the directory.
 */
async function removeStaleTemporaries(path: string): Promise<void> {
  const directory = dirname(path);
  const prefix = temporaryPrefix(path);
  const legacyPrefix = `${basename(path)}.`;
  // A directory that cannot be listed makes the write itself fail, with a better message than this would.
  const names = await readdir(directory).catch(() => [] as string[]);
  for (const name of names) {
    let writer: RegExpExecArray | null = null;
    let legacy = false;
    if (name.startsWith(prefix)) {
      writer = TEMPORARY_TAIL.exec(name.slice(prefix.length));
      legacy = LEGACY_TAIL.test(name.slice(prefix.length));
    } else if (name.startsWith(legacyPrefix)) writer = LEGACY_CHECKPOINT_TAIL.exec(name.slice(legacyPrefix.length));
    const stale = writer ? !isRunning(Number(writer[1])) : legacy && (await unchangedFor(join(directory, name)));
    // Another process cleaning up the same file at the same time is no reason to fail this write.
    if (stale) await rm(join(directory, name), { force: true }).catch(() => undefined);
  }
}

async function unchangedFor(path: string, ms = LEGACY_ABANDONED_MS): Promise<boolean> {
  return stat(path).then(
    (s) => Date.now() - s.mtimeMs > ms,
    () => false,
  );
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
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

/**
 * A file-system error of the write to `path` as a `StorageError` that names the path, the free space and what to do;
 * `outcome` says whether the file at `path` is as it was or already the new one. Other errors are returned as they are.
 */
async function asStorageError(
  error: unknown,
  path: string,
  data: AtomicWriteData,
  outcome: 'unchanged' | 'replaced',
): Promise<unknown> {
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof (error as NodeJS.ErrnoException).syscall !== 'string' || code === undefined) return error;
  const freeBytes = await statfs(dirname(path)).then(
    (s) => s.bavail * s.bsize,
    () => undefined,
  );
  const free = freeBytes === undefined ? '' : `; ${formatBytes(freeBytes)} free on its file system`;
  const details = { field: path, code, cause: error, ...(freeBytes === undefined ? {} : { freeBytes }) };
  const reason = (error as Error).message;
  if (outcome === 'replaced') {
    return new StorageError(`was written, but its directory could not be flushed (${reason})${free}`, {
      ...details,
      fix: 'check the disk: the new file may not survive a power loss',
    });
  }
  const neededBytes = byteLength(data);
  const needs = neededBytes === undefined ? '' : `, the new file needs ${formatBytes(neededBytes)}`;
  return new StorageError(`cannot be written (${reason})${free}${needs}`, { ...details, fix: storageFix(code) });
}

function storageFix(code: string): string {
  const unchanged = 'nothing at this path was changed';
  if (code === 'ENOSPC' || code === 'EDQUOT') return `free space on that disk or write elsewhere; ${unchanged}`;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return `make the directory writable or write elsewhere; ${unchanged}`;
  }
  if (code === 'ENOENT' || code === 'ENOTDIR') return `create the directory or write elsewhere; ${unchanged}`;
  return `check the disk and try again; ${unchanged}`;
}

/** Bytes of `data` when known before writing (bytes, text, or an array of them); undefined for streams. */
function byteLength(data: AtomicWriteData): number | undefined {
  const one = (chunk: unknown) =>
    typeof chunk === 'string' ? Buffer.byteLength(chunk) : ArrayBuffer.isView(chunk) ? chunk.byteLength : undefined;
  if (!Array.isArray(data)) return one(data);
  const sizes = data.map(one);
  return sizes.includes(undefined) ? undefined : sizes.reduce((a, b) => a! + b!, 0);
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${Number((bytes / 1024).toFixed(1))} KiB`;
  return `${Number((bytes / 1024 ** 2).toFixed(2))} MiB`;
}
