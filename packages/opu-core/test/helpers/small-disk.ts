/**
 * A real, small file system for disk-full tests: a tmpfs mounted on a fresh directory, and a filler file that leaves
 * as little room as a test asks for. Writes then fail the way they do on a full disk (ENOSPC, short writes), not the
 * way a mock imagines. Mounting needs root (as in CI and the dev container); a test that cannot mount fails and says
 * why, because a silently skipped disk-full test would hide exactly the bugs it is there to catch.
 */
import { execFileSync } from 'node:child_process';
import { rmdirSync } from 'node:fs';
import { mkdtemp, readdir, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** The filler's name: tests that list the directory see it, so it says what it is. */
export const FILLER = 'filler';

export interface SmallDisk {
  /** Where the tmpfs is mounted. */
  readonly dir: string;
  /** Bytes free to this user now, as statfs reports them. */
  freeBytes(): Promise<number>;
  /**
   * Resizes the filler so that `bytes`, rounded up to whole blocks (4 KiB pages on tmpfs), stay free; returns the
   * bytes free afterwards. `Infinity` removes the filler.
   */
  leaveFree(bytes: number): Promise<number>;
  /** Unmounts and removes the mount point; call it in `finally` or `afterAll`. */
  unmount(): void;
}

/** Mounts a tmpfs of `sizeBytes` (rounded up to pages by the kernel) on a fresh directory under the system tmpdir. */
export async function mountSmallDisk(sizeBytes: number): Promise<SmallDisk> {
  const dir = await mkdtemp(join(tmpdir(), 'opu-small-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    const why = (error as { stderr?: Buffer }).stderr?.toString().trim() || (error as Error).message;
    throw new Error(
      `cannot mount a ${sizeBytes}-byte tmpfs on ${dir} (${why}). The disk-full tests need a real small disk: ` +
        'run them as root on Linux (mount -t tmpfs must work), as CI and the dev container do',
    );
  }
  const space = async () => {
    const s = await statfs(dir);
    return { free: s.bavail * s.bsize, block: s.bsize };
  };
  // the filler's size, so that resizing it counts its own blocks as free
  let filled = 0;
  return {
    dir,
    freeBytes: async () => (await space()).free,
    async leaveFree(bytes) {
      if (bytes === Number.POSITIVE_INFINITY) {
        await rm(join(dir, FILLER), { force: true });
        filled = 0;
        return (await space()).free;
      }
      const { free, block } = await space();
      const target = Math.floor((filled + free - bytes) / block) * block;
      if (target < 0) throw new Error(`cannot leave ${bytes} bytes free: the disk has ${filled + free} bytes`);
      await writeFile(join(dir, FILLER), Buffer.alloc(target));
      filled = target;
      return (await space()).free;
    },
    unmount() {
      try {
        execFileSync('umount', [dir], { stdio: 'pipe' });
      } catch {
        // a file still open elsewhere keeps the mount busy: detach it now, the kernel frees it when the file closes
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      }
      rmdirSync(dir);
    },
  };
}

/** Names of temporary files left in `dir` by any writer (they end in `.tmp`). */
export async function temporaryFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith('.tmp'));
}
