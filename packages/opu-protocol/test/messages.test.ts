import fc from 'fast-check';
import { DeviceError } from 'opu-core';
import { describe, expect, it } from 'vitest';
import {
  CAMERA_CHUNK_HEADER_BYTES,
  decodeAcquire,
  decodeAcquireDone,
  decodeAcquireStarted,
  decodeCameraChunk,
  decodeCameraFrames,
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
  encodeAcquireStarted,
  encodeCameraChunk,
  encodeCameraFrames,
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
  chunkBytes: fc.integer({ min: 0, max: 0xffff_ffff }),
});
const report = fc.record({
  saturatedPixels: fc.integer({ min: 0, max: 0xffff_ffff }),
  exposureUs: fc.double({ noNaN: true }),
  timeUs: fc.double({ noNaN: true }),
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
        report,
        (frame, chunk, pixels, report) => {
          const m = { frame, chunk, chunks: chunk + 1, offset: 7 * chunk, report, pixels };
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
      chunkBytes: 3,
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
    // HELLO: major, minor, maxPayload u32 LE, credits u16 LE, chunkBytes u32 LE.
    expect(
      Array.from(
        encodeHello({ major: 1, minor: 2, maxPayloadBytes: 0x0102_0304, credits: 0x0506, chunkBytes: 0x0708 }),
      ),
    ).toEqual([1, 2, 4, 3, 2, 1, 6, 5, 8, 7, 0, 0]);
    // CAMERA_CHUNK: frame u32, chunk u16, chunks u16, offset u32, saturated u32, exposure f64, time f64, pixels.
    const chunk = encodeCameraChunk({
      frame: 1,
      chunk: 2,
      chunks: 3,
      offset: 4,
      report: { saturatedPixels: 5, exposureUs: 1, timeUs: 2 },
      pixels: Uint8Array.of(9),
    });
    expect(chunk.length).toBe(CAMERA_CHUNK_HEADER_BYTES + 1);
    expect(Array.from(chunk.subarray(0, 16))).toEqual([1, 0, 0, 0, 2, 0, 3, 0, 4, 0, 0, 0, 5, 0, 0, 0]);
    expect(new DataView(chunk.buffer).getFloat64(24, true)).toBe(2);
  });

  it('a truncated, padded or malformed payload is a ProtocolError naming the message and field', () => {
    const h = encodeHello({ major: 1, minor: 0, maxPayloadBytes: 1024, credits: 8, chunkBytes: 512 });
    expect(() => decodeHello(h.subarray(0, 5))).toThrow(/HELLO\.maxPayload/);
    expect(() => decodeHello(Uint8Array.from([...h, 0]))).toThrow(/1 bytes too many/);
    expect(() => decodeHelloReply(h)).toThrow(ProtocolError);
    expect(() => decodeError(Uint8Array.from([1, 0, 0xff, 0xfe]))).toThrow(/not UTF-8/);
    expect(() =>
      decodeCameraChunk(
        encodeCameraChunk({
          frame: 1,
          chunk: 4,
          chunks: 4,
          offset: 0,
          report: { saturatedPixels: 0, exposureUs: 1, timeUs: 0 },
          pixels: new Uint8Array(1),
        }),
      ),
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
    expect(decodeAcquireDone(encodeAcquireDone(4096))).toBe(4096);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff_ffff }),
        fc.array(report, { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 0, max: 40 }),
        (firstFrame, reports, frameBytes) => {
          const pixels = Uint8Array.from({ length: reports.length * frameBytes }, (_, i) => i & 0xff);
          const m = { firstFrame, reports, pixels };
          expect(decodeCameraFrames(encodeCameraFrames(m))).toEqual(m);
        },
      ),
    );
    // CAMERA_FRAMES: firstFrame u32, frames u16, a 20-byte report per frame, then the frames back to back.
    const pack = encodeCameraFrames({
      firstFrame: 3,
      reports: [
        { saturatedPixels: 1, exposureUs: 2, timeUs: 3 },
        { saturatedPixels: 4, exposureUs: 5, timeUs: 6 },
      ],
      pixels: Uint8Array.of(7, 8, 9, 10),
    });
    expect(pack.length).toBe(6 + 40 + 4);
    expect(Array.from(pack.subarray(0, 10))).toEqual([3, 0, 0, 0, 2, 0, 1, 0, 0, 0]);
    expect(() => decodeCameraFrames(pack.subarray(0, pack.length - 1))).toThrow(/3 pixel bytes do not split into 2/);
    expect(() => decodeCameraFrames(Uint8Array.of(0, 0, 0, 0, 0, 0))).toThrow(/CAMERA_FRAMES with no frame/);
    const started = {
      count: 7,
      chunkBytes: 512,
      settings: {
        exposureUs: 1414.5,
        frameTimeUs: 2000,
        gainDb: 1.5,
        inputRegion: { left: 1, top: 2, width: 3, height: 4 },
        outputRoi: { left: 5, top: 6, width: 70, height: 80 },
        bitDepth: 12,
      },
    };
    expect(decodeAcquireStarted(encodeAcquireStarted(started))).toEqual(started);
    expect(() => decodeAcquireStarted(encodeAcquireStarted(started).subarray(0, 40))).toThrow(
      /ACQUIRE_STARTED\.inputRegion\.width/,
    );
    expect(decodeResendChunk(encodeResendChunk({ frame: 9, chunk: 3 }))).toEqual({ frame: 9, chunk: 3 });
    expect(() => decodeUploadFrames(Uint8Array.of(1, 2))).toThrow(/UPLOAD_FRAMES\.offset/);
    expect(() => decodeAcquire(Uint8Array.from([0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0]))).toThrow(/trigger mode 2/);
    expect(() => decodeAcquire(new Uint8Array(12))).toThrow(/ACQUIRE\.framesCrc/);
    expect(() => decodeAcquireDone(Uint8Array.of(1, 0, 0, 0, 9))).toThrow(/ACQUIRE_DONE payload has 1 bytes too many/);
    expect(decodeJson(encodeJson({ exposureUs: 400 }), 'SETTINGS')).toEqual({ exposureUs: 400 });
    expect(() => decodeJson(new TextEncoder().encode('{"a":'), 'SETTINGS')).toThrow(/SETTINGS payload is not JSON/);
  });

  it('names known message types and refuses unknown ones', () => {
    expect(messageTypeName(MessageType.cameraChunk)).toBe('cameraChunk');
    expect(messageTypeName(0xff)).toBe('error');
    expect(() => messageTypeName(0x42)).toThrow(/unknown message type 0x42/);
  });
});
