/**
 * The serial link's throughput and latency over a real pseudo-terminal: the host (this process: serialport,
 * `SerialOpuDevice`) against a device in its own process (bench/link-device.ts), as a real OPU is its own hardware.
 * The device answers at once with precomputed speckle-like frames, so that the numbers are the link's, not the
 * simulator's. The raw byte throughput of the same kind of pty, between the same two processes and transports, is
 * measured in the same run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { bytesPerFrame, type DmdFrames, type OpuSettings, seededUniform } from 'opu-core';
import { openSerialTransport, SerialOpuDevice } from 'opu-driver';
import { encodeHeartbeat, encodeHello, MessageType, PROTOCOL_VERSION, ProtocolLink } from 'opu-protocol';
import { DMD, SENSOR } from './link-device.js';

const root = fileURLToPath(new URL('..', import.meta.url));

interface DeviceProcess {
  child: ChildProcess;
  lines: Interface;
  path: string;
  stop(): Promise<void>;
}

async function deviceProcess(...args: string[]): Promise<DeviceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/link-device.ts', ...args], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const path = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`link-device exited with ${code}`)));
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.stdin!.end();
    });
  return { child, lines, path, stop };
}

/** Bytes per second through a fresh pty between the two processes, raw (no framing), 64 KiB writes. */
async function rawBytesPerSecond(direction: 'up' | 'down', totalBytes: number): Promise<number> {
  const device = await deviceProcess(direction === 'up' ? 'raw-receive' : 'raw-send', String(totalBytes));
  const host = await openSerialTransport(device.path);
  try {
    let seconds: number;
    if (direction === 'down') {
      let received = 0;
      const done = new Promise<void>((resolve) =>
        host.onData((bytes) => {
          received += bytes.length;
          if (received >= totalBytes) resolve();
        }),
      );
      const started = performance.now();
      await host.write(Uint8Array.of(1));
      await done;
      seconds = (performance.now() - started) / 1e3;
    } else {
      const done = new Promise((resolve) => device.lines.once('line', resolve));
      const block = new Uint8Array(65_536).map((_, i) => (i * 7919) % 251);
      const started = performance.now();
      for (let sent = 0; sent < totalBytes; sent += block.length) await host.write(block);
      await done;
      seconds = (performance.now() - started) / 1e3;
    }
    return totalBytes / seconds;
  } finally {
    await host.close();
    await device.stop();
  }
}

interface LinkRun {
  framesPerSecond: number;
  bytesPerFrame: number;
  wireBytes: number;
  payloadBytes: number;
}

/** Frames per second over the protocol, from `acquire()` calls timed by their upload or stream phase: the best of `repeats` after a warm-up. */
async function protocolRun(
  settings: Pick<OpuSettings, 'inputRegion' | 'outputRoi'>,
  count: number,
  direction: 'up' | 'down',
  repeats = 3,
): Promise<LinkRun> {
  const emulated = await deviceProcess('emulate');
  const device = new SerialOpuDevice({
    connect: () => openSerialTransport(emulated.path),
    options: { triggerSelfTest: false, timeoutMs: 10_000 },
  });
  try {
    await device.open();
    await device.configure(settings);
    const stride = bytesPerFrame(device.inputSize);
    const tailMask = device.inputSize % 8 === 0 ? 0xff : (1 << (device.inputSize % 8)) - 1;
    const u = seededUniform(4);
    const frames: DmdFrames = {
      count,
      mirrorsPerFrame: device.inputSize,
      data: Uint8Array.from({ length: count * stride }, (_, i) => {
        const byte = Math.floor(u() * 256);
        return (i + 1) % stride === 0 ? byte & tailMask : byte;
      }),
    };
    await device.acquire(frames);
    let best: LinkRun | undefined;
    for (let r = 0; r < repeats; r++) {
      const t = (await device.acquire(frames)).meta.transfer!;
      const perFrame = direction === 'up' ? stride : device.outputSize;
      // Up: the upload of the DMD frames; down: the camera frames' stream (the stub device takes no time).
      const run = {
        framesPerSecond: count / ((direction === 'up' ? t.uploadMs : t.streamMs) / 1e3),
        bytesPerFrame: perFrame,
        wireBytes: direction === 'up' ? t.bytesSent : t.bytesReceived,
        payloadBytes: perFrame * count,
      };
      if (!best || run.framesPerSecond > best.framesPerSecond) best = run;
    }
    return best!;
  } finally {
    await device.close();
    await emulated.stop();
  }
}

/** Round trips of one small request (HEARTBEAT, 8 bytes) to the device process, in ms, sorted. */
async function roundTrips(count: number): Promise<number[]> {
  const emulated = await deviceProcess('emulate');
  const link = new ProtocolLink(await openSerialTransport(emulated.path), { role: 'host' });
  const times: number[] = [];
  try {
    const hello = encodeHello({
      major: PROTOCOL_VERSION,
      minor: 0,
      maxPayloadBytes: 2 ** 20,
      credits: 32,
      chunkBytes: 2 ** 16,
    });
    await link.request(MessageType.hello, hello, MessageType.helloReply, 5000);
    for (let i = 0; i < count + 50; i++) {
      const t = performance.now();
      await link.request(MessageType.heartbeat, encodeHeartbeat(BigInt(i)), MessageType.heartbeatReply, 5000);
      if (i >= 50) times.push(performance.now() - t);
    }
  } finally {
    await link.close();
    await emulated.stop();
  }
  return times.sort((a, b) => a - b);
}

const mb = (bytesPerSecond: number) => (bytesPerSecond / 1e6).toFixed(1);

export async function serialBenchmark(): Promise<string[]> {
  const full = { left: 0, top: 0, width: DMD.widthMirrors, height: DMD.heightMirrors };
  const one = { left: 0, top: 0, width: 1, height: 1 };
  const sensor = { left: 0, top: 0, width: SENSOR.widthPx, height: SENSOR.heightPx };
  const small = { left: 0, top: 0, width: 64, height: 64 };
  // Raw and protocol runs alternate, five rounds, best of each: the pty's own speed drifts by ±20% on this VM.
  const rounds = 5;
  const best = <T>(items: T[], key: (t: T) => number) => items.reduce((a, b) => (key(b) > key(a) ? b : a));
  const measure = async (direction: 'up' | 'down', run: () => Promise<LinkRun>) => {
    const raws: number[] = [];
    const runs: LinkRun[] = [];
    for (let r = 0; r < rounds; r++) {
      raws.push(await rawBytesPerSecond(direction, 64e6));
      runs.push(await run());
    }
    return { raw: Math.max(...raws), run: best(runs, (x) => x.framesPerSecond) };
  };
  const cases = [
    {
      what: `DMD frames up, ${DMD.widthMirrors}×${DMD.heightMirrors} mirrors`,
      ...(await measure('up', () => protocolRun({ inputRegion: full, outputRoi: one }, 200, 'up', 2))),
    },
    {
      what: `camera frames down, ${SENSOR.widthPx}×${SENSOR.heightPx} 8-bit`,
      ...(await measure('down', () => protocolRun({ inputRegion: one, outputRoi: sensor }, 24, 'down', 2))),
    },
    {
      what: 'camera frames down, 64×64 ROI 8-bit',
      ...(await measure('down', () => protocolRun({ inputRegion: one, outputRoi: small }, 4000, 'down', 2))),
    },
  ];
  const rtt = await roundTrips(2000);
  const quantile = (q: number) => rtt[Math.min(rtt.length - 1, Math.floor(q * rtt.length))]!;
  const lines = [
    '## Serial link: the wire protocol over a pseudo-terminal',
    '',
    'Host: this process, `SerialOpuDevice` on serialport. Device: the emulator in its own process ' +
      '(bench/link-device.ts), as a real OPU is its own hardware, backed by a stub that returns precomputed ' +
      'speckle frames at once, so that only the link is measured. Raw: a fresh pty between the same two processes ' +
      'and transports, 64 MB in 64 KiB writes, no framing. Protocol: `acquire()` calls after a warm-up one, timed ' +
      'by their own metadata: for frames up, the upload (UPLOAD_FRAMES pieces of 64 KiB, each acknowledged); for ' +
      'frames down, the stream from ACQUIRE to the last camera byte (64 KiB CAMERA_CHUNKs, or CAMERA_FRAMES packs of ' +
      'small frames, with credits). Raw and protocol runs alternate, five rounds, best of each. ' +
      'Overhead = 1 − protocol payload rate / raw rate.',
    '',
    '| transfer | frame bytes | frames/s | payload MB/s | raw pty MB/s | wire bytes per payload byte | overhead |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const c of cases) {
    const rate = c.run.framesPerSecond * c.run.bytesPerFrame;
    const fps = c.run.framesPerSecond.toFixed(c.run.framesPerSecond < 100 ? 1 : 0);
    lines.push(
      `| ${c.what} | ${c.run.bytesPerFrame.toLocaleString('en')} | ${fps} | ${mb(rate)} | ${mb(c.raw)} | ` +
        `${(c.run.wireBytes / c.run.payloadBytes).toFixed(4)} | **${((1 - rate / c.raw) * 100).toFixed(1)}%** |`,
    );
  }
  lines.push(
    '',
    'Round trip of one small request (HEARTBEAT, 8-byte payload, 2000 after 50 warm-up): median ' +
      `**${quantile(0.5).toFixed(3)} ms**, 99th percentile **${quantile(0.99).toFixed(3)} ms**, ` +
      `max ${rtt.at(-1)!.toFixed(3)} ms.`,
    '',
  );
  return lines;
}
