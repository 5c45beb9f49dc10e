import { allocateDmdFrames, type DmdFrames, litMirrorCounts, litMirrors, setMirror } from '../device/frames.js';
import type { OpuInfo } from '../device/info.js';
import { type Rectangle, rectangleArea } from '../device/settings.js';
import { MeasurementError } from '../support/errors.js';
import { seededUniform } from '../support/random.js';
import { type AcquisitionStats, type ExposureControlledAcquirer, gatherFrames } from './acquisition.js';
import type { DmdLayout } from './layout.js';

/**
 * Relative error the random frames aim at: 0.09% of responsivity, 0.045% of gain in `project()` (which scales as
 * responsivity^−½), a third of the ±0.2% gain bound in 3σ with the region's own error (`REGION_ENTRIES`). Each
 * intensity is one independent exponential sample, so it takes spread²/(outputs·0.09%²) frames, spread² =
 * 1 + 2p/(1 − p) (see `responsivityPlan`): 1.9k frames for 1000 outputs, 1k for 2048; 256 outputs reach the cap.
 */
const TARGET_RELATIVE_ERROR = 0.0009;
/** Bounds on the frames: small ROIs would need too much device time, and few frames make a poor exposure guess. */
const MIN_FRAMES = 32;
const MAX_FRAMES = 4096;
/**
 * Matrix entries (region mirrors × outputs) the region aims at: their empirical mean |R_ij|² is what is measured,
 * and it differs from the population's E|R_ij|² = 1 (what B is normalized by) by ≈ 1/√entries, 0.1% here (2^22
 * entries made no measurable difference to the gain and cost the simulator half a second per open). A simulator
 * computes the region's matrix in proportion to them, so they are not made larger than needed; when the
 * layout's region holds that many already, the measurement stays on it.
 */
const REGION_ENTRIES = 2 ** 20;
/** The region stays moderate: every frame travels to the device packed at one bit per mirror of the input region. */
const MAX_REGION_MIRRORS = 16_384;
/**
 * Mirrors a frame lights at least, when the region allows (at most a quarter of it): about as many as the facade's
 * own frames light, so exposures stay as short as theirs, and frames no brighter than theirs cannot saturate.
 */
const MIN_LIT_MIRRORS = 1024;
/** Frames of the first exposure guess, a subset of the measured ones. */
const GUESS_FRAMES = 32;

export interface ResponsivityOptions {
  /** Frames averaged with the whole region on. */
  averagedFrames: number;
  seed: number;
}

/** What the responsivity measurement shows: where, how many mirrors a frame, and how many frames. */
export interface ResponsivityPlan {
  /** Input region of the measurement: whole DMD rows around the layout's region. */
  region: Rectangle;
  /** Mirrors lit in each random frame, k. */
  litMirrors: number;
  /** Random frames, F. */
  frames: number;
}

/**
 * Frames `measureResponsivity` usually shows, for estimates: the exposure guess's frames (one attempt when the
 * present exposure suits them, a few more when it is far off), the random frames and the region-on frames.
 */
export function responsivityFrames(plan: ResponsivityPlan, averagedFrames: number): number {
  return 3 * Math.min(plan.frames, GUESS_FRAMES) + plan.frames + averagedFrames;
}

/**
 * The region and frames for a layout region and a number of outputs. The region is whole DMD rows from the layout's
 * first one, of about `REGION_ENTRIES / outputs` mirrors (at most `MAX_REGION_MIRRORS`), or the layout's own region
 * when it is that large already. Frames light a fraction p of it: 1/16, or up to 1/4 to reach `MIN_LIT_MIRRORS`, and
 * never more mirrors than the layout has. The
 * frames' common field p·Σ_q R_iq, fixed for a given medium, adds 2p/(1 − p) to each intensity's relative variance:
 * p = 1/16 costs 13% more frames than a vanishing p, 1/4 costs 67%, against exposures that scale as 1/(pQ). That
 * variance is not Gaussian: it is the interference of each frame's field with the common one, largest at the pixels
 * where the whole region is brightest, and at p = 1/8 one medium (seed 6, 64 → 256) came out 0.54% high, noise-free,
 * against −0.01% at 1/16.
 */
export function responsivityPlan(info: OpuInfo, layoutRegion: Rectangle, outputs: number): ResponsivityPlan {
  const { widthMirrors, heightMirrors } = info.dmd;
  const regionMirrors = Math.min(MAX_REGION_MIRRORS, Math.ceil(REGION_ENTRIES / outputs));
  let region = layoutRegion;
  if (rectangleArea(layoutRegion) < regionMirrors) {
    const height = Math.min(heightMirrors, Math.max(layoutRegion.height, Math.ceil(regionMirrors / widthMirrors)));
    // Down from the layout's first row, or up from the DMD's last row when that would run off it.
    region = { left: 0, top: Math.min(layoutRegion.top, heightMirrors - height), width: widthMirrors, height };
  }
  const Q = rectangleArea(region);
  // Never more than the layout's mirrors, which the facade's own frames light at most: no brighter than those.
  const wanted = Math.min(Q / 4, Math.max(Q / 16, MIN_LIT_MIRRORS), rectangleArea(layoutRegion));
  const lit = Math.max(1, Math.round(wanted));
  const p = lit / Q;
  const spread2 = p < 1 ? 1 + (2 * p) / (1 - p) : 1;
  const frames = Math.ceil(spread2 / (outputs * TARGET_RELATIVE_ERROR ** 2));
  return { region, litMirrors: lit, frames: Math.min(MAX_FRAMES, Math.max(MIN_FRAMES, frames)) };
}

/**
 * The responsivity: mean ADU per µs of exposure per lit mirror, one unit of field intensity (E|R_ij|² = 1), measured
 * as a device property (laser power × optics × camera gain) on many independent speckle samples, and left in
 * `acquirer.responsivity`.
 *
 * Frames light k random mirrors (a fresh uniform subset each) of a region of Q mirrors: whole DMD rows around the
 * layout, set for this measurement only, when the layout's own region is too small (`responsivityPlan`). Over subsets, each mirror is lit with
 * probability k/Q and each pair with k(k−1)/(Q(Q−1)), so
 *   E[I_i] = k(Q−k)/(Q(Q−1))·Σ_q |R_iq|² + k(k−1)/(Q(Q−1))·|Σ_q R_iq|².
 * The second term is one fixed speckle common to all frames, which averaging cannot remove (it leaves a
 * (k/Q)/√outputs error): it is measured with the whole region on, and subtracted. What remains estimates the
 * region's mean |R_iq|², within ≈ √(1 + 2p/(1 − p))/√(outputs·frames) with p = k/Q (independent samples: given
 * the medium, the subsets are drawn independently), and that mean is within ≈ 1/√(outputs·Q) of the population's. The dark level model, the laser's frame-to-frame
 * fluctuation and shot noise average out; the pixels' response non-uniformity is the ROI's own, as in `project()`.
 */
export async function measureResponsivity(
  acquirer: ExposureControlledAcquirer,
  layout: DmdLayout,
  options: ResponsivityOptions,
  stats: AcquisitionStats,
): Promise<void> {
  const { device } = acquirer;
  const plan = responsivityPlan(device.info, layout.region, acquirer.outputs);
  const restore = device.settings.inputRegion;
  const moves = (['left', 'top', 'width', 'height'] as const).some((key) => plan.region[key] !== restore[key]);
  if (moves) await device.configure({ inputRegion: plan.region });
  try {
    acquirer.responsivity = await measureOnRegion(acquirer, plan, options, stats);
  } finally {
    if (moves) await device.configure({ inputRegion: restore });
  }
  if (!(acquirer.responsivity > 0)) {
    throw new MeasurementError('no speckle signal above the dark level', {
      field: 'responsivity',
      fix: 'check that the laser is on and the ROI sees the speckle',
    });
  }
}

async function measureOnRegion(
  acquirer: ExposureControlledAcquirer,
  plan: ResponsivityPlan,
  options: ResponsivityOptions,
  stats: AcquisitionStats,
): Promise<number> {
  const Q = rectangleArea(plan.region);
  const k = plan.litMirrors;
  const F = plan.frames;
  const frames = allocateDmdFrames(F, Q);
  const random = seededUniform(options.seed);
  const mirrors = Uint32Array.from({ length: Q }, (_, q) => q);
  for (let f = 0; f < F; f++) {
    // A partial Fisher–Yates shuffle: its first k entries are a uniform k-subset.
    for (let j = 0; j < k; j++) {
      const pick = j + Math.floor(random() * (Q - j));
      const chosen = mirrors[pick]!;
      mirrors[pick] = mirrors[j]!;
      mirrors[j] = chosen;
      setMirror(frames, f, chosen);
    }
  }
  await bringExposureIntoRange(acquirer, gatherFrames(frames, [...Array(Math.min(F, GUESS_FRAMES)).keys()]), stats);
  const random_ = meanIntensity(await acquirer.acquireNormalized(frames, litMirrorCounts(frames), stats));
  const pairs = (k * (k - 1)) / (Q * (Q - 1));
  const singles = (k * (Q - k)) / (Q * (Q - 1));
  const regionOn = await measureRegionOn(acquirer, Q, options.averagedFrames, stats);
  // A device too bright to show the whole region unsaturated: the common speckle is taken at its expectation,
  // Σ_q |R_iq|², which leaves an error of ≈ (k/Q)/√outputs.
  if (regionOn === undefined) return random_ / ((singles + pairs) * Q);
  return (random_ - pairs * regionOn) / (singles * Q);
}

/** Mean over frames and outputs of the whole region's intensity per µs, or undefined if it saturates. */
async function measureRegionOn(
  acquirer: ExposureControlledAcquirer,
  Q: number,
  averagedFrames: number,
  stats: AcquisitionStats,
): Promise<number | undefined> {
  const frames = allocateDmdFrames(averagedFrames, Q);
  for (let f = 0; f < averagedFrames; f++) for (let q = 0; q < Q; q++) setMirror(frames, f, q);
  try {
    return meanIntensity(await acquirer.acquireNormalized(frames, litMirrorCounts(frames), stats));
  } catch (error) {
    if (error instanceof MeasurementError && error.field === 'exposureUs') return undefined;
    throw error;
  }
}

function meanIntensity(intensity: Float32Array): number {
  let sum = 0;
  for (const v of intensity) sum += v;
  return sum / intensity.length;
}

/**
 * A first responsivity guess, from the raw frames at an exposure that neither saturates nor leaves the signal near
 * the quantization step; `acquireNormalized` then picks exposures from it.
 */
async function bringExposureIntoRange(
  acquirer: ExposureControlledAcquirer,
  frames: DmdFrames,
  stats: AcquisitionStats,
) {
  const m = acquirer.outputs;
  const { limits, camera } = acquirer.device.info;
  let exposure = acquirer.device.settings.exposureUs;
  let totalLit = 0;
  for (let f = 0; f < frames.count; f++) totalLit += litMirrors(frames, f);
  for (let attempt = 0; attempt < 24; attempt++) {
    exposure = await acquirer.setExposure(exposure);
    const shots = await acquirer.acquireRaw(frames, stats);
    let saturated = 0;
    let signal = 0;
    for (const shot of shots) {
      const pixels = shot.widthPx * shot.heightPx;
      for (let f = 0; f < shot.count; f++) {
        saturated += shot.meta.saturatedPixels[f]!;
        for (let i = 0; i < m; i++) {
          signal += shot.data[f * pixels + i]! - acquirer.darkOffsetAdu[i]! - acquirer.darkSlopeAduPerUs[i]! * exposure;
        }
      }
    }
    if (saturated > 0) {
      if (exposure <= limits.exposureUs.min) break;
      exposure /= 2;
      continue;
    }
    const meanAdu = signal / (frames.count * m);
    if (meanAdu < camera.maxAdu * 0.02 && exposure < limits.exposureUs.max) {
      exposure *= Math.min(16, (camera.maxAdu * 0.05) / Math.max(meanAdu, 1e-3));
      continue;
    }
    acquirer.responsivity = signal / (totalLit * m * exposure);
    return;
  }
  throw new MeasurementError('could not find an exposure that neither saturates nor drowns in noise', {
    field: 'exposureUs',
    fix: 'check the device’s exposure limits and that light reaches the camera',
  });
}
