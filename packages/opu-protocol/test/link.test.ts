import { DeviceError, TimeoutError } from 'opu-core';
import { describe, expect, it } from 'vitest';
import {
  encodeError,
  encodeFrame,
  type Frame,
  MessageType,
  memoryTransportPair,
  PROTOCOL_VERSION,
  ProtocolError,
  ProtocolLink,
  type Transport,
} from '../src/index.js';

/** A device side that answers each request after `delayMs`, echoing its payload with the reply type. */
function echoDevice(delayMs = 0) {
  const [host, device] = memoryTransportPair();
  const deviceLink = new ProtocolLink(device, { role: 'device' });
  const seen: Frame[] = [];
  deviceLink.onUnsolicited((frame) => {
    seen.push(frame);
    setTimeout(() => {
      if (frame.type === MessageType.reset) {
        void deviceLink.send(MessageType.error, encodeError({ code: 6, message: 'busy' }), frame.requestId);
      } else void deviceLink.send(frame.type | 0x80, frame.payload, frame.requestId, frame.session);
    }, delayMs);
  });
  return { host, device, deviceLink, seen };
}

/** A host link to `transport` whose session the device has accepted (its HELLO answered). */
async function hostLink(transport: Transport, helloTimeoutMs = 1000): Promise<ProtocolLink> {
  const link = new ProtocolLink(transport, { role: 'host' });
  await link.request(MessageType.hello, new Uint8Array(0), MessageType.helloReply, helloTimeoutMs);
  return link;
}

describe('protocol link', () => {
  it('matches replies to requests, in any order, and numbers what it sends', async () => {
    const { host, seen } = echoDevice();
    const link = await hostLink(host);
    const replies = await Promise.all(
      [1, 2, 3].map((n) => link.request(MessageType.getSettings, Uint8Array.of(n), MessageType.settings, 1000)),
    );
    expect(replies.map((r) => [r.type, r.payload[0]])).toEqual([
      [MessageType.settings, 1],
      [MessageType.settings, 2],
      [MessageType.settings, 3],
    ]);
    expect(seen.map((f) => f.sequence)).toEqual([0, 1, 2, 3]);
    expect(new Set(seen.map((f) => f.session))).toEqual(new Set([link.session]));
    expect(new Set(seen.map((f) => f.requestId)).size).toBe(4);
    await link.close();
  });

  it('ignores garbage on the line between frames', async () => {
    const { host, device } = echoDevice();
    const link = await hostLink(host);
    await device.write(Uint8Array.from([7, 7, 7, 0, 1, 2, 3]));
    const reply = await link.request(MessageType.heartbeat, Uint8Array.of(9), MessageType.heartbeatReply, 1000);
    expect(reply.payload).toEqual(Uint8Array.of(9));
    await link.close();
  });

  it('an ERROR reply rejects with the device’s code and message', async () => {
    const { host } = echoDevice();
    const link = await hostLink(host);
    await expect(link.request(MessageType.reset, new Uint8Array(), MessageType.resetDone, 1000)).rejects.toThrow(
      ProtocolError,
    );
    await expect(link.request(MessageType.reset, new Uint8Array(), MessageType.resetDone, 1000)).rejects.toThrow(
      /busy \(code 6\)/,
    );
    await link.close();
  });

  it('no reply within the timeout is a TimeoutError, on time', async () => {
    const { host } = echoDevice(500);
    const link = await hostLink(host, 2000);
    const started = performance.now();
    await expect(
      link.request(MessageType.getSettings, new Uint8Array(), MessageType.settings, 50),
    ).rejects.toBeInstanceOf(TimeoutError);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(45);
    expect(elapsed).toBeLessThan(400);
    await link.close();
  });

  it('a closed link rejects what is pending and refuses new requests', async () => {
    const { host, device } = echoDevice(10_000);
    const link = new ProtocolLink(host, { role: 'host' });
    const pending = link.request(MessageType.getSettings, new Uint8Array(), MessageType.settings, 60_000);
    await device.close();
    await expect(pending).rejects.toBeInstanceOf(DeviceError);
    await expect(pending).rejects.toThrow(/serial link closed/);
    await expect(link.request(MessageType.getSettings, new Uint8Array(), MessageType.settings, 100)).rejects.toThrow(
      /closed/,
    );
  });

  it('a reply with an unknown request id goes to the unsolicited listeners, not to a request', async () => {
    const [host, device] = memoryTransportPair();
    const link = new ProtocolLink(host, { role: 'host' });
    const unsolicited: Frame[] = [];
    link.onUnsolicited((frame) => unsolicited.push(frame));
    await device.write(
      encodeFrame({
        version: PROTOCOL_VERSION,
        type: MessageType.heartbeat,
        session: link.session,
        sequence: 0,
        requestId: 77,
        payload: new Uint8Array(8),
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(unsolicited.map((f) => f.requestId)).toEqual([77]);
    await link.close();
  });

  it('ignores and counts frames of another session and replays of this one; the link goes on', async () => {
    const { host, device } = echoDevice();
    const link = await hostLink(host);
    const heard = link.stats.framesReceived;
    const frame = (session: number, sequence: number) =>
      encodeFrame({
        version: PROTOCOL_VERSION,
        type: MessageType.heartbeatReply,
        session,
        sequence,
        requestId: 0,
        payload: new Uint8Array(8),
      });
    // The device answered the HELLO with sequence 0: another session, then sequence 0 again, are stale.
    await device.write(frame(link.session ^ 1, 5));
    await device.write(frame(link.session, 0));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(link.stats.framesReceived - heard).toBe(2);
    expect(link.stats.staleFrames).toBe(2);
    expect(link.closed).toBe(false);
    const reply = await link.request(MessageType.heartbeat, Uint8Array.of(4), MessageType.heartbeatReply, 1000);
    expect(reply.payload).toEqual(Uint8Array.of(4));
    await link.close();
  });

  it('each host link has its own session nonce', () => {
    const sessions = new Set(
      Array.from({ length: 50 }, () => new ProtocolLink(memoryTransportPair()[0], { role: 'host' }).session),
    );
    expect(sessions.size).toBe(50);
    expect(sessions.has(0)).toBe(false);
  });

  it('a frame of another version or an overrun ends a host session, but never a device link', async () => {
    const { host, device, deviceLink } = echoDevice();
    const link = await hostLink(host);
    const foreign = encodeFrame({
      version: PROTOCOL_VERSION + 1,
      type: MessageType.getSettings,
      session: link.session,
      sequence: 9,
      requestId: 1,
      payload: new Uint8Array(0),
    });
    await host.write(foreign);
    await host.write(new Uint8Array(3 * 2 ** 20).fill(7));
    await host.write(Uint8Array.of(0));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(deviceLink.closed).toBe(false);
    expect(deviceLink.stats.foreignVersionFrames).toBe(1);
    expect(deviceLink.decoder.faults.overrun).toBe(1);
    // The device still answers this session.
    const reply = await link.request(MessageType.heartbeat, Uint8Array.of(5), MessageType.heartbeatReply, 1000);
    expect(reply.payload).toEqual(Uint8Array.of(5));
    await device.write(foreign);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(link.closed).toBe(true);
  });
});
