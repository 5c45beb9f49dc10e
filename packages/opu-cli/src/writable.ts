import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { StorageError } from 'opu-core';

/**
 * Checks, before any work, that a file can be written at `path`: its directory exists, is a directory and is
 * writable, and the path is not itself a directory. A command would otherwise measure for minutes and fail at the
 * end with a raw ENOENT on its temporary file. Throws a StorageError (exit 4, as when the write itself fails).
 */
export function checkWritable(path: string, flag: string): void {
  const dir = dirname(resolve(path));
  const fail = (code: string, problem: string, fix: string): never => {
    throw new StorageError(`cannot be written (${code}: ${problem})`, { field: path, code, fix });
  };
  const kind = statSync(dir, { throwIfNoEntry: false });
  if (!kind)
    fail('ENOENT', `the directory ${dir} does not exist`, `create it (mkdir -p ${dir}) or give another ${flag}`);
  if (!kind!.isDirectory()) fail('ENOTDIR', `${dir} is not a directory`, `give another ${flag}`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    fail('EACCES', `the directory ${dir} is not writable`, `give another ${flag}, or make ${dir} writable`);
  }
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) {
    fail('EISDIR', 'it is a directory', `give ${flag} the name of a file, e.g. in ${path}`);
  }
}
