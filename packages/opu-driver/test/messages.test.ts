import fc from 'fast-check';
import { DeviceError } from 'opu-core';
import { describe, expect, it } from 'vitest';
import {
  decodeAcquire,
  decodeAcquireDone,
  decodeCameraChunk,
  decodeCredit,
  decodeError,
  decodeHeartbeat,
  decodeHello,
  decodeHelloReply,
  decodeJson,
  decodeResendChunk,
  decodeUploadFrames,
  encodeAcquire,
  encodeAcquireDone,
  encodeCameraChunk,
  encodeCredit,
  encodeError,
  encodeHeartbeat,
  encodeHello,
  encodeHelloReply,
  encodeJson,
  encodeResendChunk,
  encodeUploadFrames,
  MessageType,
  messageTypeName,
  ProtocolError,
} from '../src/index.js';

const hello = fc.record({
  major: fc.integer({ min: 0, max: 255 }),
  minor: fc.integer({ min: 0, max: 255 }),
  maxPayloadBytes: fc.integer({ min: 0, max: 0xffff_ffff }),
  credits: fc.integer({ min: 0, max: 0xffff }),
});

describe('message payloads (docs/protocol.md §2)', () => {
  it('round-trip, with the layout of the table', () => {
    fc.assert(
      fc.property(
        hello,
        fc.integer({ min: 0, max: 0xffff_ffff }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.string(),
        (h, capabilities, schemaHash, info) => {
          expect(decodeHello(encodeHello(h))).toEqual(h);
          const reply = { ...h, capabilities, schemaHash, info };
          expect(decodeHelloReply(encodeHelloReply(reply))).toEqual(reply);
        },
      ),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff_ffff }),
        fc.integer({ min: 0, max: 0xfffe }),
        fc.uint8Array({ maxLength: 300 }),
        (frame, chunk, pixels) => {
          const m = { frame, chunk, chunks: chunk + 1, offset: 7 * chunk, pixels };
          expect(decodeCameraChunk(encodeCameraChunk(m))).toEqual(m);
        },
      ),
    );
    // Larger than the writer's first buffer: every field written after it grows must land in the new one.
    const long = {
      major: 1,
      minor: 0,
      maxPayloadBytes: 9,
      credits: 4,
      capabilities: 5,
      schemaHash: new Uint8Array(32).fill(1),
      info: 'x'.repeat(1000),
    };
    expect(decodeHelloReply(encodeHelloReply(long))).toEqual(long);
    expect(decodeCredit(encodeCredit(0xffff_fff0))).toBe(0xffff_fff0);
    expect(decodeHeartbeat(encodeHeartbeat(2n ** 63n + 5n))).toBe(2n ** 63n + 5n);
    expect(decodeError(encodeError({ code: 3, message: 'exposureUs: too long' }))).toEqual({
      code: 3,
      message: 'exposureUs: too long',
    });
    // HELLO: major, minor, maxPayload u32 LE, credits u16 LE.
    expect(Array.from(encodeHello({ major: 1, minor: 2, maxPayloadBytes: 0x0102_0304, credits: 0x0506 }))).toEqual([
      1, 2, 4, 3, 2, 1, 6, 5,
    ]);
  });

  it('a truncated, padded or malformed payload is a ProtocolError naming the message and field', () => {
    const h = encodeHello({ major: 1, minor: 0, maxPayloadBytes: 1024, credits: 8 });
    expect(() => decodeHello(h.subarray(0, 5))).toThrow(/HELLO\.maxPayload/);
    expect(() => decodeHello(Uint8Array.from([...h, 0]))).toThrow(/1 bytes too many/);
    expect(() => decodeHelloReply(h)).toThrow(ProtocolError);
    expect(() => decodeError(Uint8Array.from([1, 0, 0xff, 0xfe]))).toThrow(/not UTF-8/);
    expect(() =>
      decodeCameraChunk(encodeCameraChunk({ frame: 1, chunk: 4, chunks: 4, offset: 0, pixels: new Uint8Array(1) })),
    ).toThrow(/chunk 4 of 4/);
    // Random bytes never make a decoder fail with anything but a ProtocolError.
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 60 }), (bytes) => {
        for (const decode of [
          decodeHello,
          decodeHelloReply,
          decodeCameraChunk,
          decodeCredit,
          decodeHeartbeat,
          decodeError,
        ]) {
          try {
            decode(bytes);
          } catch (error) {
            expect(error).toBeInstanceOf(ProtocolError);
            expect(error).toBeInstanceOf(DeviceError);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('acquisition messages round-trip and check their sizes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff_ffff }),
        fc.uint8Array({ maxLength: 300 }),
        fc.integer({ min: 1, max: 0xffff_ffff }),
        fc.integer({ min: 0, max: 0xffff_ffff }),
        (offset, bytes, bytesPerFrame, framesCrc) => {
          expect(decodeUploadFrames(encodeUploadFrames({ offset, bytes }))).toEqual({ offset, bytes });
          const acquire = { count: bytes.length, bytesPerFrame, trigger: offset % 2, framesCrc };
          expect(decodeAcquire(encodeAcquire(acquire))).toEqual(acquire);
        },
      ),
    );
    // ACQUIRE: count u32, bytesPerFrame u32, trigger u8, framesCrc u32, little-endian.
    expect(Array.from(encodeAcquire({ count: 2, bytesPerFrame: 0x0304, trigger: 1, framesCrc: 0x0a0b0c0d }))).toEqual([
      2, 0, 0, 0, 4, 3, 0, 0, 1, 0x0d, 0x0c, 0x0b, 0x0a,
    ]);
    const reports = [
      { saturatedPixels: 0, exposureUs: 412.5, timeUs: 1e6 / 3 },
      { saturatedPixels: 17, exposureUs: 0.1, timeUs: 2 ** 40 },
    ];
    expect(decodeAcquireDone(encodeAcquireDone(reports))).toEqual(reports);
    expect(decodeResendChunk(encodeResendChunk({ frame: 9, chunk: 3 }))).toEqual({ frame: 9, chunk: 3 });
    expect(() => decodeUploadFrames(Uint8Array.of(1, 2))).toThrow(/UPLOAD_FRAMES\.offset/);
    expect(() => decodeAcquire(Uint8Array.from([0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0]))).toThrow(/trigger mode 2/);
    expect(() => decodeAcquire(new Uint8Array(12))).toThrow(/ACQUIRE\.framesCrc/);
    expect(() => decodeAcquireDone(encodeAcquireDone(reports).subarray(0, 30))).toThrow(/26 bytes for 2 frame reports/);
    expect(decodeJson(encodeJson({ exposureUs: 400 }), 'SETTINGS')).toEqual({ exposureUs: 400 });
    expect(() => decodeJson(new TextEncoder().encode('{"a":'), 'SETTINGS')).toThrow(/SETTINGS payload is not JSON/);
  });

  it('names known message types and refuses unknown ones', () => {
    expect(messageTypeName(MessageType.cameraChunk)).toBe('cameraChunk');
    expect(messageTypeName(0xff)).toBe('error');
    expect(() => messageTypeName(0x42)).toThrow(/unknown message type 0x42/);
  });
});
