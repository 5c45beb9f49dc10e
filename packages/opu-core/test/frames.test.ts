import { describe, expect, it } from 'vitest';
import { allocateDmdFrames, bytesPerFrame, litMirrors, packDmdFrames, unpackDmdFrames } from '../src/device/frames.js';
import { ArgumentError } from '../src/support/errors.js';
import { caughtSync, randomBits } from './helpers/fake-device.js';

describe('bytesPerFrame and allocateDmdFrames', () => {
  it('round each frame up to whole bytes', () => {
    expect([0, 1, 7, 8, 9, 15, 16, 17, 1024, 1025].map(bytesPerFrame)).toEqual([0, 1, 1, 1, 2, 2, 2, 3, 128, 129]);
    const frames = allocateDmdFrames(3, 13);
    expect(frames.count).toBe(3);
    expect(frames.mirrorsPerFrame).toBe(13);
    expect(frames.data).toEqual(new Uint8Array(6));
  });
});

describe('packDmdFrames / unpackDmdFrames', () => {
  it('round-trip random bits for odd frame sizes and counts', () => {
    let seed = 1;
    for (const mirrors of [1, 3, 7, 8, 9, 13, 31, 63, 65, 100]) {
      for (const count of [1, 2, 5]) {
        const bits = randomBits(count * mirrors, seed++, 0.4);
        const frames = packDmdFrames(bits, count, mirrors);
        expect(frames.count).toBe(count);
        expect(frames.mirrorsPerFrame).toBe(mirrors);
        expect(frames.data.length).toBe(count * bytesPerFrame(mirrors));
        expect(unpackDmdFrames(frames)).toEqual(bits);
      }
    }
  });

  it('accept any ArrayLike of 0/1 numbers', () => {
    const fromArray = packDmdFrames([1, 0, 1], 1, 3);
    const fromFloat = packDmdFrames(Float32Array.of(1, 0, 1), 1, 3);
    expect(fromArray.data).toEqual(Uint8Array.of(0b101));
    expect(fromFloat.data).toEqual(fromArray.data);
  });

  it('lay bits out least significant first, each frame starting on a byte boundary', () => {
    // Frame 0: mirror 0 → bit 0 of byte 0, mirror 9 → bit 1 of byte 1.
    const frame0 = [1, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    // Frame 1 starts at byte 2: mirrors 1, 2 and 7 → 0x86, mirror 8 → bit 0 of byte 3.
    const frame1 = [0, 1, 1, 0, 0, 0, 0, 1, 1, 0];
    const bits = [...frame0, ...frame1];
    const frames = packDmdFrames(bits, 2, 10);
    expect(Array.from(frames.data)).toEqual([0x01, 0x02, 0x86, 0x01]);
    expect(
      Array.from(unpackDmdFrames({ count: 2, mirrorsPerFrame: 10, data: Uint8Array.of(0x80, 0x03, 0, 0) })),
    ).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('leave the padding bits past the last mirror clear', () => {
    const frames = packDmdFrames(new Uint8Array(3 * 11).fill(1), 3, 11);
    expect(Array.from(frames.data)).toEqual([0xff, 0x07, 0xff, 0x07, 0xff, 0x07]);
  });

  it('reject a non-binary value, naming frame and mirror', () => {
    for (const bad of [2, 0.5, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const bits = Array.from(randomBits(3 * 5, 9));
      bits[1 * 5 + 3] = bad;
      const error = caughtSync(() => packDmdFrames(bits, 3, 5));
      expect(error).toBeInstanceOf(ArgumentError);
      expect((error as ArgumentError).field).toBe('x[1][3]');
      expect((error as ArgumentError).message).toContain(`value ${bad} is not binary`);
      expect((error as ArgumentError).fix).toMatch(/0 or 1/);
    }
    const named = caughtSync(() => packDmdFrames([0, 0, 0.999], 1, 3, { field: 'e' }));
    expect((named as ArgumentError).field).toBe('e[0][2]');
  });

  it('reject a batch whose length is not count × mirrorsPerFrame', () => {
    for (const length of [0, 11, 13]) {
      const error = caughtSync(() => packDmdFrames(new Uint8Array(length), 3, 4));
      expect(error).toBeInstanceOf(ArgumentError);
      expect((error as ArgumentError).field).toBe('x');
      expect((error as ArgumentError).message).toContain(`has ${length} values, expected 3 × 4`);
    }
    expect((caughtSync(() => packDmdFrames([1], 1, 2, { field: 'rows' })) as ArgumentError).field).toBe('rows');
  });
});

describe('litMirrors', () => {
  it('counts the mirrors on in each frame', () => {
    let seed = 100;
    for (const mirrors of [1, 5, 8, 12, 64, 77]) {
      const count = 4;
      const bits = randomBits(count * mirrors, seed++, 0.6);
      const frames = packDmdFrames(bits, count, mirrors);
      for (let f = 0; f < count; f++) {
        let expected = 0;
        for (let j = 0; j < mirrors; j++) expected += bits[f * mirrors + j]!;
        expect(litMirrors(frames, f)).toBe(expected);
      }
    }
    const frames = packDmdFrames([1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0], 2, 9);
    expect(litMirrors(frames, 0)).toBe(9);
    expect(litMirrors(frames, 1)).toBe(0);
  });
});
