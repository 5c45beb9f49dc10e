/**
 * The camera kernel, TypeScript implementation: photo-electrons, Poisson shot noise, full well, read noise, gain,
 * bias and the ADC, per pixel and frame, with noise keyed by (frame index, pixel) so that results do not depend on
 * how frames are batched. addon/src/optics/camera.cc gives the same bits.
 */
import type { KernelFunction, KernelRecord } from '../kernels/signatures.js';
import { expNegative, philox4x32, Stream, standardNormalPairFloat32, uniform01 } from './random.js';

/** Above this mean, Poisson(λ) is drawn as round(λ + √λ·z): its skewness 1/√λ is then below 0.13. */
export const POISSON_NORMAL_ABOVE = 64;

/** The camera's parameters, as cameraExpose declares them (signatures.ts says what each one is). */
export type CameraModel = KernelRecord<'cameraExpose'>['model'];

const words = new Uint32Array(4);
const normals = new Float32Array(2);
const fround = Math.fround;

/**
 * Poisson(λ) for a float32 λ: round(λ + √λ·z) in float32 above POISSON_NORMAL_ABOVE, else the inversion of
 * uniform01(inversionBits) in float64, one uniform per draw, so the noise stays a pure function of (frame, pixel).
 */
function poisson(lambda: number, shotNormal: number, inversionBits: number): number {
  if (lambda >= POISSON_NORMAL_ABOVE) {
    return Math.max(0, Math.floor(fround(fround(lambda + fround(fround(Math.sqrt(lambda)) * shotNormal)) + 0.5)));
  }
  const u = uniform01(inversionBits);
  let p = expNegative(lambda);
  let cdf = p;
  let k = 0;
  while (u > cdf && p > 0) {
    k++;
    p *= lambda * (1 / k); // as the C++ kernel, which shares 1/k among the pixels it searches at once
    cdf += p;
  }
  return k;
}

export const cameraExposeTs: KernelFunction<'cameraExpose'> = (
  model,
  intensity,
  frames,
  pixels,
  pixelResponse,
  firstFrameIndex,
  powerFactors,
  out,
  saturated,
) => {
  const m = pixels.length;
  // The pixel's arithmetic is float32 (the C++ kernel's vector lanes): the model's values rounded once.
  const fullWellE = fround(model.fullWellE);
  const readNoiseE = fround(model.readNoiseE);
  const aduPerElectron = fround(model.aduPerElectron);
  const biasAdu = fround(model.biasAdu);
  const maxAdu = fround(model.maxAdu);
  for (let f = 0; f < frames; f++) {
    const frameIndex = (firstFrameIndex + f) >>> 0;
    const scale = model.electronsPerIntensity * powerFactors[f]!;
    let clipped = 0;
    for (let i = 0; i < m; i++) {
      // The mean in float64, as the model gives it, then rounded once.
      const lambda = fround(intensity[f * m + i]! * scale * pixelResponse[i]! + model.darkElectrons);
      // Words 0 and 1: one Box–Muller pair, the shot and the read noise's normals; word 2: the inversion's uniform.
      philox4x32(frameIndex, pixels[i]!, 0, 0, model.seed, Stream.cameraNoise, words);
      standardNormalPairFloat32(words[0]!, words[1]!, normals);
      let electrons = model.shotNoise ? poisson(lambda, normals[0]!, words[2]!) : lambda;
      let full = false;
      if (electrons >= fullWellE) {
        electrons = fullWellE;
        full = true;
      }
      electrons = fround(electrons + fround(readNoiseE * normals[1]!)); // + 0 when readNoiseE is 0: electrons ≥ +0
      let adu = Math.floor(fround(fround(fround(electrons * aduPerElectron) + biasAdu) + 0.5));
      if (adu >= maxAdu) {
        adu = maxAdu;
        full = true;
      } else if (adu < 0) adu = 0;
      if (full) clipped++;
      out[f * m + i] = adu;
    }
    saturated[f] = clipped;
  }
};
