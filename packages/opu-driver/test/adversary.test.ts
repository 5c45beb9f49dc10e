/**
 * A third party on the serial line (docs/opu-driver.md, "Sharing the port"): bytes and frames injected, replayed or
 * forged through the pseudo-terminal, from outside the emulator's process. Whatever it does, every result is exact
 * or the call fails with a typed error; and the device survives to serve the next host.
 *
 * The device is an ideal camera with a steady laser and medium: its frames depend on the DMD frames and the settings
 * only, so a fresh simulator gives the exact expected pixels whatever the device went through before.
 */
import { DeviceError, type DmdFrames, type SettingsPatch, seededUniform } from 'opu-core';
import { encodeFrame, encodeHello, type Frame, MessageType, PROTOCOL_VERSION } from 'opu-protocol';
import { SimulatedOpuDevice, simOptionsFromParams } from 'opu-sim';
import { describe, expect, it } from 'vitest';
import type { SerialOpuDevice } from '../src/index.js';
import { randomFrames, serialDevice, spawnEmulator } from './helpers.js';
import { LineTap, type TappedFrame } from './tap.js';

const deviceUrl = (seed: number) => `sim://?seed=${seed}&camera=ideal&laserFluctuationRms=0`;
const ROI: SettingsPatch = { outputRoi: { left: 4, top: 2, width: 32, height: 16 } };
/**
 * Timeouts long enough for the device process's first acquisition on the TypeScript kernels (OPU_NATIVE=0), which
 * computes its transmission matrix while the host counts silence; lost frames are re-requested within 200 ms anyway.
 */
const HOST_OPTIONS = { timeoutMs: 3000, retries: 20, handshakeTimeoutMs: 5000 };

/** The camera frames an intact device gives for `frames` under `settings` (the host's: all of them). */
async function expectedPixels(seed: number, settings: SettingsPatch, frames: DmdFrames) {
  const sim = new SimulatedOpuDevice({ options: simOptionsFromParams(new Map(new URL(deviceUrl(seed)).searchParams)) });
  await sim.open();
  await sim.configure(settings);
  const shot = await sim.acquire(frames);
  await sim.close();
  return shot.data;
}

/** The emulator as its own process, and a tap on its line; both go when the test ends. */
async function tappedDevice(seed: number) {
  const emulated = await spawnEmulator(deviceUrl(seed));
  const tap = await LineTap.open(emulated.path);
  return {
    emulated,
    tap,
    async [Symbol.asyncDispose]() {
      await tap.close();
      await emulated.kill();
    },
  };
}

/** A host through the tap, opened and configured. */
async function openHost(tap: LineTap, patch: SettingsPatch = ROI, options = {}): Promise<SerialOpuDevice> {
  const host = serialDevice(tap.path, { ...HOST_OPTIONS, ...options });
  await host.open();
  await host.configure(patch);
  return host;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A frame built from a recorded one with some fields changed, with a valid CRC: a replay aimed at one request. */
const reframe = (tapped: TappedFrame & { frame: Frame }, change: Partial<Frame>) =>
  encodeFrame({ ...tapped.frame, ...change });

const isCamera = (t: TappedFrame) =>
  t.frame?.type === MessageType.cameraFrames || t.frame?.type === MessageType.cameraChunk;

describe('a device survives any byte sequence and serves the next host exactly', () => {
  it('after a CRC-valid frame of another protocol version', async () => {
    await using line = await tappedDevice(41);
    line.tap.forwardToHost = false;
    const hello = encodeHello({
      major: PROTOCOL_VERSION + 1,
      minor: 0,
      maxPayloadBytes: 1 << 20,
      credits: 8,
      chunkBytes: 4096,
    });
    for (const type of [MessageType.hello, MessageType.getSettings]) {
      const frame = { version: PROTOCOL_VERSION + 1, type, session: 7, sequence: 1, requestId: 1, payload: hello };
      await line.tap.inject('toDevice', encodeFrame(frame));
    }
    await sleep(200);
    line.tap.forwardToHost = true;
    await using host = await openHost(line.tap);
    const frames = randomFrames(12, host.inputSize, 1);
    expect((await host.acquire(frames)).data).toEqual(await expectedPixels(41, host.settings, frames));
  });

  it('after 1.2 MB without a frame delimiter', async () => {
    await using line = await tappedDevice(42);
    line.tap.forwardToHost = false;
    const random = seededUniform(3);
    await line.tap.inject(
      'toDevice',
      Uint8Array.from({ length: 1_200_000 }, () => 1 + Math.floor(random() * 255)),
    );
    await sleep(200);
    line.tap.forwardToHost = true;
    await using host = await openHost(line.tap);
    const frames = randomFrames(12, host.inputSize, 2);
    expect((await host.acquire(frames)).data).toEqual(await expectedPixels(42, host.settings, frames));
  });

  it('after 10 000 random and mutated frames from a host', async () => {
    await using line = await tappedDevice(43);
    {
      // A real session first, to have real frames of every request to mutate.
      await using first = await openHost(line.tap, { ...ROI, exposureUs: 300 });
      await first.acquire(randomFrames(20, first.inputSize, 3));
    }
    const real = line.tap.decoded('toDevice');
    line.tap.forwardToHost = false;
    const random = seededUniform(11);
    const int = (n: number) => Math.floor(random() * n);
    const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(256));
    // Forged in the session the device is in, with ever newer sequence numbers: these reach its request handlers.
    const current = real.at(-1)!.frame;
    let sequence = current.sequence;
    const mutated = (): Uint8Array => {
      const { frame, wire } = real[int(real.length)]!;
      switch (int(9)) {
        case 0: // noise, without or with delimiters
          return bytes(1 + int(300));
        case 1: {
          // a real frame with a byte flipped (its CRC no longer holds)
          const copy = wire.slice();
          copy[1 + int(copy.length - 2)] ^= 1 + int(255);
          return copy;
        }
        case 2: // a real frame with a valid CRC, its payload's bytes changed
          return encodeFrame({ ...frame, payload: frame.payload.map((b) => (random() < 0.1 ? int(256) : b)) });
        case 3: // header fields changed: type, session, sequence, request id, version
          return encodeFrame({
            ...frame,
            type: random() < 0.5 ? frame.type : int(256),
            session: random() < 0.5 ? frame.session : int(2 ** 32),
            sequence: random() < 0.5 ? frame.sequence : int(2 ** 32),
            requestId: random() < 0.5 ? frame.requestId : int(2 ** 32),
            version: random() < 0.9 ? frame.version : int(256),
          });
        case 4: // a truncated or extended payload
          return encodeFrame({
            ...frame,
            payload:
              random() < 0.5
                ? frame.payload.slice(0, int(frame.payload.length + 1))
                : new Uint8Array([...frame.payload, ...bytes(1 + int(40))]),
          });
        case 5: // a replay as it was
          return wire;
        case 6: // a real request's payload, mutated, in the current session
          return encodeFrame({
            ...frame,
            session: current.session,
            sequence: ++sequence,
            payload: frame.payload.map((b) => (random() < 0.05 ? int(256) : b)),
          });
        default: // any type, random payload, in the current session
          return encodeFrame({
            ...frame,
            type: int(256),
            session: current.session,
            sequence: ++sequence,
            requestId: int(2 ** 32),
            payload: bytes(int(64)),
          });
      }
    };
    for (let i = 0; i < 10_000; i++) {
      await line.tap.inject('toDevice', mutated());
      // Now and then, let the device catch up: the line is slow compared with this loop.
      if (i % 200 === 199) await sleep(20);
    }
    await sleep(500);
    line.tap.forwardToHost = true;
    expect(line.emulated.process.exitCode).toBeNull();
    // It heard them: it refused thousands (each refusal is a line on its stderr).
    expect(line.emulated.stderr.length).toBeGreaterThan(1000);
    await using host = await openHost(line.tap);
    const frames = randomFrames(16, host.inputSize, 4);
    expect((await host.acquire(frames)).data).toEqual(await expectedPixels(43, host.settings, frames));
  });
});

describe('frames of an earlier session are never used', () => {
  it('camera frames replayed toward the host right after its ACQUIRE, with its request id, are ignored', async () => {
    await using line = await tappedDevice(44);
    const count = 30;
    let earlier: (TappedFrame & { frame: Frame })[];
    {
      await using first = await openHost(line.tap);
      const before = line.tap.frames.length;
      await first.acquire(randomFrames(count, first.inputSize, 5));
      earlier = line.tap.frames.slice(before).filter(isCamera) as typeof earlier;
    }
    expect(earlier.length).toBeGreaterThan(0);
    await using host = await openHost(line.tap);
    // The moment the host asks for an acquisition, the earlier session's frames arrive first, with the new id.
    let replayed = 0;
    line.tap.onFrame((t) => {
      if (t.direction !== 'toDevice' || t.frame?.type !== MessageType.acquire) return;
      for (const old of earlier) void line.tap.inject('toHost', reframe(old, { requestId: t.frame.requestId }));
      replayed += earlier.length;
    });
    const frames = randomFrames(count, host.inputSize, 6);
    const shot = await host.acquire(frames);
    expect(replayed).toBe(earlier.length);
    expect(shot.data).toEqual(await expectedPixels(44, host.settings, frames));
    expect(shot.meta.transfer!.staleFrames).toBeGreaterThanOrEqual(earlier.length);
  });

  it('requests of an earlier session replayed toward the device change nothing', async () => {
    await using line = await tappedDevice(45);
    {
      await using first = await openHost(line.tap, { ...ROI, exposureUs: 400 });
      await first.acquire(randomFrames(10, first.inputSize, 7));
    }
    const requests = line.tap
      .decoded('toDevice')
      .filter((t) =>
        [MessageType.setSettings, MessageType.uploadFrames, MessageType.acquire, MessageType.reset].includes(
          t.frame.type as never,
        ),
      );
    const patch = { ...ROI, exposureUs: 1414, frameTimeUs: 2000 };
    await using host = await openHost(line.tap, patch);
    line.tap.onFrame((t) => {
      // After each request of the new session, the old session's requests, as they were.
      if (t.direction === 'toDevice' && t.frame?.type !== MessageType.credit) {
        for (const old of requests) void line.tap.inject('toDevice', old.wire);
      }
    });
    const frames = randomFrames(10, host.inputSize, 8);
    const shot = await host.acquire(frames);
    expect(shot.data).toEqual(await expectedPixels(45, host.settings, frames));
  });
});

describe('the host uses the settings each frame was taken with', () => {
  /** A host that set exposure 400 µs and then 1414 µs; the tap holds the 400 µs SET_SETTINGS. */
  async function afterTwoExposures(line: { tap: LineTap }) {
    const host = await openHost(line.tap, { ...ROI, exposureUs: 400 });
    const earlier = line.tap.decoded('toDevice', MessageType.setSettings).at(-1)!;
    await host.configure({ exposureUs: 1414, frameTimeUs: 2000 });
    return { host, earlier };
  }

  it('its own earlier SET_SETTINGS replayed toward the device after a newer one', async () => {
    await using line = await tappedDevice(46);
    const { host, earlier } = await afterTwoExposures(line);
    await using _ = host;
    await sleep(5 + Math.random() * 15);
    await line.tap.inject('toDevice', earlier.wire);
    await sleep(50);
    const frames = randomFrames(16, host.inputSize, 9);
    const shot = await host.acquire(frames);
    expect(shot.meta.exposureUs).toBe(1414);
    expect(shot.data).toEqual(await expectedPixels(46, { ...ROI, exposureUs: 1414, frameTimeUs: 2000 }, frames));
  });

  it('settings changed by another party in the current session: restored and the batch repeated', async () => {
    await using line = await tappedDevice(47);
    const { host, earlier } = await afterTwoExposures(line);
    await using _ = host;
    // A forgery, not a replay: the current session, the next sequence number, exposure 400 µs.
    const last = line.tap.decoded('toDevice').at(-1)!.frame;
    const forged = reframe(earlier, { session: last.session, sequence: last.sequence + 1, requestId: 0x7fff_0000 });
    await line.tap.inject('toDevice', forged);
    await sleep(50);
    const frames = randomFrames(16, host.inputSize, 10);
    const shot = await host.acquire(frames);
    expect(shot.meta.exposureUs).toBe(1414);
    expect(shot.data).toEqual(await expectedPixels(47, { ...ROI, exposureUs: 1414, frameTimeUs: 2000 }, frames));
    expect(shot.meta.transfer!.settingsRestored).toBe(1);
  });

  it('a forged copy of a frame already received, with other pixels, fails the call with a typed error', async () => {
    await using line = await tappedDevice(48);
    await using host = await openHost(line.tap);
    let forged = false;
    line.tap.onFrame((t) => {
      if (forged || t.direction !== 'toHost' || !isCamera(t)) return;
      forged = true;
      const frame = t.frame!;
      const payload = frame.payload.slice();
      payload[payload.length - 1] ^= 0xff;
      void line.tap.inject('toHost', encodeFrame({ ...frame, sequence: frame.sequence + 1, payload }));
    });
    // Several packs: the forged copy of the first arrives while the acquisition still waits for the others.
    const error = await host.acquire(randomFrames(300, host.inputSize, 11)).catch((e: unknown) => e);
    expect(forged).toBe(true);
    expect(error).toBeInstanceOf(DeviceError);
    expect((error as Error).message).toMatch(/two different copies of camera frame/);
    // The next call is exact again.
    const frames = randomFrames(8, host.inputSize, 12);
    expect((await host.acquire(frames)).data).toEqual(await expectedPixels(48, host.settings, frames));
  });
});

describe('a program that reads the port and takes frames meant for the host', () => {
  it('costs retries, never a wrong value', async () => {
    await using line = await tappedDevice(50);
    await using host = await openHost(
      line.tap,
      { outputRoi: { left: 0, top: 0, width: 64, height: 40 } },
      { chunkBytes: 1024 },
    );
    const random = seededUniform(17);
    let stolen = 0;
    let exact = 0;
    // One frame in 20 toward the host, whatever it is: replies, camera chunks, the end of an acquisition.
    line.tap.steal = (t) => t.direction === 'toHost' && random() < 0.05 && ++stolen > 0;
    for (const seed of [14, 15, 16]) {
      const frames = randomFrames(24, host.inputSize, seed);
      const shot = await host.acquire(frames).catch((error: Error) => error);
      if (shot instanceof Error) {
        expect(shot).toBeInstanceOf(DeviceError);
        continue;
      }
      expect(shot.data).toEqual(await expectedPixels(50, host.settings, frames));
      exact++;
    }
    expect(exact).toBeGreaterThan(0);
    expect(stolen).toBeGreaterThan(5);
    expect(host.stats.retries).toBeGreaterThan(0);
  });
});

describe('a host killed mid-batch', () => {
  it('the device abandons its acquisition, and the next host gets exact frames', async () => {
    await using line = await tappedDevice(49);
    const killed = await spawnEmulatorHost(line.tap.path);
    // Killed once camera frames flow: the device is mid-batch, with frames in flight toward a dead host.
    await new Promise<void>((resolve) => {
      let seen = 0;
      line.tap.onFrame((t) => {
        if (t.direction === 'toHost' && isCamera(t) && ++seen === 20) resolve();
      });
    });
    await killed.kill();
    await using host = await openHost(line.tap);
    const frames = randomFrames(40, host.inputSize, 13);
    expect((await host.acquire(frames)).data).toEqual(await expectedPixels(49, host.settings, frames));
  });
});

/** A host in a process of its own, acquiring one long batch through `path`, to be killed mid-batch. */
async function spawnEmulatorHost(path: string) {
  const { spawn } = await import('node:child_process');
  const script = `
    import { SerialOpuDevice, openSerialTransport } from './packages/opu-driver/src/index.ts';
    import { allocateDmdFrames } from 'opu-core';
    const device = new SerialOpuDevice({ connect: () => openSerialTransport(${JSON.stringify(path)}) });
    await device.open();
    await device.configure(${JSON.stringify(ROI)});
    const frames = allocateDmdFrames(4000, device.inputSize);
    frames.data.fill(0x5a);
    await device.acquire(frames);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: new URL('../../..', import.meta.url).pathname,
    stdio: 'ignore',
  });
  return {
    kill: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}
