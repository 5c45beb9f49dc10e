import { closeSync } from 'node:fs';
import { DeviceError } from 'opu-core';
import { openPseudoTerminal } from 'opu-native';
import { MessageType, ProtocolLink, ttyTransport } from 'opu-protocol';
import { describe, expect, it } from 'vitest';
import { openSerialTransport } from '../src/index.js';

/** The driver's link over serialport on a real pseudo-terminal; the other end echoes requests as the device would. */
describe('over a real serial line (pseudo-terminal + serialport)', () => {
  it('carries requests and replies of every byte value, large and small, intact', async () => {
    const pty = openPseudoTerminal();
    const device = new ProtocolLink(ttyTransport(pty.masterFd), { role: 'device' });
    device.onUnsolicited((frame) => void device.send(frame.type | 0x80, frame.payload, frame.requestId, frame.session));
    const host = new ProtocolLink(await openSerialTransport(pty.path), { role: 'host' });
    try {
      await host.request(MessageType.hello, new Uint8Array(0), MessageType.helloReply, 10_000);
      const payloads = [
        new Uint8Array(0),
        Uint8Array.from({ length: 256 }, (_, i) => i),
        Uint8Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 256),
        new Uint8Array(3000),
      ];
      for (const payload of payloads) {
        const reply = await host.request(MessageType.uploadFrames, payload, MessageType.uploadDone, 10_000);
        expect(reply.type).toBe(0x84);
        expect(reply.payload).toEqual(payload);
      }
      expect(Object.values(host.decoder.faults).every((n) => n === 0)).toBe(true);
    } finally {
      await host.close();
      await device.close();
      closeSync(pty.slaveFd);
    }
  });

  it('a port that does not exist is a DeviceError saying what to check', async () => {
    await expect(openSerialTransport('/dev/does-not-exist')).rejects.toBeInstanceOf(DeviceError);
    await expect(openSerialTransport('/dev/does-not-exist')).rejects.toThrow(/cannot open \/dev\/does-not-exist/);
  });
});
