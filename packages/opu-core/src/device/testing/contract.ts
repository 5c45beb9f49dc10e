import { describe, expect, it } from 'vitest';
import { ArgumentError, DeviceStateError } from '../../support/errors.js';
import { seededUniform } from '../../support/random.js';
import { allocateDmdFrames, bytesPerFrame, type DmdFrames, packDmdFrames } from '../frames.js';
import type { OpuDevice } from '../opu-device.js';
import { rectangleArea } from '../settings.js';

export type DeviceFactory = () => OpuDevice | Promise<OpuDevice>;

function randomFrames(count: number, mirrors: number, fill: number, seed: number): DmdFrames {
  const random = seededUniform(seed);
  const bits = Array.from({ length: count * mirrors }, () => (random() < fill ? 1 : 0));
  return packDmdFrames(bits, count, mirrors);
}

function meanOfFrame(data: ArrayLike<number>, f: number, pixels: number): number {
  let s = 0;
  for (let i = f * pixels; i < (f + 1) * pixels; i++) s += data[i]!;
  return s / pixels;
}

/** `wanted` frames, or as close to it as the device's batch limits allow. */
function batchSize(device: OpuDevice, wanted: number): number {
  const { minFramesPerAcquisition, maxFramesPerAcquisition } = device.info.limits;
  return Math.min(maxFramesPerAcquisition, Math.max(wanted, minFramesPerAcquisition));
}

/**
 * The behaviour every `OpuDevice` backend must show, as a vitest suite: `runOpuDeviceContract('sim', factory)`.
 * It checks the contract (states, validation, shapes, metadata), not a backend's physics.
 */
export function runOpuDeviceContract(name: string, factory: DeviceFactory): void {
  describe(`OpuDevice contract: ${name}`, () => {
    it('refuses every call before open(), then opens with a coherent description', async () => {
      const device = await factory();
      expect(device.state).toBe('new');
      expect(() => device.info).toThrow(DeviceStateError);
      await expect(device.acquire(allocateDmdFrames(1, 1))).rejects.toThrow(DeviceStateError);
      await device.open();
      await device.open();
      expect(device.state).toBe('open');
      const { info, settings } = device;
      expect(info.dmd.widthMirrors * info.dmd.heightMirrors).toBeGreaterThan(0);
      expect([8, 10, 12]).toContain(info.camera.bitDepth);
      expect(info.camera.maxAdu).toBe(2 ** info.camera.bitDepth - 1);
      expect(info.limits.exposureUs.min).toBeLessThanOrEqual(settings.exposureUs);
      expect(settings.exposureUs).toBeLessThanOrEqual(info.limits.exposureUs.max);
      expect(info.limits.minFramesPerAcquisition).toBeLessThanOrEqual(info.limits.maxFramesPerAcquisition);
      expect(device.inputSize).toBe(rectangleArea(settings.inputRegion));
      await device.close();
    });

    it('applies valid settings atomically and rejects invalid ones without changing anything', async () => {
      await using device = await factory();
      await device.open();
      const before = structuredClone(device.settings);
      const tooLong = device.info.limits.exposureUs.max * 2;
      const error = await device.configure({ exposureUs: tooLong }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ArgumentError);
      expect((error as ArgumentError).field).toBe('settings.exposureUs');
      expect(device.settings).toEqual(before);
      await expect(
        device.configure({ inputRegion: { left: device.info.dmd.widthMirrors, top: 0, width: 1, height: 1 } }),
      ).rejects.toThrow(/settings\.inputRegion/);
      await expect(device.configure({ frameTimeUs: before.exposureUs / 2 })).rejects.toThrow(/frameTimeUs/);
      await expect(device.configure({ gainDb: Number.NaN })).rejects.toThrow(ArgumentError);
      expect(device.settings).toEqual(before);
      const exposureUs = Math.max(device.info.limits.exposureUs.min, before.exposureUs / 2);
      const applied = await device.configure({ exposureUs });
      expect(applied.exposureUs).toBe(exposureUs);
      expect(device.settings.exposureUs).toBe(exposureUs);
      expect(device.settings.inputRegion).toEqual(before.inputRegion);
    });

    it('returns one camera frame per DMD frame with complete metadata', async () => {
      await using device = await factory();
      await device.open();
      const count = batchSize(device, 3);
      const frames = randomFrames(count, device.inputSize, 0.5, 11);
      const shot = await device.acquire(frames);
      const pixels = device.outputSize;
      expect(shot.count).toBe(count);
      expect(shot.widthPx * shot.heightPx).toBe(pixels);
      expect(shot.data.length).toBe(count * pixels);
      expect(shot.data).toBeInstanceOf(device.info.camera.bitDepth === 8 ? Uint8Array : Uint16Array);
      expect(Math.max(...shot.data)).toBeLessThanOrEqual(device.info.camera.maxAdu);
      expect(shot.meta.exposureUs).toBe(device.settings.exposureUs);
      expect(shot.meta.frameTimeUs).toBe(device.settings.frameTimeUs);
      expect(shot.meta.timestampsUs.length).toBe(count);
      for (let f = 1; f < count; f++) {
        expect(shot.meta.timestampsUs[f]! - shot.meta.timestampsUs[f - 1]!).toBeCloseTo(shot.meta.frameTimeUs, 6);
      }
      const stride = bytesPerFrame(device.inputSize);
      for (let f = 0; f < count; f++) {
        let lit = 0;
        for (let b = 0; b < stride; b++) for (let v = frames.data[f * stride + b]!; v; v &= v - 1) lit++;
        expect(shot.meta.litMirrors[f]).toBe(lit);
      }
      expect(shot.meta.saturatedPixels.length).toBe(count);
      const next = await device.acquire(frames);
      expect(next.meta.timestampsUs[0]).toBeGreaterThan(shot.meta.timestampsUs[count - 1]!);
    });

    it('sees more light from lit mirrors than from a blank frame', async () => {
      await using device = await factory();
      await device.open();
      const count = batchSize(device, 4);
      const blank = await device.acquire(allocateDmdFrames(count, device.inputSize));
      const lit = await device.acquire(randomFrames(count, device.inputSize, 0.5, 5));
      const pixels = device.outputSize;
      expect(meanOfFrame(lit.data, count - 1, pixels)).toBeGreaterThan(meanOfFrame(blank.data, count - 1, pixels) + 1);
    });

    it('rejects malformed frame batches with typed errors', async () => {
      await using device = await factory();
      await device.open();
      const n = device.inputSize;
      const min = device.info.limits.minFramesPerAcquisition;
      await expect(device.acquire(allocateDmdFrames(min, n + 1))).rejects.toThrow(/frames\.mirrorsPerFrame/);
      await expect(device.acquire({ count: min, mirrorsPerFrame: n, data: new Uint8Array(3) })).rejects.toThrow(
        /frames\.data/,
      );
      await expect(
        device.acquire({ count: min, mirrorsPerFrame: n, data: [] as unknown as Uint8Array }),
      ).rejects.toThrow(ArgumentError);
      await expect(
        device.acquire(allocateDmdFrames(device.info.limits.maxFramesPerAcquisition + 1, n)),
      ).rejects.toThrow(/frames\.count/);
      if (n % 8 !== 0) {
        const bad = allocateDmdFrames(min, n);
        bad.data[bytesPerFrame(n) - 1] = 0xff;
        await expect(device.acquire(bad)).rejects.toThrow(/padding bits/);
      }
    });

    it('serializes concurrent acquisitions', async () => {
      await using device = await factory();
      await device.open();
      const count = batchSize(device, 2);
      const [a, b] = await Promise.all([
        device.acquire(randomFrames(count, device.inputSize, 0.5, 1)),
        device.acquire(randomFrames(count, device.inputSize, 0.5, 2)),
      ]);
      expect(b.meta.timestampsUs[0]).toBeGreaterThanOrEqual(a.meta.timestampsUs[count - 1]! + a.meta.frameTimeUs);
    });

    it('closes idempotently, refuses use after close, and disposes with await using', async () => {
      const device = await factory();
      await device.open();
      await device.close();
      await device.close();
      expect(device.state).toBe('closed');
      await expect(device.acquire(allocateDmdFrames(1, 1))).rejects.toThrow(DeviceStateError);
      await expect(device.configure({ exposureUs: 100 })).rejects.toThrow(DeviceStateError);
      await expect(device.open()).rejects.toThrow(DeviceStateError);
      const scoped = await factory();
      {
        await using held = scoped;
        await held.open();
      }
      expect(scoped.state).toBe('closed');
    });
  });
}
