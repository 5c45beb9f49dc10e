import { type CameraBitDepth, parseOrThrow, rectangleSchema } from 'opu-core';
import { z } from 'zod';

/**
 * Every physical parameter of the simulator, with its unit in its name. Defaults describe a LightOn-like OPU:
 * a 912×1140 DMD (TI DLP4500 geometry) and a CMV2000-class 8-bit camera; see docs/physics.md for the sources.
 */
export const dmdOptionsSchema = z.object({
  widthMirrors: z.number().int().positive().default(912),
  heightMirrors: z.number().int().positive().default(1140),
  mirrorPitchUm: z.number().positive().default(7.6),
  maxFrameRateHz: z.number().positive().default(4000),
  /** What mirrors outside the input region show: 'off', or 'on' (lightonml's choice: a constant field on every frame). */
  outsidePattern: z.enum(['off', 'on']).default('off'),
});

export const mediumOptionsSchema = z.object({
  /** Intensity-correlation diameter (FWHM) of a speckle grain on the sensor; 0 = one independent grain per pixel. */
  speckleGrainPx: z.number().nonnegative().max(16).default(0),
  /**
   * Decorrelation time constant of the medium, seconds of simulated time; Infinity = a fixed medium
   * (z.number() rejects ±Infinity, so that value needs its own literal).
   */
  driftTimeConstantS: z
    .union([z.number().positive(), z.literal(Number.POSITIVE_INFINITY)])
    .default(Number.POSITIVE_INFINITY),
});

export const laserOptionsSchema = z.object({
  /** Relative RMS of the frame-to-frame power fluctuation (multiplicative, common to the whole frame). */
  powerFluctuationRms: z.number().nonnegative().max(0.5).default(0.003),
});

export const cameraOptionsSchema = z.object({
  widthPx: z.number().int().positive().default(1920),
  heightPx: z.number().int().positive().default(1080),
  pixelPitchUm: z.number().positive().default(5.5),
  bitDepth: z.union([z.literal(8), z.literal(10), z.literal(12)]).default(8),
  fullWellE: z.number().positive().default(13_500),
  readNoiseE: z.number().nonnegative().default(13),
  /** Photo-electrons per photon at the laser's wavelength (CMV2000: about 0.6 at 532 nm). */
  quantumEfficiency: z.number().positive().max(1).default(0.6),
  darkCurrentEPerS: z.number().nonnegative().default(125),
  /** Offset added by the ADC so that read noise is not clipped at zero; default 1% of full scale (at least 2). */
  biasAdu: z.number().nonnegative().optional(),
  /** Relative RMS of the pixel-to-pixel gain (photo-response non-uniformity), fixed per pixel. */
  prnuRms: z.number().nonnegative().max(0.5).default(0.01),
  shotNoise: z.boolean().default(true),
  fullFrameReadoutUs: z.number().positive().default(2900),
  frameOverheadUs: z.number().nonnegative().default(50),
  /** Camera frame i shows DMD frame i − lag (a mis-wired or mis-timed trigger). */
  triggerLagFrames: z.number().int().min(0).max(4).default(0),
});

export const simOptionsSchema = z.object({
  seed: z.number().int().min(0).max(0xffff_ffff).default(0),
  dmd: dmdOptionsSchema.prefault({}),
  medium: mediumOptionsSchema.prefault({}),
  laser: laserOptionsSchema.prefault({}),
  camera: cameraOptionsSchema.prefault({}),
  /**
   * Mean photons reaching a pixel per lit mirror per µs at nominal laser power: lumps laser power, DMD and medium
   * transmission and the spreading of the speckle over the sensor.
   */
  photonsPerMirrorUs: z
    .number()
    .positive()
    .default(0.004 / 0.6),
  /** Settings the device opens with. */
  inputRegion: rectangleSchema.default({ left: 0, top: 0, width: 32, height: 32 }),
  outputRoi: rectangleSchema.default({ left: 0, top: 0, width: 64, height: 32 }),
  exposureUs: z.number().positive().default(400),
  frameTimeUs: z.number().positive().default(500),
  minFramesPerAcquisition: z.number().int().positive().default(1),
  maxFramesPerAcquisition: z.number().int().positive().default(4096),
  /**
   * How fields are summed: 'lists' adds one matrix column per lit mirror, 'tables' adds precomputed sums of every
   * subset of 4 mirrors (dense frames), 'grouped' sums once the mirrors that are on or off together over a batch
   * (the macro-pixels of the facade's encodings), 'dense' int16 dot products (AVX-512 VNNI CPUs; elsewhere tables);
   * 'auto' picks per batch. The sums are exact integers, so the choice
   * never changes a number. The TypeScript kernels always use lists.
   */
  fieldKernel: z.enum(['auto', 'lists', 'tables', 'grouped', 'dense']).default('auto'),
  /** The whole transmission matrix of the current region × ROI is kept in memory when it fits in this budget. */
  matrixCacheMb: z.number().nonnegative().default(256),
});

export type SimOptions = z.input<typeof simOptionsSchema>;
export type ResolvedSimOptions = z.output<typeof simOptionsSchema>;

/** Mean photo-electrons per pixel per lit mirror per µs of exposure: light × quantum efficiency. */
export function photoelectronsPerMirrorUs(options: ResolvedSimOptions): number {
  return options.photonsPerMirrorUs * options.camera.quantumEfficiency;
}

/** A camera with no noise source but quantization: for tests against ground truth. */
export const IDEAL_CAMERA = {
  bitDepth: 12 as CameraBitDepth,
  readNoiseE: 0,
  darkCurrentEPerS: 0,
  biasAdu: 0,
  prnuRms: 0,
  shotNoise: false,
} as const;

export function resolveSimOptions(options: SimOptions = {}): ResolvedSimOptions {
  return parseOrThrow(simOptionsSchema, options, 'options', 'see docs/physics.md for each parameter’s unit and range');
}
