import type { CameraPixels } from 'opu-core';
import { type CounterRng, Stream, standardNormal, uniform01 } from 'opu-native';
import type { ResolvedSimOptions } from './options.js';

type CameraOptions = ResolvedSimOptions['camera'];

/** Above this mean, Poisson(λ) is drawn as round(λ + √λ·z): its skewness 1/√λ is then below 0.13. */
const POISSON_NORMAL_ABOVE = 64;

export interface Exposure {
  exposureUs: number;
  gainDb: number;
  /** Index of the first frame since the device opened: keys the noise, so passes do not change the numbers. */
  firstFrameIndex: number;
  /** Laser power of each frame relative to nominal. */
  powerFactors: Float64Array;
}

/**
 * A CMV2000-class sensor: photo-electrons proportional to intensity × exposure × laser power × pixel response,
 * Poisson shot noise, full-well clipping, Gaussian read noise, dark current, bias and an ADC of 8, 10 or 12 bits.
 */
export class SimulatedCamera {
  readonly #rng: CounterRng;
  readonly #options: CameraOptions;
  readonly #photoelectronsPerMirrorUs: number;
  #pixelResponse: Float64Array = new Float64Array(0);
  #pixels: Int32Array = new Int32Array(0);

  constructor(rng: CounterRng, options: CameraOptions, photoelectronsPerMirrorUs: number) {
    this.#rng = rng;
    this.#options = options;
    this.#photoelectronsPerMirrorUs = photoelectronsPerMirrorUs;
  }

  get biasAdu(): number {
    return this.#options.biasAdu ?? Math.max(2, Math.round(0.01 * this.maxAdu));
  }

  get maxAdu(): number {
    return 2 ** this.#options.bitDepth - 1;
  }

  /** Fixes the read-out pixels (absolute indices on the sensor) and draws their response non-uniformity. */
  setPixels(pixels: Int32Array): void {
    this.#pixels = pixels;
    this.#pixelResponse = new Float64Array(pixels.length);
    const z = new Float64Array(2);
    for (let i = 0; i < pixels.length; i++) {
      this.#rng.normalPair(Stream.pixelResponse, pixels[i]!, 0, 0, z);
      this.#pixelResponse[i] = Math.max(0, 1 + this.#options.prnuRms * z[0]!);
    }
  }

  /**
   * Converts intensities (field units: E|R_pq|² = 1, frames × pixels) into digital frames.
   * Returns the pixels and, per frame, how many were clipped at full well or at the ADC maximum.
   */
  expose(intensity: Float32Array, frames: number, exposure: Exposure): { data: CameraPixels; saturated: Uint32Array } {
    const o = this.#options;
    const m = this.#pixels.length;
    const maxAdu = this.maxAdu;
    const bias = this.biasAdu;
    const data = o.bitDepth === 8 ? new Uint8Array(frames * m) : new Uint16Array(frames * m);
    const saturated = new Uint32Array(frames);
    const aduPerE = (maxAdu / o.fullWellE) * 10 ** (exposure.gainDb / 20);
    const darkE = o.darkCurrentEPerS * exposure.exposureUs * 1e-6;
    const eScale = this.#photoelectronsPerMirrorUs * exposure.exposureUs;
    for (let f = 0; f < frames; f++) {
      const frameIndex = exposure.firstFrameIndex + f;
      const scale = eScale * exposure.powerFactors[f]!;
      let clipped = 0;
      for (let i = 0; i < m; i++) {
        const lambda = intensity[f * m + i]! * scale * this.#pixelResponse[i]! + darkE;
        const w = this.#rng.block(Stream.cameraNoise, frameIndex, this.#pixels[i]!);
        let electrons = o.shotNoise ? this.#poisson(lambda, w) : lambda;
        let full = false;
        if (electrons >= o.fullWellE) {
          electrons = o.fullWellE;
          full = true;
        }
        if (o.readNoiseE > 0) electrons += o.readNoiseE * standardNormal(w[2]!, w[3]!);
        let adu = Math.round(electrons * aduPerE + bias);
        if (adu >= maxAdu) {
          adu = maxAdu;
          full = true;
        } else if (adu < 0) adu = 0;
        if (full) clipped++;
        data[f * m + i] = adu;
      }
      saturated[f] = clipped;
    }
    return { data, saturated };
  }

  #poisson(lambda: number, w: Uint32Array): number {
    if (lambda >= POISSON_NORMAL_ABOVE)
      return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * standardNormal(w[0]!, w[1]!)));
    // Inversion: one uniform per draw, so the noise stays a pure function of (frame, pixel).
    const u = uniform01(w[0]!);
    let p = Math.exp(-lambda);
    let cdf = p;
    let k = 0;
    while (u > cdf && p > 0) {
      k++;
      p *= lambda / k;
      cdf += p;
    }
    return k;
  }
}
