/**
 * The serial link's throughput and latency over a real pseudo-terminal (serialport on the host side, the emulator's
 * transport on the device side), against the raw byte throughput of the same kind of pty measured in the same run.
 * The device behind the emulator is a stub that returns precomputed speckle-like frames at once, so that the numbers
 * are the link's, not the simulator's.
 */

import { closeSync } from 'node:fs';
import {
  bytesPerFrame,
  type CameraFrames,
  type DmdFrames,
  type OpenedDevice,
  OpuDevice,
  type OpuInfo,
  type OpuSettings,
  rectangleArea,
  seededUniform,
} from 'opu-core';
import {
  emulateOnPseudoTerminal,
  encodeHeartbeat,
  MessageType,
  openSerialTransport,
  ProtocolLink,
  SerialOpuDevice,
  ttyTransport,
} from 'opu-driver';
import { openPseudoTerminal } from 'opu-native';

const DMD = { widthMirrors: 912, heightMirrors: 1140 };
const SENSOR = { widthPx: 1920, heightPx: 1080 };

/** Camera bytes drawn once from the speckle law (exponential intensities, 8-bit): realistic zeros for COBS. */
const SPECKLE = (() => {
  const u = seededUniform(3);
  return Uint8Array.from({ length: SENSOR.widthPx * SENSOR.heightPx }, () =>
    Math.min(255, Math.floor(-40 * Math.log(u()))),
  );
})();

/** An OPU that answers at once with the same speckle frame: the link is all that is measured. */
class InstantDevice extends OpuDevice {
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

/** Bytes per second through a fresh pty, raw (no framing), in one direction, with 64 KiB writes. */
async function rawBytesPerSecond(direction: 'up' | 'down', totalBytes: number): Promise<number> {
  const pty = openPseudoTerminal();
  const device = ttyTransport(pty.masterFd);
  const host = await openSerialTransport(pty.path);
  const [sender, receiver] = direction === 'up' ? [host, device] : [device, host];
  const block = SPECKLE.subarray(0, 65_536);
  let received = 0;
  const done = new Promise<void>((resolve) =>
    receiver.onData((bytes) => {
      received += bytes.length;
      if (received >= totalBytes) resolve();
    }),
  );
  const started = performance.now();
  for (let sent = 0; sent < totalBytes; sent += block.length) await sender.write(block);
  await done;
  const seconds = (performance.now() - started) / 1e3;
  await host.close();
  await device.close();
  closeSync(pty.slaveFd);
  return totalBytes / seconds;
}

interface LinkRun {
  framesPerSecond: number;
  bytesPerFrame: number;
  wireBytes: number;
  payloadBytes: number;
}

/** Frames per second of whole acquisitions over the protocol: the best of `repeats` after a warm-up. */
async function protocolRun(
  settings: Pick<OpuSettings, 'inputRegion' | 'outputRoi'>,
  count: number,
  direction: 'up' | 'down',
  repeats = 3,
): Promise<LinkRun> {
  const emulated = await emulateOnPseudoTerminal(new InstantDevice());
  const device = new SerialOpuDevice({
    connect: () => openSerialTransport(emulated.path),
    options: { triggerSelfTest: false, timeoutMs: 10_000 },
  });
  try {
    await device.open();
    await device.configure(settings);
    const stride = bytesPerFrame(device.inputSize);
    const u = seededUniform(4);
    const frames: DmdFrames = {
      count,
      mirrorsPerFrame: device.inputSize,
      data: Uint8Array.from({ length: count * stride }, (_, i) => ((i + 1) % stride === 0 ? 0 : Math.floor(u() * 256))),
    };
    if (device.inputSize % 8 !== 0) for (let f = 0; f < count; f++) frames.data[(f + 1) * stride - 1] = 0;
    await device.acquire(frames);
    let best: LinkRun | undefined;
    for (let r = 0; r < repeats; r++) {
      const shot = await device.acquire(frames);
      const t = shot.meta.transfer!;
      const framesPerSecond = count / (t.wallTimeMs / 1e3);
      const perFrame = direction === 'up' ? stride : device.outputSize;
      const run = {
        framesPerSecond,
        bytesPerFrame: perFrame,
        wireBytes: direction === 'up' ? t.bytesSent : t.bytesReceived,
        payloadBytes: perFrame * count,
      };
      if (!best || run.framesPerSecond > best.framesPerSecond) best = run;
    }
    return best!;
  } finally {
    await device.close();
    await emulated.close();
  }
}

/** Round trips of one small request (HEARTBEAT, 8 bytes) through the emulator, in ms. */
async function roundTrips(count: number): Promise<number[]> {
  const emulated = await emulateOnPseudoTerminal(new InstantDevice());
  const link = new ProtocolLink(await openSerialTransport(emulated.path));
  const times: number[] = [];
  try {
    for (let i = 0; i < count + 50; i++) {
      const t = performance.now();
      await link.request(MessageType.heartbeat, encodeHeartbeat(BigInt(i)), MessageType.heartbeatReply, 5000);
      if (i >= 50) times.push(performance.now() - t);
    }
  } finally {
    await link.close();
    await emulated.close();
  }
  return times.sort((a, b) => a - b);
}

const mb = (bytesPerSecond: number) => (bytesPerSecond / 1e6).toFixed(1);

export async function serialBenchmark(): Promise<string[]> {
  const full = { left: 0, top: 0, width: DMD.widthMirrors, height: DMD.heightMirrors };
  const one = { left: 0, top: 0, width: 1, height: 1 };
  const sensor = { left: 0, top: 0, width: SENSOR.widthPx, height: SENSOR.heightPx };
  const small = { left: 0, top: 0, width: 64, height: 64 };
  const rawUp = Math.max(await rawBytesPerSecond('up', 64e6), await rawBytesPerSecond('up', 64e6));
  const rawDown = Math.max(await rawBytesPerSecond('down', 64e6), await rawBytesPerSecond('down', 64e6));
  const cases = [
    {
      what: `DMD frames up, ${DMD.widthMirrors}×${DMD.heightMirrors} mirrors`,
      raw: rawUp,
      direction: 'up' as const,
      run: await protocolRun({ inputRegion: full, outputRoi: one }, 200, 'up'),
    },
    {
      what: `camera frames down, ${SENSOR.widthPx}×${SENSOR.heightPx} 8-bit`,
      raw: rawDown,
      direction: 'down' as const,
      run: await protocolRun({ inputRegion: one, outputRoi: sensor }, 24, 'down'),
    },
    {
      what: 'camera frames down, 64×64 ROI 8-bit',
      raw: rawDown,
      direction: 'down' as const,
      run: await protocolRun({ inputRegion: one, outputRoi: small }, 4000, 'down'),
    },
  ];
  const rtt = await roundTrips(2000);
  const quantile = (q: number) => rtt[Math.min(rtt.length - 1, Math.floor(q * rtt.length))]!;
  const lines = [
    '## Serial link: the wire protocol over a pseudo-terminal',
    '',
    'Host: `SerialOpuDevice` on serialport; device: the emulator (`emulateOnPseudoTerminal`) in the same process, ' +
      'backed by a stub that returns precomputed speckle frames at once, so that only the link is measured. Raw: the ' +
      'same pair of transports on a fresh pty, 64 MB in 64 KiB writes, no framing, best of two. Protocol: whole ' +
      '`acquire()` calls (upload, ACQUIRE, chunks, credits), best of three after a warm-up. Overhead = 1 − protocol ' +
      'payload rate / raw rate.',
    '',
    '| transfer | frame bytes | frames/s | payload MB/s | raw pty MB/s | bytes on the wire per payload byte | overhead |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const c of cases) {
    const rate = c.run.framesPerSecond * c.run.bytesPerFrame;
    lines.push(
      `| ${c.what} | ${c.run.bytesPerFrame.toLocaleString('en')} | ${c.run.framesPerSecond.toFixed(c.run.framesPerSecond < 100 ? 1 : 0)} | ` +
        `${mb(rate)} | ${mb(c.raw)} | ${(c.run.wireBytes / c.run.payloadBytes).toFixed(4)} | ` +
        `**${((1 - rate / c.raw) * 100).toFixed(1)}%** |`,
    );
  }
  lines.push(
    '',
    `Round trip of one small request (HEARTBEAT, 8-byte payload, 2000 after 50 warm-up): median ` +
      `**${quantile(0.5).toFixed(3)} ms**, 99th percentile **${quantile(0.99).toFixed(3)} ms**, max ${rtt.at(-1)!.toFixed(3)} ms.`,
    '',
  );
  return lines;
}
