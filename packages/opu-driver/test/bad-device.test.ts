import { crc32 } from 'node:zlib';
import { ArgumentError, seededUniform, TimeoutError } from 'opu-core';
import { OpuEmulator } from 'opu-emulator';
import {
  cobsEncode,
  decodeAcquireStarted,
  decodeHelloReply,
  encodeAcquire,
  encodeAcquireStarted,
  encodeCredit,
  encodeFrame,
  encodeHello,
  encodeHelloReply,
  encodeUploadFrames,
  type Frame,
  FrameDecoder,
  MessageType,
  memoryTransportPair,
  PROTOCOL_VERSION,
  ProtocolError,
  ProtocolLink,
  type Transport,
} from 'opu-protocol';
import { SimulatedOpuDevice } from 'opu-sim';
import { describe, expect, it } from 'vitest';
import { SerialOpuDevice, SettingsMismatchError } from '../src/index.js';

const until = async (condition: () => boolean, timeoutMs = 2000) => {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

/** A host link once the device has accepted its session. */
async function helloed(link: ProtocolLink): Promise<ProtocolLink> {
  const hello = encodeHello({
    major: PROTOCOL_VERSION,
    minor: 0,
    maxPayloadBytes: 1 << 20,
    credits: 8,
    chunkBytes: 1024,
  });
  await link.request(MessageType.hello, hello, MessageType.helloReply, 1000);
  return link;
}

/** An emulator whose every outgoing message passes through `tamper` (which returns the bytes to write instead). */
function tamperedDevice(tamper: (frame: Frame) => Uint8Array | undefined): { host: Transport; device: OpuEmulator } {
  const [host, wire] = memoryTransportPair();
  const decoder = new FrameDecoder(64 * 2 ** 20);
  const tampering: Transport = {
    ...wire,
    write: async (bytes) => {
      for (const frame of decoder.push(bytes)) await wire.write(tamper(frame) ?? encodeFrame(frame));
    },
  };
  const device = new OpuEmulator(new SimulatedOpuDevice({ options: { seed: 1 } }), tampering);
  return { host, device };
}

async function openAgainst(tamper: (frame: Frame) => Uint8Array | undefined, options = {}) {
  const { host, device } = tamperedDevice(tamper);
  await device.start();
  const driver = new SerialOpuDevice({ connect: async () => host, options: { timeoutMs: 300, ...options } });
  return { driver, device };
}

const replyWith = (frame: Frame, change: (reply: ReturnType<typeof decodeHelloReply>) => object) =>
  frame.type === MessageType.helloReply
    ? encodeFrame({
        ...frame,
        payload: encodeHelloReply({
          ...decodeHelloReply(frame.payload),
          ...change(decodeHelloReply(frame.payload)),
        } as never),
      })
    : undefined;

describe('a device that breaks the protocol is refused with a clear error', () => {
  it('a frame header with another protocol version', async () => {
    const { driver } = await openAgainst((frame) => encodeFrame({ ...frame, version: PROTOCOL_VERSION + 1 }));
    const error = await driver.open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as Error).message).toMatch(
      `the peer speaks protocol version ${PROTOCOL_VERSION + 1}; this side speaks ${PROTOCOL_VERSION}`,
    );
  });

  it('a HELLO_REPLY with another major version, or a settings schema the SDK does not know', async () => {
    const major = await openAgainst((frame) => replyWith(frame, () => ({ major: 3 })));
    await expect(major.driver.open()).rejects.toThrow(
      `device speaks protocol version 3; this SDK speaks ${PROTOCOL_VERSION}`,
    );
    const schema = await openAgainst((frame) => replyWith(frame, () => ({ schemaHash: new Uint8Array(32) })));
    await expect(schema.driver.open()).rejects.toThrow(/HELLO_REPLY\.schemaHash: the device's settings schema/);
  });

  it('device info that does not match the schema names the field', async () => {
    const bad = await openAgainst((frame) =>
      replyWith(frame, (reply) => {
        const info = JSON.parse(reply.info);
        info.camera.bitDepth = 9;
        return { info: JSON.stringify(info) };
      }),
    );
    const error = await bad.driver.open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).field).toBe('HELLO_REPLY.info.camera.bitDepth');
    const notJson = await openAgainst((frame) => replyWith(frame, () => ({ info: '{"model":' })));
    await expect(notJson.driver.open()).rejects.toThrow(/device info is not JSON/);
  });

  it('an unknown message type in place of a reply', async () => {
    const { driver } = await openAgainst((frame) =>
      frame.type === MessageType.settings ? encodeFrame({ ...frame, type: 0x42 }) : undefined,
    );
    await expect(driver.open()).rejects.toThrow(/answered with message 0x42, expected 0x82/);
  });

  it('an unknown message type in an acquisition stream', async () => {
    let armed = false;
    const { driver } = await openAgainst((frame) =>
      armed && frame.type === MessageType.cameraChunk ? encodeFrame({ ...frame, type: 0x99 }) : undefined,
    );
    await driver.open();
    armed = true;
    await expect(
      driver.acquire({ count: 1, mirrorsPerFrame: driver.inputSize, data: new Uint8Array(128) }),
    ).rejects.toThrow(/unexpected message 0x99 during an acquisition/);
  });

  it('a line that garbles every camera frame is noisy, not silent: the host re-requests for 4 timeouts, then fails', async () => {
    let armed = false;
    const { driver } = await openAgainst((frame) => {
      if (!armed || frame.type !== MessageType.cameraChunk) return undefined;
      const wire = encodeFrame(frame);
      wire[wire.length - 2] ^= 0x40;
      return wire;
    });
    await driver.open();
    armed = true;
    const started = performance.now();
    const error = await driver
      .acquire({ count: 1, mirrorsPerFrame: driver.inputSize, data: new Uint8Array(128) })
      .catch((e: unknown) => e);
    const elapsedMs = performance.now() - started;
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toMatch(/sent nothing intact for \d+ ms, only damaged frames/);
    // timeoutMs is 300: a silent device would have failed after 300 ms.
    expect(elapsedMs).toBeGreaterThanOrEqual(4 * 300 * 0.9);
    expect(elapsedMs).toBeLessThan(4 * 300 + 1000);
  });

  it('a device that keeps announcing other settings: restored once, then a SettingsMismatchError', async () => {
    let armed = false;
    const { driver } = await openAgainst((frame) => {
      if (!armed || frame.type !== MessageType.acquireStarted) return undefined;
      const started = decodeAcquireStarted(frame.payload);
      const settings = { ...started.settings, exposureUs: started.settings.exposureUs / 2 };
      return encodeFrame({ ...frame, payload: encodeAcquireStarted({ ...started, settings }) });
    });
    await driver.open();
    armed = true;
    const error = await driver
      .acquire({ count: 1, mirrorsPerFrame: driver.inputSize, data: new Uint8Array(128) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SettingsMismatchError);
    expect((error as Error).message).toMatch(/exposureUs 400 → 200/);
    expect(driver.stats.settingsRestored).toBe(1);
  });

  it('a frame larger than the negotiated maximum', async () => {
    const { driver } = await openAgainst(
      (frame) =>
        frame.type === MessageType.settings
          ? encodeFrame({ ...frame, payload: new Uint8Array(10_000).fill(1) })
          : undefined,
      { maxPayloadBytes: 4096 },
    );
    const error = await driver.open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as Error).message).toMatch(/larger than the 4096-byte maximum payload/);
  });

  it('settings the device sends that do not match the schema', async () => {
    const { driver } = await openAgainst((frame) =>
      frame.type === MessageType.settings
        ? encodeFrame({ ...frame, payload: new TextEncoder().encode('{"exposureUs":"long"}') })
        : undefined,
    );
    await expect(driver.open()).rejects.toThrow(/SETTINGS\.exposureUs: the device sent an invalid SETTINGS/);
  });

  it('the handshake skips noise on the line before the reply', async () => {
    const { driver } = await openAgainst((frame) => {
      if (frame.type !== MessageType.helloReply) return undefined;
      const noise = Uint8Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff);
      const reply = encodeFrame(frame);
      const out = new Uint8Array(noise.length + reply.length);
      out.set(noise);
      out.set(reply, noise.length);
      return out;
    });
    await driver.open();
    expect(driver.info.model).toBe('opu-sim');
    await driver.close();
  });

  it('a silent port fails the handshake with a TimeoutError after handshakeTimeoutMs', async () => {
    const [host] = memoryTransportPair();
    const driver = new SerialOpuDevice({ connect: async () => host, options: { handshakeTimeoutMs: 500 } });
    const started = performance.now();
    await expect(driver.open()).rejects.toBeInstanceOf(TimeoutError);
    expect(performance.now() - started).toBeGreaterThanOrEqual(450);
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('a device of protocol version 1 (16-byte headers) fails the handshake with a hint at the version', async () => {
    const [host, device] = memoryTransportPair();
    // Whatever the host says, the device answers with a HELLO_REPLY framed as version 1 did.
    device.onData(() => {
      const raw = new Uint8Array(16 + 4);
      const view = new DataView(raw.buffer);
      view.setUint8(0, 1);
      view.setUint8(1, MessageType.helloReply);
      view.setUint32(8, 4, true);
      view.setUint32(12, crc32(raw.subarray(16), crc32(raw.subarray(0, 12))), true);
      void device.write(Uint8Array.from([0, ...cobsEncode(raw), 0]));
    });
    const driver = new SerialOpuDevice({ connect: async () => host, options: { handshakeTimeoutMs: 500 } });
    const error = await driver.open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toMatch(/no HELLO_REPLY within 500 ms \(\d+ frames came that did not decode\)/);
    expect((error as Error).message).toMatch(`speaks protocol version ${PROTOCOL_VERSION}`);
  });

  it('bad driver options are ArgumentErrors naming the option', () => {
    const connect = async () => memoryTransportPair()[0];
    expect(() => new SerialOpuDevice({ connect, options: { timeoutMs: -1 } })).toThrow(ArgumentError);
    expect(() => new SerialOpuDevice({ connect, options: { chunkBytes: 2 } })).toThrow(/options\.chunkBytes/);
  });
});

describe('the emulator refuses bad requests with protocol errors', () => {
  async function raw() {
    const [host, wire] = memoryTransportPair();
    const device = new OpuEmulator(new SimulatedOpuDevice({ options: { seed: 1 } }), wire);
    await device.start();
    return helloed(new ProtocolLink(host, { role: 'host' }));
  }

  it('another protocol version, an unknown type, a malformed payload, settings out of range', async () => {
    const link = await raw();
    const hello = (major: number) =>
      encodeHello({ major, minor: 0, maxPayloadBytes: 1 << 20, credits: 8, chunkBytes: 1024 });
    await expect(
      link.request(MessageType.hello, hello(PROTOCOL_VERSION + 1), MessageType.helloReply, 500),
    ).rejects.toThrow(new RegExp(`protocol version ${PROTOCOL_VERSION + 1} is not supported.*\\(code 7\\)`));
    await expect(link.request(0x33, new Uint8Array(0), 0xb3, 500)).rejects.toThrow(
      /unknown message type 0x33 \(code 1\)/,
    );
    await expect(
      link.request(MessageType.acquire, Uint8Array.of(1, 2), MessageType.acquireStarted, 500),
    ).rejects.toThrow(/ACQUIRE payload ends before its field 'count'.*\(code 2\)/);
    const setting = new TextEncoder().encode(JSON.stringify({ exposureUs: 1e9 }));
    await expect(link.request(MessageType.setSettings, setting, MessageType.settings, 500)).rejects.toThrow(
      /settings\.exposureUs.*\(code 3\)/,
    );
    await expect(
      link.request(MessageType.acquire, new Uint8Array(13).fill(0), MessageType.acquireStarted, 500),
    ).rejects.toThrow(/bytes per frame.*\(code 2\)/);
    await link.close();
  });

  it('frames whose CRC does not match what was uploaded are not shown', async () => {
    const link = await raw();
    const acquire = new Uint8Array(13);
    const view = new DataView(acquire.buffer);
    view.setUint32(0, 2, true);
    view.setUint32(4, 128, true);
    view.setUint32(9, 0xdeadbeef, true);
    // The device's own words, without the name of the error class it used.
    await expect(link.request(MessageType.acquire, acquire, MessageType.acquireStarted, 500)).rejects.toThrow(
      /the device refused: the 2 frames uploaded do not match their CRC \(code 4\)/,
    );
    await link.close();
  });
});

describe('the emulator under random requests', () => {
  it('answers 2 000 random messages with replies or typed ERRORs, and still works afterwards', async () => {
    const [host, wire] = memoryTransportPair();
    const device = new OpuEmulator(new SimulatedOpuDevice({ options: { seed: 2 } }), wire);
    await device.start();
    const link = await helloed(new ProtocolLink(host, { role: 'host' }));
    const random = seededUniform(9);
    const types = [...Object.values(MessageType), 0x00, 0x42, 0x7f];
    const outcomes = { replies: 0, refusals: 0, silent: 0 };
    for (let i = 0; i < 2000; i++) {
      const type = types[Math.floor(random() * types.length)]!;
      const payload = Uint8Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256));
      // Whatever comes back must be a frame or a device refusal; silence is allowed (unsolicited types, credits).
      const reply = await link.request(type, payload, type | 0x80, 20).then(
        () => 'reply',
        (error: unknown) => {
          if (error instanceof TimeoutError) return 'silent';
          expect(error).toBeInstanceOf(ProtocolError);
          return 'refusal';
        },
      );
      outcomes[reply === 'reply' ? 'replies' : reply === 'refusal' ? 'refusals' : 'silent']++;
    }
    expect(outcomes.refusals).toBeGreaterThan(500);
    const settings = await link.request(MessageType.getSettings, new Uint8Array(0), MessageType.settings, 500);
    expect(JSON.parse(new TextDecoder().decode(settings.payload)).exposureUs).toBeGreaterThan(0);
    await link.close();
  });
});

describe('a new session on the emulator', () => {
  it('abandons the acquisition a previous host left waiting for credit: nothing of it is sent afterwards', async () => {
    const [host, wire] = memoryTransportPair();
    const emulator = new OpuEmulator(new SimulatedOpuDevice({ options: { seed: 3 } }), wire);
    await emulator.start();
    // The first host allows one camera message ahead, asks for 200 small frames, and never grants more credit.
    const first = new ProtocolLink(host, { role: 'host' });
    const hello = (credits: number) =>
      encodeHello({ major: PROTOCOL_VERSION, minor: 0, maxPayloadBytes: 1 << 20, credits, chunkBytes: 4096 });
    await first.request(MessageType.hello, hello(1), MessageType.helloReply, 1000);
    const frames = new Uint8Array(200 * 128).fill(0x21);
    await first.request(
      MessageType.uploadFrames,
      encodeUploadFrames({ offset: 0, bytes: frames }),
      MessageType.uploadDone,
      1000,
    );
    const id = first.allocateRequestId();
    const stream: number[] = [];
    first.subscribe(id, (frame) => stream.push(frame.type));
    await first.send(
      MessageType.acquire,
      encodeAcquire({ count: 200, bytesPerFrame: 128, trigger: 1, framesCrc: crc32(frames) }),
      id,
    );
    await until(() => stream.length >= 2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // 2 KiB frames, one chunk each: the one credit let one through.
    expect(stream).toEqual([MessageType.acquireStarted, MessageType.cameraChunk]);
    // A second host opens a session: the device drops the stalled acquisition rather than keep it for later.
    const second = new ProtocolLink(host, { role: 'host' });
    await second.request(MessageType.hello, hello(8), MessageType.helloReply, 1000);
    await until(() => emulator.stats.abandonedAcquisitions === 1);
    // Both links hear everything on the line; the first accepts only its own session's frames.
    const accepted = () => first.stats.framesReceived - first.stats.staleFrames;
    const heard = accepted();
    await first.send(MessageType.credit, encodeCredit(1000), id);
    const settings = await second.request(MessageType.getSettings, new Uint8Array(0), MessageType.settings, 1000);
    expect(settings.payload.length).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Nothing more of the first session: its late CREDIT was stale, and the acquisition is gone.
    expect(accepted()).toBe(heard);
    expect(stream).toHaveLength(2);
    expect(emulator.linkStats.staleFrames).toBeGreaterThanOrEqual(1);
    expect(emulator.stats.sessions).toBe(2);
  });
});
