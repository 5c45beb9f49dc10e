import { z } from 'zod';

const positiveInt = z.number().int().positive();
const fraction = z.number().gt(0).lt(1);
const origin = z
  .object({ left: z.number().int().nonnegative(), top: z.number().int().nonnegative() })
  .default({ left: 0, top: 0 });

/** Every number the pipeline takes, with its default. */
export const pipelineSettingsSchema = z.object({
  seed: z.number().int().min(0).default(0),
  /** Frames averaged per dark level (two exposures), and for the responsivity's all-data-on frame. */
  darkFrames: positiveInt.default(32),
  exposure: z
    .object({
      testFrames: positiveInt.default(64),
      margin: fraction.default(0.8),
      bisections: z.number().int().min(0).default(4),
    })
    .prefault({}),
  reference: z
    .object({
      /** Median |b_k|² over the standard error of its average that the averaging must reach. */
      targetSnr: z.number().positive().default(200),
      pilotFrames: positiveInt.default(16),
      maxFrames: positiveInt.default(1024),
    })
    .prefault({}),
  linearityPairs: positiveInt.default(8),
  stability: z
    .object({
      repetitions: z.number().int().min(2).default(11),
      durationS: z.number().positive().default(10),
      probeFrames: positiveInt.default(8),
      threshold: fraction.default(0.998),
    })
    .prefault({}),
  transmissionMatrix: z
    .object({
      rows: positiveInt,
      cols: positiveInt,
      method: z.enum(['anchors', 'circulant']).default('anchors'),
      anchors: z.number().int().min(2).default(8),
      oversampling: z.number().min(1).default(2),
      anchorAveragedFrames: positiveInt.default(8),
      testInputs: positiveInt.default(32),
      /** Top-left mirror of the matrix's rectangle on the DMD (its columns, then its anchors). */
      dmdOrigin: origin,
      /** Top-left pixel of its rows on the camera. */
      cameraOrigin: origin,
    })
    .optional(),
});
export type PipelineSettings = z.input<typeof pipelineSettingsSchema>;
export type ResolvedSettings = z.output<typeof pipelineSettingsSchema>;
export type TransmissionMatrixSettings = NonNullable<ResolvedSettings['transmissionMatrix']>;
