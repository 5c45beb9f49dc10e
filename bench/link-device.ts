/**
 * The device end of the serial benchmark, run as its own process as a real OPU is its own hardware:
 *   link-device.ts emulate          plays an instant OPU on a pty (prints its path)
 *   link-device.ts raw-send N       prints a pty path, waits for a byte on it, then writes N bytes to it
 *   link-device.ts raw-receive N    prints a pty path, reads N bytes from it, prints "done"
 */
import { closeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import {
  type CameraFrames,
  type DmdFrames,
  type OpenedDevice,
  OpuDevice,
  type OpuInfo,
  type OpuSettings,
  rectangleArea,
  seededUniform,
} from 'opu-core';
import { emulateOnPseudoTerminal } from 'opu-emulator';
import { openPseudoTerminal } from 'opu-native';
import { ttyTransport } from 'opu-protocol';

export const DMD = { widthMirrors: 912, heightMirrors: 1140 };
export const SENSOR = { widthPx: 1920, heightPx: 1080 };

/** Camera bytes drawn once from the speckle law (exponential intensities, 8-bit): realistic zeros for COBS. */
const SPECKLE = (() => {
  const u = seededUniform(3);
  return Uint8Array.from({ length: SENSOR.widthPx * SENSOR.heightPx }, () =>
    Math.min(255, Math.floor(-40 * Math.log(u()))),
  );
})();

/** An OPU that answers at once with the same speckle frame: the link is all that is measured. */
export class InstantDevice extends OpuDevice {
  protected async doOpen(): Promise<OpenedDevice> {
    const info: OpuInfo = {
      model: 'link-bench',
      serialNumber: 'BENCH-1',
      firmwareVersion: '0',
      dmd: { ...DMD, mirrorPitchUm: 10.8, maxFrameRateHz: 20_000 },
      camera: { ...SENSOR, pixelPitchUm: 5.86, bitDepth: 8, maxAdu: 255, fullFrameReadoutUs: 1, frameOverheadUs: 0 },
      limits: {
        exposureUs: { min: 1, max: 1e5 },
        frameTimeUs: { min: 1, max: 1e6 },
        gainDb: { min: 0, max: 0 },
        minFramesPerAcquisition: 1,
        maxFramesPerAcquisition: 4096,
      },
    };
    const settings: OpuSettings = {
      exposureUs: 10,
      frameTimeUs: 50,
      gainDb: 0,
      inputRegion: { left: 0, top: 0, width: 1, height: 1 },
      outputRoi: { left: 0, top: 0, width: 1, height: 1 },
    };
    return { info, settings };
  }
  protected async doClose(): Promise<void> {}
  protected async doConfigure(): Promise<void> {}
  protected async doAcquire(frames: DmdFrames): Promise<CameraFrames> {
    const s = this.settings;
    const pixels = rectangleArea(s.outputRoi);
    const data = new Uint8Array(frames.count * pixels);
    for (let f = 0; f < frames.count; f++) data.set(SPECKLE.subarray(0, pixels), f * pixels);
    return {
      count: frames.count,
      widthPx: s.outputRoi.width,
      heightPx: s.outputRoi.height,
      bitDepth: 8,
      data,
      meta: {
        exposureUs: s.exposureUs,
        frameTimeUs: s.frameTimeUs,
        gainDb: 0,
        timestampsUs: Float64Array.from({ length: frames.count }, (_, f) => f * s.frameTimeUs),
        litMirrors: new Uint32Array(frames.count),
        saturatedPixels: new Uint32Array(frames.count),
      },
    };
  }
}

async function main(): Promise<void> {
  const [mode, size] = process.argv.slice(2);
  const lines = createInterface({ input: process.stdin });
  if (mode === 'emulate') {
    const emulated = await emulateOnPseudoTerminal(new InstantDevice());
    process.stdout.write(`${emulated.path}\n`);
    lines.once('close', () => void emulated.close().then(() => process.exit(0)));
    return;
  }
  const total = Number(size);
  const pty = openPseudoTerminal();
  const device = ttyTransport(pty.masterFd);
  process.stdout.write(`${pty.path}\n`);
  if (mode === 'raw-receive') {
    let received = 0;
    device.onData((bytes) => {
      received += bytes.length;
      if (received >= total) process.stdout.write('done\n');
    });
  } else {
    // The host's first byte on the line says it is listening.
    const block = SPECKLE.subarray(0, 65_536);
    let started = false;
    device.onData(() => {
      if (started) return;
      started = true;
      void (async () => {
        for (let sent = 0; sent < total; sent += block.length) await device.write(block);
      })();
    });
  }
  lines.once('close', () => {
    void device.close().then(() => {
      closeSync(pty.slaveFd);
      process.exit(0);
    });
  });
}

if (process.argv[1]?.endsWith('link-device.ts')) await main();
