import { Opu, openOpu, seededUniform } from 'opu-core';
import { runOpuDeviceContract } from 'opu-core/testing';
import { describe, expect, it } from 'vitest';
import { emulator, randomFrames, serialDevice, simulatorAfterSelfTest } from './helpers.js';

runOpuDeviceContract('SerialOpuDevice + emulator over a pseudo-terminal', async () => {
  const pty = await emulator({ seed: 3, minFramesPerAcquisition: 2, maxFramesPerAcquisition: 64 });
  return serialDevice(pty.path);
});

describe('end to end over a real pseudo-terminal with serialport', () => {
  it('opens, reports info and settings, and acquires camera frames bit-identical to the simulator’s', async () => {
    const pty = await emulator({ seed: 7 });
    await using device = serialDevice(pty.path);
    await device.open();
    const sim = await simulatorAfterSelfTest({ seed: 7 });
    expect(device.info).toEqual(sim.info);
    expect(device.settings).toEqual(sim.settings);
    expect(device.triggerLagFrames).toBe(0);
    const patch = { exposureUs: 250, outputRoi: { left: 3, top: 2, width: 40, height: 24 } };
    await device.configure(patch);
    await sim.configure(patch);
    expect(device.settings).toEqual(sim.settings);
    for (const [count, seed] of [
      [20, 1],
      [3, 2],
      [37, 3],
    ] as const) {
      const frames = randomFrames(count, device.inputSize, seed);
      const [serial, direct] = [await device.acquire(frames), await sim.acquire(frames)];
      expect(serial.data).toEqual(direct.data);
      expect(serial.meta.timestampsUs).toEqual(direct.meta.timestampsUs);
      expect(serial.meta.saturatedPixels).toEqual(direct.meta.saturatedPixels);
      expect(serial.meta.litMirrors).toEqual(direct.meta.litMirrors);
      expect(serial.meta.transfer).toMatchObject({ retries: 0, droppedFrames: 0 });
      expect(serial.meta.transfer!.bytesReceived).toBeGreaterThan(count * 40 * 24);
    }
    expect(pty.emulator.stats.cameraFramesSent).toBe(6 + 20 + 3 + 37);
    await sim.close();
  });

  it('carries 12-bit camera frames as 16-bit words, in chunks, unchanged', async () => {
    const pty = await emulator({ seed: 5, camera: { bitDepth: 12 } });
    await using device = serialDevice(pty.path, { chunkBytes: 1000 });
    await device.open();
    const sim = await simulatorAfterSelfTest({ seed: 5, camera: { bitDepth: 12 } });
    const frames = randomFrames(5, device.inputSize, 9);
    const [serial, direct] = [await device.acquire(frames), await sim.acquire(frames)];
    expect(serial.data).toBeInstanceOf(Uint16Array);
    expect(serial.data).toEqual(direct.data);
    // 64×32 pixels × 2 bytes in chunks of at most 1000 bytes: five per frame, each with 48 bytes of headers.
    expect(serial.meta.transfer!.bytesReceived).toBeGreaterThan(5 * (4096 + 5 * 48));
    await sim.close();
  });

  it('project() through openOpu(serial://…) equals project() on the simulator for the same seed', async () => {
    const pty = await emulator({ seed: 11 });
    const options = { inputs: 48, outputs: 96 };
    await using serial = await openOpu(`serial://${pty.path}`, options);
    await using direct = await Opu.open(await simulatorAfterSelfTest({ seed: 11 }), options);
    const random = seededUniform(4);
    const e = Float32Array.from({ length: 3 * 48 }, () => random() * 2 - 1);
    const [a, b] = [await serial.project(e), await direct.project(e)];
    expect(a.rows).toBe(3);
    expect(a.data).toEqual(b.data);
    expect(a.data.some((v) => v !== 0)).toBe(true);
  });
});
