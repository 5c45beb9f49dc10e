import type { Rectangle } from '../device/settings.js';

/** The most compact rectangle of at most `maxWidth` columns holding at least `count` elements. */
export function layoutRectangle(count: number, maxWidth: number): Rectangle {
  const height = Math.ceil(count / maxWidth);
  return { left: 0, top: 0, width: Math.ceil(count / height), height };
}

/**
 * How the facade uses the DMD's input region: the data vector on mirrors [0, inputs), then `referenceCount`
 * disjoint reference blocks of `referenceMirrors` mirrors each, all on when shown. Indices are region-local.
 */
export interface DmdLayout {
  inputs: number;
  referenceCount: number;
  referenceMirrors: number;
  region: Rectangle;
  roi: Rectangle;
}

export function referenceStart(layout: DmdLayout, k: number): number {
  return layout.inputs + k * layout.referenceMirrors;
}

export function makeLayout(
  inputs: number,
  outputs: number,
  referenceCount: number,
  referenceMirrors: number,
  dmdWidth: number,
  cameraWidth: number,
): DmdLayout {
  return {
    inputs,
    referenceCount,
    referenceMirrors,
    region: layoutRectangle(inputs + referenceCount * referenceMirrors, dmdWidth),
    roi: layoutRectangle(outputs, cameraWidth),
  };
}
