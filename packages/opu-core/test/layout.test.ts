import { describe, expect, it } from 'vitest';
import { allocateDmdFrames, unpackDmdFrames } from '../src/device/frames.js';
import { rectangleArea } from '../src/device/settings.js';
import { layoutRectangle, lightElements, lightReference, makeLayout, referenceStart } from '../src/measure/layout.js';

describe('layoutRectangle', () => {
  it('holds at least count elements within maxWidth, in the fewest rows, wasting less than one per row', () => {
    for (const maxWidth of [1, 2, 3, 7, 16, 100, 1920]) {
      for (let count = 1; count <= 300; count++) {
        const r = layoutRectangle(count, maxWidth);
        const area = rectangleArea(r);
        expect(r.left).toBe(0);
        expect(r.top).toBe(0);
        expect(Number.isInteger(r.width) && Number.isInteger(r.height)).toBe(true);
        expect(r.width).toBeLessThanOrEqual(maxWidth);
        expect(area).toBeGreaterThanOrEqual(count);
        expect(area - count).toBeLessThan(r.height);
        // No fewer rows can hold it.
        expect((r.height - 1) * maxWidth).toBeLessThan(count);
      }
    }
  });

  it('gives the expected shapes on hand-made cases', () => {
    expect(layoutRectangle(10, 4)).toEqual({ left: 0, top: 0, width: 4, height: 3 });
    expect(layoutRectangle(10, 8)).toEqual({ left: 0, top: 0, width: 5, height: 2 });
    expect(layoutRectangle(1024, 1920)).toEqual({ left: 0, top: 0, width: 1024, height: 1 });
    expect(layoutRectangle(2049, 1024)).toEqual({ left: 0, top: 0, width: 683, height: 3 });
  });
});

const request = (inputs: number, outputs: number, referenceCount: number, referenceElements: number, s = 1) => ({
  inputs,
  outputs,
  referenceCount,
  referenceElements,
  mirrorsPerElement: s,
});

describe('makeLayout and referenceStart', () => {
  it('places the data first, then disjoint reference blocks, all inside the region', () => {
    const layout = makeLayout(request(100, 50, 3, 40), 64, 20);
    expect(layout.inputs).toBe(100);
    expect(layout.referenceCount).toBe(3);
    expect(layout.referenceElements).toBe(40);
    expect(layout.region).toEqual(layoutRectangle(220, 64));
    expect(layout.roi).toEqual(layoutRectangle(50, 20));
    expect(rectangleArea(layout.roi)).toBeGreaterThanOrEqual(50);
    expect(layout.roi.width).toBeLessThanOrEqual(20);
    expect(layout.region.width).toBeLessThanOrEqual(64);
    expect([0, 1, 2].map((k) => referenceStart(layout, k))).toEqual([100, 140, 180]);
    const end = referenceStart(layout, 2) + layout.referenceElements;
    expect(end).toBe(220);
    expect(rectangleArea(layout.region)).toBeGreaterThanOrEqual(end);
  });

  it('keeps a single reference right after the data', () => {
    const layout = makeLayout(request(7, 3, 1, 8), 1920, 1440);
    expect(referenceStart(layout, 0)).toBe(7);
    expect(layout.region).toEqual({ left: 0, top: 0, width: 15, height: 1 });
    expect(layout.roi).toEqual({ left: 0, top: 0, width: 3, height: 1 });
  });
});

describe('macro-pixels', () => {
  it('gives every element a block of mirrors and sizes the region for all of them', () => {
    const layout = makeLayout(request(10, 8, 3, 3, 53), 912, 1920);
    expect(rectangleArea(layout.region)).toBeGreaterThanOrEqual(19 * 53);
    const frames = allocateDmdFrames(2, rectangleArea(layout.region));
    lightElements(frames, 0, layout, 2, 3);
    lightReference(frames, 1, layout, 1);
    const bits = unpackDmdFrames(frames);
    const on = (f: number) =>
      [...bits.subarray(f * frames.mirrorsPerFrame, (f + 1) * frames.mirrorsPerFrame).keys()].filter(
        (j) => bits[f * frames.mirrorsPerFrame + j],
      );
    expect(on(0)).toEqual(Array.from({ length: 53 }, (_, q) => 2 * 53 + q));
    expect(on(1)).toEqual(Array.from({ length: 3 * 53 }, (_, q) => 13 * 53 + q));
  });
});
