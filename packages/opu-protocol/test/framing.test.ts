import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cobsDecode,
  cobsEncode,
  cobsEncodedLength,
  decodeFrame,
  encodeFrame,
  type Frame,
  FrameDecoder,
} from '../src/index.js';

// Zeros are what COBS removes: bias the bytes towards them, and the lengths towards the 254-byte block boundary.
const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 600 }),
  fc.uint8Array({ minLength: 250, maxLength: 520, min: 0, max: 2 }),
  fc.uint8Array({ minLength: 252, maxLength: 258, min: 1, max: 255 }),
  // A full 254-byte block right before a zero, and long zero-free stretches.
  fc
    .tuple(fc.uint8Array({ minLength: 254, maxLength: 254, min: 1, max: 255 }), fc.uint8Array({ maxLength: 300 }))
    .map(([full, rest]) => Uint8Array.from([...full, 0, ...rest])),
  fc.uint8Array({ minLength: 500, maxLength: 3000, min: 1, max: 255 }),
);

/** COBS written out byte by byte, as in the paper: the reference the fast encoder must match exactly. */
function referenceEncode(data: Uint8Array): number[] {
  const out = [0];
  let codeAt = 0;
  let code = 1;
  for (const byte of data) {
    if (byte !== 0) {
      out.push(byte);
      code++;
    }
    if (byte === 0 || code === 0xff) {
      out[codeAt] = code;
      codeAt = out.length;
      out.push(0);
      code = 1;
    }
  }
  out[codeAt] = code;
  return out;
}

const frame = fc.record({
  version: fc.integer({ min: 0, max: 255 }),
  type: fc.integer({ min: 0, max: 255 }),
  session: fc.integer({ min: 0, max: 0xffff_ffff }),
  sequence: fc.integer({ min: 0, max: 0xffff_ffff }),
  requestId: fc.integer({ min: 0, max: 0xffff_ffff }),
  payload: bytes,
});

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Feeds `stream` in chunks cut at the given fractions. */
function feed(decoder: FrameDecoder, stream: Uint8Array, cuts: number[]): Frame[] {
  const points = [...new Set(cuts.map((c) => Math.floor(c * stream.length)))].sort((a, b) => a - b);
  const frames: Frame[] = [];
  let start = 0;
  for (const point of [...points, stream.length]) {
    frames.push(...decoder.push(stream.subarray(start, point)));
    start = point;
  }
  return frames;
}

describe('COBS', () => {
  it('round-trips any bytes, without a zero on the wire, within the size bound', () => {
    fc.assert(
      fc.property(bytes, (data) => {
        const encoded = cobsEncode(data);
        expect(Array.from(encoded)).toEqual(referenceEncode(data));
        expect(encoded.includes(0)).toBe(false);
        expect(encoded.length).toBeLessThanOrEqual(cobsEncodedLength(data.length));
        expect(cobsDecode(encoded)).toEqual(data);
      }),
      { numRuns: 2000 },
    );
  });

  it('encodes the reference examples of Cheshire and Baker', () => {
    expect(Array.from(cobsEncode(Uint8Array.from([0])))).toEqual([1, 1]);
    expect(Array.from(cobsEncode(Uint8Array.from([0x11, 0x22, 0, 0x33])))).toEqual([3, 0x11, 0x22, 2, 0x33]);
    expect(Array.from(cobsEncode(Uint8Array.from([0x11, 0, 0, 0])))).toEqual([2, 0x11, 1, 1, 1]);
    // 254 non-zero bytes then a zero: a full block (0xff, no implied zero), then the zero as an empty block.
    const full = Uint8Array.from({ length: 254 }, (_, i) => i + 1);
    const encoded = cobsEncode(Uint8Array.from([...full, 0, 7]));
    expect(Array.from(encoded.subarray(0, 1))).toEqual([0xff]);
    expect(Array.from(encoded.subarray(255))).toEqual([1, 2, 7]);
    expect(cobsDecode(encoded)).toEqual(Uint8Array.from([...full, 0, 7]));
  });

  it('rejects encodings with a zero inside or a block running past the end', () => {
    expect(cobsDecode(Uint8Array.from([3, 1, 0, 2]))).toBeUndefined();
    expect(cobsDecode(Uint8Array.from([5, 1, 2]))).toBeUndefined();
    expect(cobsDecode(Uint8Array.from([0]))).toBeUndefined();
  });
});

describe('frame decoder', () => {
  it('gives the same frames fed byte at a time, in random chunks, or whole', () => {
    fc.assert(
      fc.property(
        fc.array(frame, { minLength: 1, maxLength: 6 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 20 }),
        (frames, cuts) => {
          const stream = concat(frames.map(encodeFrame));
          const whole = new FrameDecoder().push(stream);
          expect(whole).toEqual(frames);
          expect(feed(new FrameDecoder(), stream, cuts)).toEqual(frames);
          const oneByOne = new FrameDecoder();
          const got: Frame[] = [];
          for (let i = 0; i < stream.length; i++) got.push(...oneByOne.push(stream.subarray(i, i + 1)));
          expect(got).toEqual(frames);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('fuzzing: 10 000 random and mutated frames never throw and never deliver a corrupted payload', () => {
    // Each case: valid frames, some mutated (flipped, dropped or inserted bytes) and garbage between them. Every
    // frame that comes out must be one of the frames sent, untouched.
    const mutation = fc.record({
      kind: fc.constantFrom('flip', 'drop', 'insert', 'none'),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      value: fc.integer({ min: 0, max: 255 }),
    });
    let frames = 0;
    let delivered = 0;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(frame, mutation, fc.uint8Array({ maxLength: 40 })), { minLength: 3, maxLength: 10 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }),
        (cases, cuts) => {
          const sent = new Set<string>();
          const parts: Uint8Array[] = [];
          for (const [f, m, garbage] of cases) {
            frames++;
            sent.add(JSON.stringify({ ...f, payload: Array.from(f.payload) }));
            const wire = Array.from(encodeFrame(f));
            const at = Math.floor(m.at * (wire.length - 1));
            if (m.kind === 'flip') wire[at] = wire[at]! ^ (m.value || 1);
            if (m.kind === 'drop') wire.splice(at, 1);
            if (m.kind === 'insert') wire.splice(at, 0, m.value);
            parts.push(garbage, Uint8Array.from(wire));
          }
          const decoder = new FrameDecoder(4096);
          for (const got of feed(decoder, concat(parts), cuts)) {
            delivered++;
            expect(sent.has(JSON.stringify({ ...got, payload: Array.from(got.payload) }))).toBe(true);
          }
        },
      ),
      { numRuns: 2000 },
    );
    expect(frames).toBeGreaterThanOrEqual(10_000);
    // Most frames survive: a mutation hits one frame, garbage is cut off at the next delimiter.
    expect(delivered).toBeGreaterThan(frames / 3);
  });

  it('drops a frame larger than the limit without holding it in memory, and recovers at the next one', () => {
    const decoder = new FrameDecoder(1000);
    const big = encodeFrame({
      version: 1,
      type: 2,
      session: 8,
      sequence: 3,
      requestId: 4,
      payload: new Uint8Array(50_000).fill(7),
    });
    const small: Frame = {
      version: 1,
      type: 2,
      session: 8,
      sequence: 4,
      requestId: 5,
      payload: Uint8Array.from([1, 0, 2]),
    };
    expect(decoder.push(concat([big, encodeFrame(small)]))).toEqual([small]);
    expect(decoder.faults.overrun).toBe(1);
    // A header announcing more than the limit is refused before its payload is trusted.
    const wire = encodeFrame({ ...small, payload: new Uint8Array(11) });
    expect(decodeFrame(wire.subarray(1, wire.length - 1), 10)).toBe('oversized');
    // A run longer than any frame the limit allows is an overrun, whatever its header says.
    const claims = new FrameDecoder(10);
    expect(claims.push(wire)).toEqual([]);
    expect(claims.faults.overrun).toBe(1);
  });

  it('counts what it drops: a damaged CRC, a short frame, a bad length', () => {
    const decoder = new FrameDecoder();
    const wire = encodeFrame({
      version: 1,
      type: 9,
      session: 3,
      sequence: 1,
      requestId: 2,
      payload: Uint8Array.from([5, 6, 7]),
    });
    const flipped = wire.slice();
    flipped[flipped.length - 2] = flipped[flipped.length - 2]! ^ 0x10;
    expect(decoder.push(flipped)).toEqual([]);
    expect(decoder.push(concat([cobsEncode(Uint8Array.from([1, 2, 3])), Uint8Array.of(0)]))).toEqual([]);
    expect(decoder.faults.crc + decoder.faults.length + decoder.faults.cobs).toBeGreaterThanOrEqual(1);
    expect(decoder.faults.short).toBe(1);
  });
});
