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
} from '../src/index.js';

/** A device side that answers each request after `delayMs`, echoing its payload with the reply type. */
function echoDevice(delayMs = 0) {
  const [host, device] = memoryTransportPair();
  const deviceLink = new ProtocolLink(device);
  const seen: Frame[] = [];
  deviceLink.onUnsolicited((frame) => {
    seen.push(frame);
    setTimeout(() => {
      if (frame.type === MessageType.reset) {
        void deviceLink.send(MessageType.error, encodeError({ code: 6, message: 'busy' }), frame.requestId);
      } else void deviceLink.send(frame.type | 0x80, frame.payload, frame.requestId);
    }, delayMs);
  });
  return { host, device, deviceLink, seen };
}

describe('protocol link', () => {
  it('matches replies to requests, in any order, and numbers what it sends', async () => {
    const { host, seen } = echoDevice();
    const link = new ProtocolLink(host);
    const replies = await Promise.all(
      [1, 2, 3].map((n) => link.request(MessageType.getSettings, Uint8Array.of(n), MessageType.settings, 1000)),
    );
    expect(replies.map((r) => [r.type, r.payload[0]])).toEqual([
      [MessageType.settings, 1],
      [MessageType.settings, 2],
      [MessageType.settings, 3],
    ]);
    expect(seen.map((f) => f.sequence)).toEqual([0, 1, 2]);
    expect(new Set(seen.map((f) => f.requestId)).size).toBe(3);
    await link.close();
  });

  it('ignores garbage on the line between frames', async () => {
    const { host, device } = echoDevice();
    const link = new ProtocolLink(host);
    await device.write(Uint8Array.from([7, 7, 7, 0, 1, 2, 3]));
    const reply = await link.request(MessageType.heartbeat, Uint8Array.of(9), MessageType.heartbeatReply, 1000);
    expect(reply.payload).toEqual(Uint8Array.of(9));
    await link.close();
  });

  it('an ERROR reply rejects with the device’s code and message', async () => {
    const { host } = echoDevice();
    const link = new ProtocolLink(host);
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
    const link = new ProtocolLink(host);
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
    const link = new ProtocolLink(host);
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
    const link = new ProtocolLink(host);
    const unsolicited: Frame[] = [];
    link.onUnsolicited((frame) => unsolicited.push(frame));
    await device.write(
      encodeFrame({
        version: PROTOCOL_VERSION,
        type: MessageType.heartbeat,
        sequence: 0,
        requestId: 77,
        payload: new Uint8Array(8),
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(unsolicited.map((f) => f.requestId)).toEqual([77]);
    await link.close();
  });
});
