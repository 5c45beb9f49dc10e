import { describe, expect, it } from 'vitest';
import { ExposureControlledAcquirer, emptyStats } from '../src/measure/acquisition.js';
import { MAX_TRIGGER_LAG_FRAMES, measureTriggerLag } from '../src/measure/trigger-lag.js';
import { ArgumentError, MeasurementError } from '../src/support/errors.js';
import { caught, type FakeDeviceOptions, FakeOpuDevice, linearResponse } from './helpers/fake-device.js';

async function opened(options: FakeDeviceOptions = {}): Promise<FakeOpuDevice> {
  const device = new FakeOpuDevice(options);
  await device.open();
  return device;
}

/** The serial device's form: a half-lit first frame, then blanks, one acquisition, one try. */
const firstFrame = { frames: MAX_TRIGGER_LAG_FRAMES + 2, lit: 'alternate' } as const;

describe('measureTriggerLag', () => {
  it.each([0, 1, 2, 3, 4])('finds a lag of %i frames with the lit frame first or after blanks', async (lag) => {
    const device = await opened({ triggerLagFrames: lag });
    const acquire = (frames: Parameters<FakeOpuDevice['acquire']>[0]) => device.acquire(frames);
    expect(await measureTriggerLag(acquire, device.inputSize, firstFrame)).toBe(lag);
    expect(await measureTriggerLag(acquire, device.inputSize, { frames: 10, blanksBefore: 5 })).toBe(lag);
    // The lit frame: every other mirror, or all of them, at the position asked for.
    const [alternate, all] = device.acquisitions;
    expect(Array.from(alternate!.bits.subarray(0, device.inputSize))).toEqual(
      Array.from({ length: device.inputSize }, (_, j) => (j % 2 === 0 ? 1 : 0)),
    );
    expect(all!.bits.subarray(5 * device.inputSize, 6 * device.inputSize).every((b) => b === 1)).toBe(true);
    expect(all!.bits.filter((b) => b === 1).length).toBe(device.inputSize);
    expect(device.violations).toEqual([]);
  });

  it('fails with a MeasurementError naming the caller’s field when the camera sees nothing', async () => {
    const device = await opened({ response: linearResponse(() => 0) });
    const error = await caught(
      measureTriggerLag((frames) => device.acquire(frames), device.inputSize, { ...firstFrame, field: 'selfTest' }),
    );
    expect(error).toBeInstanceOf(MeasurementError);
    expect((error as MeasurementError).field).toBe('selfTest');
    expect((error as MeasurementError).message).toMatch(/frame means 30\.0, 30\.0/);
  });

  it('raises the exposure until the lit frame stands half an ADU above every blank', async () => {
    // 1/4000 ADU/µs per mirror: 16 mirrors give 4 ADU per pixel at 1 ms, half of that at 10 µs rounds away.
    const device = await opened({ response: linearResponse(() => 1 / 4000), settings: { exposureUs: 10 } });
    const exposures: number[] = [];
    const lag = await measureTriggerLag((frames) => device.acquire(frames), device.inputSize, {
      frames: 10,
      blanksBefore: 5,
      raiseExposure: async () => {
        exposures.push(device.settings.exposureUs);
        await device.configure({ exposureUs: device.settings.exposureUs * 8, frameTimeUs: 100_000 });
        return true;
      },
    });
    expect(lag).toBe(0);
    expect(exposures).toEqual([10, 80]);
    expect(device.acquisitions.map((a) => a.exposureUs)).toEqual([10, 80, 640]);
  });

  it('refuses a batch with no room for the lit frame', async () => {
    const device = await opened();
    const error = await caught(
      measureTriggerLag((frames) => device.acquire(frames), device.inputSize, { frames: 5, blanksBefore: 5 }),
    );
    expect(error).toBeInstanceOf(ArgumentError);
    expect(device.calls.acquire).toBe(0);
  });
});

describe('ExposureControlledAcquirer.compensateTriggerLag', () => {
  it('measures the lag through the acquirer, at eightfold exposures until seen, and compensates it', async () => {
    const device = await opened({
      triggerLagFrames: 2,
      response: linearResponse(() => 1 / 4000),
      settings: { exposureUs: 10, frameTimeUs: 100_000 },
    });
    const acquirer = new ExposureControlledAcquirer(device, 8);
    const stats = emptyStats();
    expect(await acquirer.compensateTriggerLag(stats)).toBe(2);
    expect(acquirer.triggerLagFrames).toBe(2);
    expect(device.acquisitions.map((a) => [a.count, a.exposureUs])).toEqual([
      [10, 10],
      [10, 80],
      [10, 640],
    ]);
    expect(stats.frames).toBe(30);
  });

  it('gives up at the longest exposure', async () => {
    const device = await opened({ response: linearResponse(() => 0) });
    const acquirer = new ExposureControlledAcquirer(device, 8);
    const error = await caught(acquirer.compensateTriggerLag(emptyStats()));
    expect(error).toBeInstanceOf(MeasurementError);
    expect((error as MeasurementError).message).toMatch(/even at the longest exposure/);
    expect(device.acquisitions.at(-1)!.exposureUs).toBe(device.info.limits.exposureUs.max);
  });
});
