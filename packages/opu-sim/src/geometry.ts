import { bytesPerFrame, type DmdFrames, type Rectangle } from 'opu-core';

/** Absolute indices (row-major over the whole DMD or sensor) of a rectangle's elements, in the rectangle's order. */
export function rectangleIndices(r: Rectangle, fullWidth: number): Int32Array {
  const out = new Int32Array(r.width * r.height);
  for (let y = 0; y < r.height; y++) {
    for (let x = 0; x < r.width; x++) out[y * r.width + x] = (r.top + y) * fullWidth + r.left + x;
  }
  return out;
}

/** Each frame's lit mirrors as ascending indices into the input region. */
export function litMirrorLists(frames: DmdFrames): Int32Array[] {
  const stride = bytesPerFrame(frames.mirrorsPerFrame);
  const scratch = new Int32Array(frames.mirrorsPerFrame);
  const lists: Int32Array[] = [];
  for (let f = 0; f < frames.count; f++) {
    let n = 0;
    for (let b = 0; b < stride; b++) {
      let byte = frames.data[f * stride + b]!;
      while (byte !== 0) {
        const bit = 31 - Math.clz32(byte & -byte);
        scratch[n++] = b * 8 + bit;
        byte &= byte - 1;
      }
    }
    lists.push(scratch.slice(0, n));
  }
  return lists;
}
