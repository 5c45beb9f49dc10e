/**
 * The camera kernel, TypeScript implementation: photo-electrons, Poisson shot noise, full well, read noise, gain,
 * bias and the ADC, per pixel and frame, with noise keyed by (frame index, pixel) so that results do not depend on
 * how frames are batched. addon/src/camera.cc gives the same bits.
 */
import { expNegative, philox4x32, Stream, standardNormal, uniform01 } from './random.js';

/** Above this mean, Poisson(λ) is drawn as round(λ + √λ·z): its skewness 1/√λ is then below 0.13. */
export const POISSON_NORMAL_ABOVE = 64;

export interface CameraModel {
  seed: number;
  /** Photo-electrons per unit of field intensity at nominal power: light × QE × exposure. */
  electronsPerIntensity: number;
  darkElectrons: number;
  fullWellE: number;
  readNoiseE: number;
  aduPerElectron: number;
  biasAdu: number;
  maxAdu: number;
  shotNoise: boolean;
}

const words = new Uint32Array(4);

function poisson(lambda: number, w: Uint32Array): number {
  if (lambda >= POISSON_NORMAL_ABOVE) {
    return Math.max(0, Math.floor(lambda + Math.sqrt(lambda) * standardNormal(w[0]!, w[1]!) + 0.5));
  }
  // Inversion: one uniform per draw, so the noise stays a pure function of (frame, pixel).
  const u = uniform01(w[0]!);
  let p = expNegative(lambda);
  let cdf = p;
  let k = 0;
  while (u > cdf && p > 0) {
    k++;
    p *= lambda / k;
    cdf += p;
  }
  return k;
}

export function cameraExposeTs(
  model: CameraModel,
  intensity: Float32Array,
  frames: number,
  pixels: Int32Array,
  pixelResponse: Float64Array,
  firstFrameIndex: number,
  powerFactors: Float64Array,
  out: Uint8Array | Uint16Array,
  saturated: Uint32Array,
): void {
  const m = pixels.length;
  for (let f = 0; f < frames; f++) {
    const frameIndex = (firstFrameIndex + f) >>> 0;
    const scale = model.electronsPerIntensity * powerFactors[f]!;
    let clipped = 0;
    for (let i = 0; i < m; i++) {
      const lambda = intensity[f * m + i]! * scale * pixelResponse[i]! + model.darkElectrons;
      philox4x32(frameIndex, pixels[i]!, 0, 0, model.seed, Stream.cameraNoise, words);
      let electrons = model.shotNoise ? poisson(lambda, words) : lambda;
      let full = false;
      if (electrons >= model.fullWellE) {
        electrons = model.fullWellE;
        full = true;
      }
      if (model.readNoiseE > 0) electrons += model.readNoiseE * standardNormal(words[2]!, words[3]!);
      let adu = Math.floor(electrons * model.aduPerElectron + model.biasAdu + 0.5);
      if (adu >= model.maxAdu) {
        adu = model.maxAdu;
        full = true;
      } else if (adu < 0) adu = 0;
      if (full) clipped++;
      out[f * m + i] = adu;
    }
    saturated[f] = clipped;
  }
}
