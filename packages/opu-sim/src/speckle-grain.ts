import type { Rectangle } from 'opu-core';
import type { ComplexField } from './medium.js';

/**
 * Speckle grains larger than a pixel: the field on the sensor is low-passed by the imaging pupil. A Gaussian pupil
 * of field width s gives an intensity correlation exp(−d²/2s²) between pixels d apart, whose FWHM is the grain
 * diameter g = 2.355·s. The kernel is normalized to unit energy, so every pixel keeps E|y|² and exponential
 * intensity statistics; only neighbours become correlated.
 */
export class SpeckleGrain {
  readonly #kernel: Float64Array;
  readonly halo: number;

  constructor(grainPx: number) {
    const s = grainPx / (2 * Math.sqrt(2 * Math.LN2));
    this.halo = grainPx > 0 ? Math.ceil(3 * s) : 0;
    const k = new Float64Array(2 * this.halo + 1);
    let energy = 0;
    for (let i = -this.halo; i <= this.halo; i++) {
      k[i + this.halo] = Math.exp(-(i * i) / (2 * s * s));
      energy += k[i + this.halo]! ** 2;
    }
    // Separable: the 2-D kernel's energy is the square of the 1-D one's.
    for (let i = 0; i < k.length; i++) k[i]! /= Math.sqrt(energy);
    this.#kernel = k;
  }

  get enabled(): boolean {
    return this.halo > 0;
  }

  /**
   * The ROI grown by the kernel's halo: where the unfiltered field must be computed. Not clipped to the sensor: the
   * speckle extends past the sensor's edge, and cutting it there would darken the edge pixels (to ~0.5 of E|y|² at
   * a corner for a 3-pixel grain). `left`/`top` may be negative; see `planeIndices` for their pixel keys.
   */
  extend(roi: Rectangle): Rectangle {
    const h = this.halo;
    return { left: roi.left - h, top: roi.top - h, width: roi.width + 2 * h, height: roi.height + 2 * h };
  }

  /** Filters each frame's field over `extended` and returns it cropped to `roi`. */
  apply(field: ComplexField, frames: number, extended: Rectangle, roi: Rectangle): ComplexField {
    const ew = extended.width;
    const eh = extended.height;
    const m = roi.width * roi.height;
    const out = { re: new Float32Array(frames * m), im: new Float32Array(frames * m) };
    const rowRe = new Float64Array(ew * eh);
    const rowIm = new Float64Array(ew * eh);
    const k = this.#kernel;
    const h = this.halo;
    const dx = roi.left - extended.left;
    const dy = roi.top - extended.top;
    for (let f = 0; f < frames; f++) {
      const base = f * ew * eh;
      for (let y = 0; y < eh; y++) {
        for (let x = dx; x < dx + roi.width; x++) {
          let sr = 0;
          let si = 0;
          for (let t = -h; t <= h; t++) {
            const xx = x + t;
            if (xx < 0 || xx >= ew) continue;
            sr += k[t + h]! * field.re[base + y * ew + xx]!;
            si += k[t + h]! * field.im[base + y * ew + xx]!;
          }
          rowRe[y * ew + x] = sr;
          rowIm[y * ew + x] = si;
        }
      }
      for (let y = 0; y < roi.height; y++) {
        for (let x = 0; x < roi.width; x++) {
          let sr = 0;
          let si = 0;
          for (let t = -h; t <= h; t++) {
            const yy = y + dy + t;
            if (yy < 0 || yy >= eh) continue;
            sr += k[t + h]! * rowRe[yy * ew + x + dx]!;
            si += k[t + h]! * rowIm[yy * ew + x + dx]!;
          }
          out.re[f * m + y * roi.width + x] = sr;
          out.im[f * m + y * roi.width + x] = si;
        }
      }
    }
    return out;
  }
}
