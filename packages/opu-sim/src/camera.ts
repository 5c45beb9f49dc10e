import type { CameraPixels } from 'opu-core';
import { type CameraExposeRequest, type CounterRng, kernels, Stream } from 'opu-native';
import type { ResolvedSimOptions } from './options.js';

type CameraOptions = ResolvedSimOptions['camera'];

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
    const request = this.#request(intensity, frames, exposure);
    kernels.cameraExpose(request);
    return { data: request.out, saturated: request.saturated };
  }

  /** `expose` off the JavaScript thread when the C++ kernels are loaded. */
  async exposeAsync(
    intensity: Float32Array,
    frames: number,
    exposure: Exposure,
  ): Promise<{ data: CameraPixels; saturated: Uint32Array }> {
    const request = this.#request(intensity, frames, exposure);
    await kernels.cameraExposeAsync(request);
    return { data: request.out, saturated: request.saturated };
  }

  #request(intensity: Float32Array, frames: number, exposure: Exposure): CameraExposeRequest {
    const o = this.#options;
    const m = this.#pixels.length;
    return {
      model: {
        seed: this.#rng.seed,
        electronsPerIntensity: this.#photoelectronsPerMirrorUs * exposure.exposureUs,
        darkElectrons: o.darkCurrentEPerS * exposure.exposureUs * 1e-6,
        fullWellE: o.fullWellE,
        readNoiseE: o.readNoiseE,
        aduPerElectron: (this.maxAdu / o.fullWellE) * 10 ** (exposure.gainDb / 20),
        biasAdu: this.biasAdu,
        maxAdu: this.maxAdu,
        shotNoise: o.shotNoise,
      },
      intensity,
      frames,
      pixels: this.#pixels,
      pixelResponse: this.#pixelResponse,
      firstFrameIndex: exposure.firstFrameIndex,
      powerFactors: exposure.powerFactors,
      out: o.bitDepth === 8 ? new Uint8Array(frames * m) : new Uint16Array(frames * m),
      saturated: new Uint32Array(frames),
    };
  }
}
