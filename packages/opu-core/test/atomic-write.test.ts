import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../src/support/atomic-write.js';
import { StorageError } from '../src/support/errors.js';
import { FILLER, KiB, mountSmallDisk, type SmallDisk, temporaryFiles } from './helpers/small-disk.js';

describe('writeFileAtomic on a full disk', () => {
  let disk: SmallDisk;
  beforeAll(async () => {
    disk = await mountSmallDisk(256 * KiB);
  });
  afterAll(() => disk.unmount());

  it('keeps the previous file and rejects with a StorageError naming the path, the free space and the size', async () => {
    const path = join(disk.dir, 'data.bin');
    await writeFileAtomic(path, Buffer.alloc(20 * KiB, 1));
    await disk.leaveFree(16 * KiB);
    for (const data of [
      Buffer.alloc(40 * KiB, 2),
      'x'.repeat(40 * KiB),
      [Buffer.alloc(20 * KiB), 'y'.repeat(20 * KiB)],
    ]) {
      const error = await writeFileAtomic(path, data).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageError);
      expect(error).toMatchObject({ field: path, code: 'ENOSPC', freeBytes: 16 * KiB });
      expect((error as Error).message).toBe(
        `${path}: cannot be written (ENOSPC: no space left on device, write); 16 KiB free on its file system, the new ` +
          'file needs 40 KiB. Fix: free space on that disk or write elsewhere; nothing at this path was changed',
      );
      expect(await readFile(path)).toEqual(Buffer.alloc(20 * KiB, 1));
      expect(await temporaryFiles(disk.dir)).toEqual([]);
    }
    await disk.leaveFree(Number.POSITIVE_INFINITY);
    await writeFileAtomic(path, 'done');
    expect(await readFile(path, 'utf8')).toBe('done');
    expect((await readdir(disk.dir)).filter((name) => name !== FILLER)).toEqual(['data.bin']);
  });
});

describe('writeFileAtomic and the temporary files of killed writers', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'atomic-write-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('removes those of dead writers to the same path, and no others', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    const live = spawn('sleep', ['30']);
    try {
      const names = {
        dead: `.c.opucal.${dead}.0123456789ab.tmp`,
        live: `.c.opucal.${live.pid}.0123456789ab.tmp`,
        ours: `.c.opucal.${process.pid}.0123456789ab.tmp`,
        otherPath: `.c.opucal.partial.${dead}.0123456789ab.tmp`,
        notOurs: `.c.opucal.${dead}.tmp`,
      };
      for (const name of Object.values(names)) await writeFile(join(dir, name), 'half a calibration');
      await writeFileAtomic(join(dir, 'c.opucal'), 'calibration');
      const left = (await readdir(dir)).sort();
      expect(left).toEqual([names.live, names.ours, names.otherPath, names.notOurs, 'c.opucal'].sort());
      await writeFileAtomic(join(dir, 'c.opucal.partial'), 'partial');
      expect(await readdir(dir)).not.toContain(names.otherPath);
    } finally {
      live.kill();
    }
  });

  it('removes the temporary files earlier versions left: by dead pid, or unchanged for an hour', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    const names = {
      checkpoint: `checkpoint.bin.${dead}.tmp`,
      liveCheckpoint: `checkpoint.bin.${process.pid}.tmp`,
      oldCalibration: '.checkpoint.bin.0123456789ab.tmp',
      recentCalibration: '.checkpoint.bin.ba9876543210.tmp',
    };
    for (const name of Object.values(names)) await writeFile(join(dir, name), 'half a file');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    await utimes(join(dir, names.oldCalibration), twoHoursAgo, twoHoursAgo);
    await writeFileAtomic(join(dir, 'checkpoint.bin'), 'weights');
    const left = (await readdir(dir)).filter((name) => name.includes('checkpoint.bin'));
    expect(left.sort()).toEqual([names.liveCheckpoint, names.recentCalibration, 'checkpoint.bin'].sort());
  });
});
