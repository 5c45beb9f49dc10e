import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocateDmdFrames, DeviceError } from 'opu-core';
import { SimulatedOpuDevice } from 'opu-sim';
import { afterAll, describe, expect, it } from 'vitest';
import { emulator, randomFrames, serialDevice, simulatorAfterSelfTest, spawnEmulator } from './helpers.js';

const until = async (condition: () => boolean, timeoutMs: number) => {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe('faults on the line', () => {
  it('with 1% of bytes corrupted both ways, returns exactly the right frames and counts its retries', async () => {
    const pty = await emulator({ seed: 21 });
    // Short timeouts make lost uploads cheap; long enough that a loaded machine's pauses are not silence.
    await using device = serialDevice(pty.path, { chunkBytes: 48, timeoutMs: 400, retries: 60 });
    await device.open();
    const sim = await simulatorAfterSelfTest({ seed: 21 });
    const roi = { outputRoi: { left: 5, top: 3, width: 16, height: 8 } };
    await device.configure(roi);
    await sim.configure(roi);
    pty.emulator.faults.corruptRate = 0.01;
    const frames = randomFrames(24, device.inputSize, 5);
    const shot = await device.acquire(frames);
    pty.emulator.faults.corruptRate = 0;
    const direct = await sim.acquire(frames);
    expect(shot.data).toEqual(direct.data);
    expect(shot.meta.timestampsUs).toEqual(direct.meta.timestampsUs);
    expect(shot.meta.saturatedPixels).toEqual(direct.meta.saturatedPixels);
    // 64 uploads of 48 bytes and 72 chunks: at 1% per byte, a good part of them was damaged and sent again.
    expect(shot.meta.transfer!.retries).toBeGreaterThan(10);
    expect(shot.meta.transfer!.droppedFrames).toBeGreaterThan(10);
    expect(device.stats.retries).toBeGreaterThanOrEqual(shot.meta.transfer!.retries);
    // The device showed the batch once, whatever was repeated on the line.
    expect(pty.emulator.stats.acquisitions).toBe(2);
    await sim.close();
  });

  it('with 1% of bytes corrupted, small frames packed several to a message come back exactly too', async () => {
    const pty = await emulator({ seed: 27 });
    await using device = serialDevice(pty.path, { chunkBytes: 128, timeoutMs: 400, retries: 60 });
    await device.open();
    const sim = await simulatorAfterSelfTest({ seed: 27 });
    // 2×2 pixels: 4-byte frames, five to a CAMERA_FRAMES message of 128 bytes.
    const tiny = { outputRoi: { left: 9, top: 1, width: 2, height: 2 } };
    await device.configure(tiny);
    await sim.configure(tiny);
    pty.emulator.faults.corruptRate = 0.01;
    const frames = randomFrames(40, device.inputSize, 12);
    const packed = await device.acquire(frames);
    pty.emulator.faults.corruptRate = 0;
    const direct = await sim.acquire(frames);
    expect(packed.data).toEqual(direct.data);
    expect(packed.meta.timestampsUs).toEqual(direct.meta.timestampsUs);
    expect(packed.meta.saturatedPixels).toEqual(direct.meta.saturatedPixels);
    expect(pty.emulator.stats.packsSent).toBeGreaterThanOrEqual(8);
    expect(pty.emulator.stats.chunksResent).toBeGreaterThan(0);
    await sim.close();
  });

  it('lost bytes and a stalling device still give the right frames', async () => {
    const pty = await emulator({ seed: 22 }, { faults: { stallEveryMessages: 7, stallMs: 30 } });
    await using device = serialDevice(pty.path, { chunkBytes: 256, timeoutMs: 400, retries: 30 });
    await device.open();
    const sim = await simulatorAfterSelfTest({ seed: 22 });
    pty.emulator.faults.dropRate = 0.002;
    const frames = randomFrames(16, device.inputSize, 6);
    const shot = await device.acquire(frames);
    expect(shot.data).toEqual((await sim.acquire(frames)).data);
    expect(shot.meta.transfer!.retries).toBeGreaterThan(0);
    await sim.close();
  });

  it('a device unplugged mid-batch gives a typed error within the timeout, and no partial result', async () => {
    // The self-test shows 6 frames; the line dies 5 frames into the batch of 20.
    const pty = await emulator({ seed: 23 }, { faults: { disconnectAfterFrames: 6 + 5 } });
    // Chunks of 1 KiB: each 2 KiB frame is its own messages, so that the line can die between two frames.
    await using device = serialDevice(pty.path, { timeoutMs: 500, reconnectTimeoutMs: 0, chunkBytes: 1024 });
    await device.open();
    const started = performance.now();
    const error = await device.acquire(randomFrames(20, device.inputSize, 7)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeviceError);
    expect(performance.now() - started).toBeLessThan(500 + 300);
    expect(pty.emulator.stats.cameraFramesSent).toBe(11);
    // Nothing answers any more: the next call tries to reconnect and says so.
    await expect(device.acquire(randomFrames(2, device.inputSize, 8))).rejects.toThrow(/reconnecting failed/);
  });

  it('a device that falls silent on an open port is declared gone after three heartbeats, then reconnected', async () => {
    const pty = await emulator({ seed: 26 });
    await using device = serialDevice(pty.path, { heartbeatMs: 100, timeoutMs: 500 });
    await device.open();
    const sim = await simulatorAfterSelfTest({ seed: 26 });
    pty.emulator.faults.dropRate = 1;
    const silentFrom = performance.now();
    await until(() => !device.connected, 2000);
    const detectedMs = performance.now() - silentFrom;
    // Three heartbeat periods of 100 ms of silence after the last frame, plus up to one period of tick phase.
    expect(detectedMs).toBeGreaterThanOrEqual(280);
    expect(detectedMs).toBeLessThan(300 + 400);
    pty.emulator.faults.dropRate = 0;
    const frames = randomFrames(4, device.inputSize, 3);
    const shot = await device.acquire(frames);
    expect(device.stats.reconnects).toBe(1);
    expect(shot.data).toEqual((await sim.acquire(frames)).data);
    await sim.close();
  });

  it('measures a one-frame trigger lag at open and compensates it: camera frame i is DMD frame i', async () => {
    const pty = await emulator({ seed: 24, camera: { triggerLagFrames: 1 } });
    await using device = serialDevice(pty.path);
    await device.open();
    expect(device.triggerLagFrames).toBe(1);
    const sim = await simulatorAfterSelfTest({ seed: 24, camera: { triggerLagFrames: 1 } });
    expect(device.info.limits.maxFramesPerAcquisition).toBe(sim.info.limits.maxFramesPerAcquisition - 1);
    const frames = randomFrames(5, device.inputSize, 9);
    const shot = await device.acquire(frames);
    // The simulator directly: one blank frame more, and its camera frames shifted by one.
    const flushed = allocateDmdFrames(6, sim.inputSize);
    flushed.data.set(frames.data);
    const direct = await sim.acquire(flushed);
    const pixels = sim.outputSize;
    expect(shot.data).toEqual(direct.data.subarray(pixels));
    expect(shot.meta.timestampsUs).toEqual(direct.meta.timestampsUs.subarray(1));
    expect(Array.from(shot.meta.litMirrors)).toEqual(Array.from(direct.meta.litMirrors.subarray(0, 5)));
    await sim.close();
  });

  it('an emulated slow UART paces the device: the bytes take at least their time on the wire', async () => {
    const pty = await emulator({ seed: 25 }, { faults: { baudRate: 500_000 } });
    await using device = serialDevice(pty.path);
    await device.open();
    const shot = await device.acquire(randomFrames(10, device.inputSize, 10));
    const wireMs = (shot.meta.transfer!.bytesReceived * 10 * 1000) / 500_000;
    expect(wireMs).toBeGreaterThan(400);
    expect(shot.meta.transfer!.wallTimeMs).toBeGreaterThanOrEqual(wireMs * 0.95);
  });
});

describe('the emulator as a process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'opu-emulator-'));
  const link = join(dir, 'opu0');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints its pty; when it is killed the driver notices, and reconnects through the link once it is back', async () => {
    let emulated = await spawnEmulator('sim://?seed=9', ['--link', link]);
    expect(emulated.path).toMatch(/^\/dev\/pts\/\d+$/);
    // The emulator process answers heartbeats between the steps of an acquisition, every few tens of ms.
    await using device = serialDevice(link, { heartbeatMs: 500, timeoutMs: 3000, reconnectTimeoutMs: 20_000 });
    try {
      await device.open();
      const roi = { outputRoi: { left: 0, top: 0, width: 32, height: 16 } };
      await device.configure(roi);
      const before = await device.acquire(randomFrames(4, device.inputSize, 1));
      expect(before.count).toBe(4);
      await emulated.kill();
      await until(() => !device.connected, 3000);
      emulated = await spawnEmulator('sim://?seed=9', ['--link', link]);
      const frames = randomFrames(6, device.inputSize, 2);
      const after = await device.acquire(frames);
      expect(device.stats.reconnects).toBe(1);
      // The restarted device is a fresh simulator with the settings the driver restored.
      const sim = new SimulatedOpuDevice({ options: { seed: 9 } });
      await sim.open();
      await sim.configure(roi);
      expect(after.data).toEqual((await sim.acquire(frames)).data);
      await sim.close();
    } finally {
      await emulated.kill();
    }
  });
});
