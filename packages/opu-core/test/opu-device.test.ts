import { describe, expect, it } from 'vitest';
import { allocateDmdFrames, type DmdFrames, packDmdFrames } from '../src/device/frames.js';
import { ArgumentError, DeviceStateError, TimeoutError } from '../src/support/errors.js';
import { caught, caughtSync, DEFAULT_SETTINGS, FakeOpuDevice, randomBits } from './helpers/fake-device.js';

async function openDevice(options: ConstructorParameters<typeof FakeOpuDevice>[0] = {}): Promise<FakeOpuDevice> {
  const device = new FakeOpuDevice(options);
  await device.open();
  return device;
}

function frames(count: number, mirrors: number, seed: number): DmdFrames {
  return packDmdFrames(randomBits(count * mirrors, seed), count, mirrors);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('OpuDevice state', () => {
  it('refuses every call before open() and never reaches the backend', async () => {
    const device = new FakeOpuDevice();
    expect(device.state).toBe('new');
    for (const [read, field] of [
      [() => device.info, 'info'],
      [() => device.settings, 'settings'],
      [() => device.inputSize, 'settings'],
    ] as const) {
      const error = caughtSync(read) as DeviceStateError;
      expect(error).toBeInstanceOf(DeviceStateError);
      expect(error.field).toBe(field);
      expect(error.fix).toBe('await device.open() first');
    }
    const acquire = (await caught(device.acquire(allocateDmdFrames(4, 16)))) as DeviceStateError;
    expect(acquire).toBeInstanceOf(DeviceStateError);
    expect(acquire.field).toBe('acquire()');
    const configure = (await caught(device.configure({ gainDb: 1 }))) as DeviceStateError;
    expect(configure).toBeInstanceOf(DeviceStateError);
    expect(configure.field).toBe('configure()');
    expect(device.calls).toEqual({ open: 0, close: 0, configure: 0, acquire: 0 });
  });

  it('opens once, then reports the backend’s info and settings', async () => {
    const device = new FakeOpuDevice();
    await device.open();
    await device.open();
    expect(device.calls.open).toBe(1);
    expect(device.state).toBe('open');
    expect(device.settings).toEqual(DEFAULT_SETTINGS);
    expect(device.info.model).toBe('fake');
    expect(device.inputSize).toBe(16);
    expect(device.outputSize).toBe(8);
  });

  it('refuses to open with invalid settings reported by the backend and stays unopened', async () => {
    const device = new FakeOpuDevice({ settings: { exposureUs: 80_000, frameTimeUs: 90_000 } });
    const error = (await caught(device.open())) as ArgumentError;
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error.field).toBe('settings.exposureUs');
    expect(device.state).toBe('new');
    expect(() => device.info).toThrow(DeviceStateError);
  });
});

describe('OpuDevice.configure', () => {
  it('rejects invalid patches before the backend sees them and changes nothing', async () => {
    const device = await openDevice();
    const before = structuredClone(device.settings);
    const bad: [Parameters<FakeOpuDevice['configure']>[0], string][] = [
      [{ exposureUs: 1e6 }, 'settings.exposureUs'],
      [{ exposureUs: 2000 }, 'settings.frameTimeUs'],
      [{ gainDb: 30 }, 'settings.gainDb'],
      [{ frameTimeUs: 500 }, 'settings.frameTimeUs'],
      [{ inputRegion: { left: 30, top: 0, width: 4, height: 1 } }, 'settings.inputRegion'],
      [{ outputRoi: { left: 0, top: 0, width: 2, height: 9 } }, 'settings.outputRoi'],
      [{ outputRoi: { left: 0, top: 0, width: 2.5, height: 1 } }, 'settings.outputRoi.width'],
      [{ gainDb: '3' as unknown as number }, 'settings.gainDb'],
    ];
    for (const [patch, field] of bad) {
      const error = (await caught(device.configure(patch))) as ArgumentError;
      expect(error, JSON.stringify(patch)).toBeInstanceOf(ArgumentError);
      expect(error.field).toBe(field);
      expect(device.settings).toEqual(before);
    }
    expect(device.calls.configure).toBe(0);
    expect(device.violations).toEqual([]);
  });

  it('applies a patch atomically: all fields or none', async () => {
    const device = await openDevice();
    const before = structuredClone(device.settings);
    // A valid exposure together with an invalid ROI: neither is applied.
    const mixed = await caught(
      device.configure({ exposureUs: 500, outputRoi: { left: 10, top: 0, width: 8, height: 1 } }),
    );
    expect(mixed).toBeInstanceOf(ArgumentError);
    expect(device.settings).toEqual(before);
    // A longer exposure needs a longer frame time: together they are valid.
    const applied = await device.configure({ exposureUs: 2000, frameTimeUs: 2020 });
    expect(applied).toEqual({ ...before, exposureUs: 2000, frameTimeUs: 2020 });
    expect(device.settings).toEqual(applied);
    expect(device.calls.configure).toBe(1);
    expect(device.configured.at(-1)).toEqual(applied);
  });

  it('keeps the old settings when the backend fails to apply new ones', async () => {
    const device = await openDevice();
    const before = structuredClone(device.settings);
    const failure = new TimeoutError('no answer from the camera');
    device.failNextConfigure = failure;
    expect(await caught(device.configure({ gainDb: 6 }))).toBe(failure);
    expect(device.settings).toEqual(before);
    await device.configure({ gainDb: 6 });
    expect(device.settings.gainDb).toBe(6);
  });

  it('applies concurrent patches in call order without losing any', async () => {
    const device = await openDevice({ delayMs: 2 });
    await Promise.all([
      device.configure({ exposureUs: 500 }),
      device.configure({ gainDb: 3 }),
      device.configure({ outputRoi: { left: 0, top: 0, width: 4, height: 1 } }),
    ]);
    expect(device.settings).toEqual({
      ...DEFAULT_SETTINGS,
      exposureUs: 500,
      gainDb: 3,
      outputRoi: { left: 0, top: 0, width: 4, height: 1 },
    });
    expect(device.maxConcurrent).toBe(1);
    expect(device.violations).toEqual([]);
  });
});

describe('OpuDevice.acquire', () => {
  it('returns one camera frame per DMD frame from the backend', async () => {
    const device = await openDevice();
    const batch = frames(5, 16, 3);
    const shot = await device.acquire(batch);
    expect(shot.count).toBe(5);
    expect(shot.widthPx * shot.heightPx).toBe(8);
    const bits = device.acquisitions[0]!.bits;
    for (let f = 0; f < 5; f++) {
      const expected = device.expectedAdu(bits.subarray(f * 16, (f + 1) * 16), 1000);
      expect(Array.from(shot.data.subarray(f * 8, (f + 1) * 8))).toEqual(Array.from(expected));
    }
  });

  it('rejects malformed batches before the backend sees them', async () => {
    const device = await openDevice();
    const good = frames(4, 16, 1);
    const bad: [DmdFrames, string][] = [
      [allocateDmdFrames(3, 16), 'frames.count'],
      [allocateDmdFrames(11, 16), 'frames.count'],
      [{ count: 4.5, mirrorsPerFrame: 16, data: new Uint8Array(9) }, 'frames.count'],
      [{ count: Number.NaN, mirrorsPerFrame: 16, data: new Uint8Array(8) }, 'frames.count'],
      [allocateDmdFrames(4, 15), 'frames.mirrorsPerFrame'],
      [allocateDmdFrames(4, 17), 'frames.mirrorsPerFrame'],
      [{ ...good, data: good.data.subarray(1) }, 'frames.data'],
      [{ ...good, data: Array.from(good.data) as unknown as Uint8Array }, 'frames.data'],
      [undefined as unknown as DmdFrames, 'frames.data'],
    ];
    for (const [batch, field] of bad) {
      const error = (await caught(device.acquire(batch))) as ArgumentError;
      expect(error, field).toBeInstanceOf(ArgumentError);
      expect(error.field).toBe(field);
    }
    // With 12 mirrors per frame, the high nibble of each frame's second byte is padding and must be clear.
    await device.configure({ inputRegion: { left: 0, top: 0, width: 6, height: 2 } });
    const padded = frames(4, 12, 2);
    padded.data[2 * 2 + 1]! |= 0x10;
    const error = (await caught(device.acquire(padded))) as ArgumentError;
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error.field).toBe('frames.data[frame 2]');
    expect(device.calls.acquire).toBe(0);
    await device.acquire(frames(4, 12, 2));
    expect(device.calls.acquire).toBe(1);
    expect(device.violations).toEqual([]);
  });

  it('serializes concurrent calls in call order', async () => {
    const device = await openDevice({ delayMs: 3 });
    const [a, , b, c] = await Promise.all([
      device.acquire(frames(4, 16, 1)),
      device.configure({ exposureUs: 500 }),
      device.acquire(frames(5, 16, 2)),
      device.acquire(frames(6, 16, 3)),
    ]);
    expect(device.maxConcurrent).toBe(1);
    expect(device.events).toEqual([
      'acquire:start',
      'acquire:end',
      'configure:start',
      'configure:end',
      'acquire:start',
      'acquire:end',
      'acquire:start',
      'acquire:end',
    ]);
    expect([a.count, b.count, c.count]).toEqual([4, 5, 6]);
    expect([a.meta.exposureUs, b.meta.exposureUs, c.meta.exposureUs]).toEqual([1000, 500, 500]);
    expect(b.meta.timestampsUs[0]).toBeGreaterThan(a.meta.timestampsUs[3]!);
    expect(c.meta.timestampsUs[0]).toBeGreaterThan(b.meta.timestampsUs[4]!);
  });

  it('checks a batch against the settings in force when it runs, not when it was queued', async () => {
    const device = await openDevice({ delayMs: 2 });
    const wider = { left: 0, top: 0, width: 8, height: 3 };
    // Frames for the old 16-mirror region, queued behind a switch to 24 mirrors: they must not reach the backend.
    const [, stale, fresh] = await Promise.allSettled([
      device.configure({ inputRegion: wider }),
      device.acquire(frames(4, 16, 1)),
      device.acquire(frames(4, 24, 2)),
    ]);
    expect(stale.status).toBe('rejected');
    expect((stale as PromiseRejectedResult).reason).toBeInstanceOf(ArgumentError);
    expect((stale as PromiseRejectedResult).reason.field).toBe('frames.mirrorsPerFrame');
    // Frames for the new region, queued behind the same switch, are valid when they run.
    expect(fresh.status).toBe('fulfilled');
    expect(device.violations).toEqual([]);
  });

  it('rejects a failing acquisition without breaking the next one', async () => {
    const device = await openDevice({ delayMs: 1 });
    const failure = new TimeoutError('camera trigger timed out');
    device.failNextAcquire = failure;
    expect(await caught(device.acquire(frames(4, 16, 1)))).toBe(failure);
    const next = await device.acquire(frames(4, 16, 1));
    expect(next.count).toBe(4);
    // Also when the next call was already queued behind the failing one.
    device.failNextAcquire = failure;
    const [first, second] = await Promise.allSettled([
      device.acquire(frames(4, 16, 1)),
      device.acquire(frames(5, 16, 1)),
    ]);
    expect(first).toEqual({ status: 'rejected', reason: failure });
    expect(second.status).toBe('fulfilled');
    expect(device.calls.acquire).toBe(4);
    expect(device.maxConcurrent).toBe(1);
  });
});

describe('OpuDevice.close', () => {
  it('is idempotent and refuses use afterwards', async () => {
    const device = await openDevice();
    await device.close();
    await device.close();
    expect(device.state).toBe('closed');
    expect(device.calls.close).toBe(1);
    const acquire = (await caught(device.acquire(allocateDmdFrames(4, 16)))) as DeviceStateError;
    expect(acquire).toBeInstanceOf(DeviceStateError);
    expect(acquire.fix).toBe('open a new device; this one was closed');
    await expect(device.configure({ gainDb: 1 })).rejects.toThrow(DeviceStateError);
    const reopen = (await caught(device.open())) as DeviceStateError;
    expect(reopen).toBeInstanceOf(DeviceStateError);
    expect(reopen.field).toBe('open()');
    expect(device.calls.open).toBe(1);
  });

  it('closes a never-opened device without calling the backend', async () => {
    const device = new FakeOpuDevice();
    await device.close();
    expect(device.state).toBe('closed');
    expect(device.calls).toEqual({ open: 0, close: 0, configure: 0, acquire: 0 });
    await expect(device.open()).rejects.toThrow(DeviceStateError);
  });

  it('lets the running call finish, refuses queued ones, then closes the backend', async () => {
    const device = await openDevice({ delayMs: 15 });
    const running = device.acquire(frames(4, 16, 1));
    const queued = device.acquire(frames(4, 16, 2));
    const queuedConfigure = device.configure({ gainDb: 2 });
    await sleep(3);
    expect(device.events).toEqual(['acquire:start']);
    await device.close();
    expect((await running).count).toBe(4);
    const refused = (await caught(queued)) as DeviceStateError;
    expect(refused).toBeInstanceOf(DeviceStateError);
    expect(refused.field).toBe('acquire()');
    const refusedConfigure = (await caught(queuedConfigure)) as DeviceStateError;
    expect(refusedConfigure).toBeInstanceOf(DeviceStateError);
    expect(refusedConfigure.field).toBe('configure()');
    expect(device.events).toEqual(['acquire:start', 'acquire:end', 'close']);
    expect(device.calls).toEqual({ open: 1, close: 1, configure: 0, acquire: 1 });
    expect(device.violations).toEqual([]);
  });

  it('is called by await using', async () => {
    const device = new FakeOpuDevice();
    {
      await using held = device;
      await held.open();
      expect(held.state).toBe('open');
    }
    expect(device.state).toBe('closed');
    expect(device.calls.close).toBe(1);
  });
});

describe('OpuDevice open() races', () => {
  it('shares one doOpen between concurrent open() calls and lets close() during open() win', async () => {
    const device = new FakeOpuDevice();
    await Promise.all([device.open(), device.open()]);
    expect(device.calls.open).toBe(1);
    await device.close();
    const racing = new FakeOpuDevice();
    const opening = racing.open();
    await racing.close();
    await opening;
    expect(racing.state).toBe('closed');
    expect(racing.calls.close).toBe(1);
  });
});
