import type { CameraFrames } from '../device/frames.js';
import type { AcquisitionStats, ExposureControlledAcquirer, FramesAcquired } from '../measure/acquisition.js';
import { type DmdLayout, randomHalfLitFrames } from '../measure/layout.js';
import { MeasurementError } from '../support/errors.js';
import { seededUniform } from '../support/random.js';

export interface AutoExposureOptions {
  /** Random half-lit test frames every exposure of the sweep is tried on. */
  testFrames: number;
  /** Factor (< 1) applied to the longest exposure with no saturated pixel. */
  margin: number;
  /** Bisection steps between the last clean and the first saturating exposure. */
  bisections: number;
  seed: number;
}

export interface AutoExposure {
  litMirrors: number;
  exposureUs: number;
  sweepExposureUs: number[];
  sweepMaxAdu: number[];
  sweepSaturatedPixels: number[];
  speckleImageAdu: Float32Array;
  speckleWidthPx: number;
  speckleHeightPx: number;
  histogramEdges: Float32Array;
  histogramCounts: Float32Array;
}

/** I/⟨I⟩ bins of the intensity histogram: the exponential law is e^{−x}, so 10 means is far into the tail. */
const HISTOGRAM_BIN = 0.25;
const HISTOGRAM_MAX = 10;

/**
 * The longest exposure at which the brightest frames `project()` shows (half the data elements and one reference)
 * saturate no pixel, found on real frames rather than from the exponential-tail model: a sweep up from half the model's
 * guess until a pixel saturates, then bisection. The chosen exposure is that times the margin, and is applied.
 */
export async function findAutoExposure(
  acquirer: ExposureControlledAcquirer,
  layout: DmdLayout,
  options: AutoExposureOptions,
  stats: AcquisitionStats,
  onAcquired?: FramesAcquired,
): Promise<AutoExposure> {
  const random = seededUniform(options.seed);
  const frames = randomHalfLitFrames(acquirer.device.inputSize, layout, options.testFrames, random, true);
  const litMirrors = (Math.ceil(layout.inputs / 2) + layout.referenceElements) * layout.mirrorsPerElement;
  const { min, max } = acquirer.device.info.limits.exposureUs;
  const sweep = { exposureUs: [] as number[], maxAdu: [] as number[], saturated: [] as number[] };
  const tryExposure = async (exposureUs: number) => {
    const applied = await acquirer.setExposure(exposureUs);
    const shots = await acquirer.acquireRaw(frames, stats, onAcquired);
    const { maxAdu, saturated } = brightest(shots);
    sweep.exposureUs.push(applied);
    sweep.maxAdu.push(maxAdu);
    sweep.saturated.push(saturated);
    return { applied, saturated };
  };

  let clean = 0;
  let saturating = Number.POSITIVE_INFINITY;
  // from half the model's guess, so that the sweep also shows the brightest pixel growing in proportion
  let exposure = Math.min(max, Math.max(min, acquirer.exposureFor(litMirrors, options.testFrames) / 2));
  for (;;) {
    const { applied, saturated } = await tryExposure(exposure);
    if (saturated > 0) saturating = Math.min(saturating, applied);
    else clean = Math.max(clean, applied);
    if (clean > 0 && Number.isFinite(saturating)) break;
    if (saturated === 0 && applied >= max) break;
    if (saturated > 0 && applied <= min) {
      throw new MeasurementError('pixels saturate at the shortest exposure the device allows', {
        field: 'exposureUs',
        fix: 'lower the camera gain or use fewer mirrors per element',
      });
    }
    exposure = saturated > 0 ? applied / 2 : applied * 2;
  }
  for (let step = 0; step < options.bisections && Number.isFinite(saturating); step++) {
    const { applied, saturated } = await tryExposure(Math.sqrt(clean * saturating));
    if (saturated > 0) saturating = applied;
    else clean = applied;
  }
  const exposureUs = await acquirer.setExposure(clean * options.margin);
  const shots = await acquirer.acquireRaw(frames, stats, onAcquired);
  return {
    litMirrors,
    exposureUs,
    sweepExposureUs: sweep.exposureUs,
    sweepMaxAdu: sweep.maxAdu,
    sweepSaturatedPixels: sweep.saturated,
    ...speckleImage(acquirer, shots[0]!),
    ...intensityHistogram(acquirer, shots),
  };
}

function brightest(shots: CameraFrames[]): { maxAdu: number; saturated: number } {
  let maxAdu = 0;
  let saturated = 0;
  for (const shot of shots) {
    for (let i = 0; i < shot.data.length; i++) if (shot.data[i]! > maxAdu) maxAdu = shot.data[i]!;
    for (let f = 0; f < shot.count; f++) saturated += shot.meta.saturatedPixels[f]!;
  }
  return { maxAdu, saturated };
}

/** The whole ROI of one frame, dark-subtracted (pixels past the facade's outputs use the mean dark level). */
function speckleImage(acquirer: ExposureControlledAcquirer, shot: CameraFrames) {
  const pixels = shot.widthPx * shot.heightPx;
  const exposureUs = shot.meta.exposureUs;
  const m = acquirer.outputs;
  let meanDark = 0;
  for (let i = 0; i < m; i++)
    meanDark += (acquirer.darkOffsetAdu[i]! + acquirer.darkSlopeAduPerUs[i]! * exposureUs) / m;
  const image = new Float32Array(pixels);
  for (let i = 0; i < pixels; i++) {
    const dark = i < m ? acquirer.darkOffsetAdu[i]! + acquirer.darkSlopeAduPerUs[i]! * exposureUs : meanDark;
    image[i] = shot.data[i]! - dark;
  }
  return { speckleImageAdu: image, speckleWidthPx: shot.widthPx, speckleHeightPx: shot.heightPx };
}

/** Histogram of I/⟨I⟩ per frame over the outputs: speckle of a half-lit frame follows the exponential law. */
function intensityHistogram(acquirer: ExposureControlledAcquirer, shots: CameraFrames[]) {
  const bins = Math.round(HISTOGRAM_MAX / HISTOGRAM_BIN);
  const histogramEdges = Float32Array.from({ length: bins + 1 }, (_, b) => b * HISTOGRAM_BIN);
  const histogramCounts = new Float32Array(bins);
  const m = acquirer.outputs;
  const intensity = new Float32Array(m);
  for (const shot of shots) {
    for (let f = 0; f < shot.count; f++) {
      acquirer.normalizeInto(shot, f, intensity, 0);
      let mean = 0;
      for (let i = 0; i < m; i++) mean += intensity[i]! / m;
      if (!(mean > 0)) continue;
      for (let i = 0; i < m; i++) {
        const b = Math.floor(intensity[i]! / mean / HISTOGRAM_BIN);
        if (b >= 0 && b < bins) histogramCounts[b]!++;
      }
    }
  }
  return { histogramEdges, histogramCounts };
}
