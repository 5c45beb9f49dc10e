import {
  allocateDmdFrames,
  type CameraFrames,
  type DmdFrames,
  litMirrors,
  minFrameTimeUs,
  type OpenedDevice,
  OpuDevice,
  type OpuInfo,
  type OpuSettings,
  rectangleArea,
  setMirror,
} from 'opu-core';
import { CounterRng } from 'opu-native';
import { SimulatedCamera } from './camera.js';
import { type Clock, SimulatedClock } from './clock.js';
import { planeIndices, rectangleIndices } from './geometry.js';
import { SimulatedLaser } from './laser.js';
import { type ComplexField, TransmissionMedium } from './medium.js';
import { photoelectronsPerMirrorUs, type ResolvedSimOptions, resolveSimOptions, type SimOptions } from './options.js';
import { SpeckleGrain } from './speckle-grain.js';

const VERSION = '0.1.0';

export interface SimulatedOpuDeviceInit {
  options?: SimOptions;
  /** Source of every random number (medium, noise, laser); defaults to one seeded with `options.seed`. */
  rng?: CounterRng;
  /** Device time source; defaults to a fresh simulated clock starting at 0. */
  clock?: Clock;
}

/** A simulated OPU: DMD, laser, scattering medium and camera, each modelled physically (docs/physics.md). */
export class SimulatedOpuDevice extends OpuDevice {
  readonly options: ResolvedSimOptions;
  readonly clock: Clock;
  readonly #rng: CounterRng;
  readonly #medium: TransmissionMedium;
  readonly #camera: SimulatedCamera;
  readonly #laser: SimulatedLaser;
  readonly #grain: SpeckleGrain;
  #framesAcquired = 0;
  #geometry!: Geometry;
  /** Intensities of the last DMD frames shown, for a camera whose trigger lags the DMD. */
  #lagged: Float32Array[] = [];
  /**
   * The intensities the camera exposes, reused from acquisition to acquisition (half a megabyte for a batch of 250
   * frames of 512 pixels, which would otherwise be garbage after each one): acquisitions run one at a time (OpuDevice
   * queues them), the camera only reads it, and the trigger lag keeps copies.
   */
  #intensityBuffer = new Float32Array(0);

  constructor(init: SimulatedOpuDeviceInit = {}) {
    super();
    this.options = resolveSimOptions(init.options);
    this.clock = init.clock ?? new SimulatedClock();
    this.#rng = init.rng ?? new CounterRng(this.options.seed);
    this.#medium = new TransmissionMedium(
      this.#rng,
      this.options.medium.driftTimeConstantS,
      this.options.matrixCacheMb * 2 ** 20,
      this.options.fieldKernel,
    );
    this.#camera = new SimulatedCamera(this.#rng, this.options.camera, photoelectronsPerMirrorUs(this.options));
    this.#laser = new SimulatedLaser(this.#rng, this.options.laser.powerFluctuationRms);
    this.#grain = new SpeckleGrain(this.options.medium.speckleGrainPx);
  }

  /** Frames shown since the device opened; keys all per-frame noise. */
  get framesAcquired(): number {
    return this.#framesAcquired;
  }

  /** Ground truth for tests: what an ideal, noise-free measurement of the current medium would give. */
  readonly groundTruth = {
    /** The complex field `R(t)·x` on the ROI for each frame, at the current device time, with no noise. */
    field: (frames: DmdFrames): ComplexField => {
      const t = this.clock.nowUs() * 1e-6;
      return this.#fields(frames, new Float64Array(frames.count).fill(t));
    },
    /**
     * The effective transmission matrix between the input region and the ROI at the current time:
     * `outputs × inputs`, row-major. Includes speckle-grain filtering; excludes the outside pattern's constant field.
     */
    transmissionMatrix: (): ComplexField => {
      const n = this.inputSize;
      const m = this.outputSize;
      const t = this.clock.nowUs() * 1e-6;
      const units = allocateDmdFrames(n, n);
      for (let j = 0; j < n; j++) setMirror(units, j, j);
      const cols = this.#fields(units, new Float64Array(n).fill(t), false);
      const out = { re: new Float32Array(m * n), im: new Float32Array(m * n) };
      for (let j = 0; j < n; j++) {
        for (let i = 0; i < m; i++) {
          out.re[i * n + j] = cols.re[j * m + i]!;
          out.im[i * n + j] = cols.im[j * m + i]!;
        }
      }
      return out;
    },
  };

  protected async doOpen(): Promise<OpenedDevice> {
    const o = this.options;
    const info: OpuInfo = {
      model: 'opu-sim',
      serialNumber: `SIM-${o.seed.toString(16).padStart(8, '0')}`,
      firmwareVersion: VERSION,
      dmd: {
        widthMirrors: o.dmd.widthMirrors,
        heightMirrors: o.dmd.heightMirrors,
        mirrorPitchUm: o.dmd.mirrorPitchUm,
        maxFrameRateHz: o.dmd.maxFrameRateHz,
      },
      camera: {
        widthPx: o.camera.widthPx,
        heightPx: o.camera.heightPx,
        pixelPitchUm: o.camera.pixelPitchUm,
        bitDepth: o.camera.bitDepth,
        maxAdu: 2 ** o.camera.bitDepth - 1,
        fullFrameReadoutUs: o.camera.fullFrameReadoutUs,
        frameOverheadUs: o.camera.frameOverheadUs,
      },
      limits: {
        exposureUs: { min: 10, max: 100_000 },
        frameTimeUs: { min: 1e6 / o.dmd.maxFrameRateHz, max: 1_000_000 },
        gainDb: { min: 0, max: 24 },
        minFramesPerAcquisition: o.minFramesPerAcquisition,
        maxFramesPerAcquisition: o.maxFramesPerAcquisition,
      },
    };
    const settings: OpuSettings = {
      exposureUs: o.exposureUs,
      frameTimeUs: Math.max(o.frameTimeUs, minFrameTimeUs(info, o.exposureUs, o.outputRoi.height)),
      gainDb: 0,
      inputRegion: o.inputRegion,
      outputRoi: o.outputRoi,
    };
    this.#applyGeometry(settings);
    return { info, settings };
  }

  protected async doClose(): Promise<void> {
    this.#lagged = [];
  }

  protected async doConfigure(settings: OpuSettings): Promise<void> {
    const current = this.settings;
    const sameRegion = JSON.stringify(current.inputRegion) === JSON.stringify(settings.inputRegion);
    const sameRoi = JSON.stringify(current.outputRoi) === JSON.stringify(settings.outputRoi);
    if (!sameRegion || !sameRoi) {
      this.#applyGeometry(settings);
      this.#lagged = [];
    }
  }

  protected async doAcquire(frames: DmdFrames): Promise<CameraFrames> {
    const s = this.settings;
    const count = frames.count;
    const m = rectangleArea(s.outputRoi);
    const startUs = this.clock.nowUs();
    const timestampsUs = new Float64Array(count);
    for (let f = 0; f < count; f++) timestampsUs[f] = startUs + f * s.frameTimeUs;
    const shown = await this.#intensities(
      frames,
      timestampsUs.map((t) => t * 1e-6),
    );
    const captured = this.#applyTriggerLag(shown, count, m);
    const { data, saturated } = await this.#camera.exposeAsync(captured, count, {
      exposureUs: s.exposureUs,
      gainDb: s.gainDb,
      firstFrameIndex: this.#framesAcquired,
      powerFactors: this.#laser.powerFactors(this.#framesAcquired, count),
    });
    this.#framesAcquired += count;
    this.clock.advanceUs(count * s.frameTimeUs);
    return {
      count,
      widthPx: s.outputRoi.width,
      heightPx: s.outputRoi.height,
      bitDepth: this.options.camera.bitDepth,
      data,
      meta: {
        exposureUs: s.exposureUs,
        frameTimeUs: s.frameTimeUs,
        gainDb: s.gainDb,
        timestampsUs,
        litMirrors: Uint32Array.from({ length: count }, (_, f) => litMirrors(frames, f)),
        saturatedPixels: saturated,
      },
    };
  }

  #applyGeometry(settings: OpuSettings): void {
    const o = this.options;
    const extended = this.#grain.extend(settings.outputRoi);
    const regionArea = rectangleArea(settings.inputRegion);
    this.#geometry = {
      mirrors: rectangleIndices(settings.inputRegion, o.dmd.widthMirrors),
      pixels: this.#grain.enabled
        ? planeIndices(extended, o.camera.widthPx, o.camera.heightPx)
        : rectangleIndices(settings.outputRoi, o.camera.widthPx),
      outsideLitMirrors: o.dmd.outsidePattern === 'on' ? o.dmd.widthMirrors * o.dmd.heightMirrors - regionArea : 0,
      extended,
      roi: settings.outputRoi,
    };
    this.#camera.setPixels(rectangleIndices(settings.outputRoi, o.camera.widthPx));
  }

  #fields(frames: DmdFrames, timesS: Float64Array, withOutside = true): ComplexField {
    const g = this.#geometry;
    const geometry = withOutside ? g : { ...g, outsideLitMirrors: 0 };
    const field = this.#medium.fields(frames, geometry, timesS);
    return this.#grain.enabled ? this.#grain.apply(field, frames.count, g.extended, g.roi) : field;
  }

  /** |R x|² on the ROI; without grains the medium computes it without storing the complex field. */
  async #intensities(frames: DmdFrames, timesS: Float64Array): Promise<Float32Array> {
    const length = frames.count * rectangleArea(this.#geometry.roi);
    if (this.#intensityBuffer.length < length) this.#intensityBuffer = new Float32Array(length);
    const out = this.#intensityBuffer.subarray(0, length);
    if (!this.#grain.enabled) return this.#medium.intensities(frames, this.#geometry, timesS, out);
    const field = this.#fields(frames, timesS);
    for (let i = 0; i < out.length; i++) out[i] = field.re[i]! ** 2 + field.im[i]! ** 2;
    return out;
  }

  /** With a lagging trigger, camera frame i integrates DMD frame i − lag; the first ones see the previous batch. */
  #applyTriggerLag(shown: Float32Array, count: number, m: number): Float32Array {
    const lag = this.options.camera.triggerLagFrames;
    if (lag === 0) return shown;
    const combined = new Float32Array((lag + count) * m);
    for (const [i, frame] of this.#lagged.entries()) combined.set(frame, (lag - this.#lagged.length + i) * m);
    combined.set(shown, lag * m);
    this.#lagged = Array.from({ length: lag }, (_, i) => combined.slice((count + i) * m, (count + i + 1) * m));
    return combined.subarray(0, count * m);
  }
}

interface Geometry {
  mirrors: Int32Array;
  pixels: Int32Array;
  outsideLitMirrors: number;
  extended: { left: number; top: number; width: number; height: number };
  roi: { left: number; top: number; width: number; height: number };
}
