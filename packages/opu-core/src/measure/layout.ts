import { allocateDmdFrames, type DmdFrames, setMirrorRange } from '../device/frames.js';
import type { Rectangle } from '../device/settings.js';

/** The most compact rectangle of at most `maxWidth` columns holding at least `count` elements. */
export function layoutRectangle(count: number, maxWidth: number): Rectangle {
  const height = Math.ceil(count / maxWidth);
  return { left: 0, top: 0, width: Math.ceil(count / height), height };
}

/**
 * How the facade uses the DMD's input region. Every element, data or reference, is a macro-pixel of
 * `mirrorsPerElement` consecutive mirrors (its field is the sum of theirs: still circular Gaussian, with that many
 * times the power). Elements are the data vector [0, inputs), then `referenceCount` disjoint reference blocks of
 * `referenceElements` elements each, all on when shown. Indices are region-local.
 */
export interface DmdLayout {
  inputs: number;
  referenceCount: number;
  referenceElements: number;
  mirrorsPerElement: number;
  region: Rectangle;
  roi: Rectangle;
}

export interface LayoutRequest {
  inputs: number;
  outputs: number;
  referenceCount: number;
  referenceElements: number;
  mirrorsPerElement: number;
}

export function makeLayout(request: LayoutRequest, dmdWidth: number, cameraWidth: number): DmdLayout {
  const elements = request.inputs + request.referenceCount * request.referenceElements;
  return {
    inputs: request.inputs,
    referenceCount: request.referenceCount,
    referenceElements: request.referenceElements,
    mirrorsPerElement: request.mirrorsPerElement,
    region: layoutRectangle(elements * request.mirrorsPerElement, dmdWidth),
    roi: layoutRectangle(request.outputs, cameraWidth),
  };
}

/** Index of the first element of reference k. */
export function referenceStart(layout: DmdLayout, k: number): number {
  return layout.inputs + k * layout.referenceElements;
}

/** Turns on elements [first, end) of frame f: each one's block of mirrors. */
export function lightElements(frames: DmdFrames, f: number, layout: DmdLayout, first: number, end: number): void {
  setMirrorRange(frames, f, first * layout.mirrorsPerElement, end * layout.mirrorsPerElement);
}

/** Turns off elements [first, end) of frame f. */
export function darkenElements(frames: DmdFrames, f: number, layout: DmdLayout, first: number, end: number): void {
  setMirrorRange(frames, f, first * layout.mirrorsPerElement, end * layout.mirrorsPerElement, false);
}

/** Turns on every mirror of reference k in frame f. */
export function lightReference(frames: DmdFrames, f: number, layout: DmdLayout, k: number): void {
  const start = referenceStart(layout, k);
  lightElements(frames, f, layout, start, start + layout.referenceElements);
}

/**
 * `count` frames lighting each data element with probability 1/2, the typical frame of the facade; with
 * `withReference`, frame f also shows reference f mod referenceCount, as `project()` does.
 */
export function randomHalfLitFrames(
  mirrors: number,
  layout: DmdLayout,
  count: number,
  random: () => number,
  withReference: boolean,
): DmdFrames {
  const frames = allocateDmdFrames(count, mirrors);
  for (let f = 0; f < count; f++) {
    for (let j = 0; j < layout.inputs; j++) if (random() < 0.5) lightElements(frames, f, layout, j, j + 1);
    if (withReference) lightReference(frames, f, layout, f % layout.referenceCount);
  }
  return frames;
}
