import { kernels } from 'opu-native';
import {
  allocateDmdFrames,
  bytesPerFrame,
  type CameraFrames,
  type DmdFrames,
  litMirrorCounts,
} from '../device/frames.js';
import { minFrameTimeUs } from '../device/info.js';
import type { OpuDevice } from '../device/opu-device.js';
import { rectangleArea } from '../device/settings.js';
import { MeasurementError } from '../support/errors.js';
import { ScratchArrays } from './scratch.js';
import { measureTriggerLag } from './trigger-lag.js';

/** Counters that every result reports. */
export interface AcquisitionStats {
  /** DMD frames shown, including blank padding and trigger-lag flush frames. */
  frames: number;
  acquisitions: number;
  /** Groups re-acquired at a shorter exposure because a pixel saturated. */
  saturationRetries: number;
  /** Time the modelled or real hardware spent, from the frame times: what the device would sustain. */
  deviceTimeUs: number;
  exposureUsMin: number;
  exposureUsMax: number;
}

/** Called after each acquisition with the number of requested frames it measured. */
export type FramesAcquired = (frames: number) => void;

export function emptyStats(): AcquisitionStats {
  return {
    frames: 0,
    acquisitions: 0,
    saturationRetries: 0,
    deviceTimeUs: 0,
    exposureUsMin: Number.POSITIVE_INFINITY,
    exposureUsMax: 0,
  };
}

/** Adds the counters of `from` to `into`. */
export function addStats(into: AcquisitionStats, from: AcquisitionStats): void {
  into.frames += from.frames;
  into.acquisitions += from.acquisitions;
  into.saturationRetries += from.saturationRetries;
  into.deviceTimeUs += from.deviceTimeUs;
  into.exposureUsMin = Math.min(into.exposureUsMin, from.exposureUsMin);
  into.exposureUsMax = Math.max(into.exposureUsMax, from.exposureUsMax);
}

/** The facade's trigger-lag test lights frame 5 of 10: blanks before it, and room after it for the longest lag. */
const TRIGGER_TEST_LIT_FRAME = 5;
/** Frames of one trigger-lag test (more only when the camera sees nothing at first and the exposure is raised). */
export const TRIGGER_TEST_FRAMES = 2 * TRIGGER_TEST_LIT_FRAME;
/** Exposure grows by this factor while the trigger-lag test sees nothing. */
const TRIGGER_TEST_EXPOSURE_STEP = 8;

/** Exposure shrinks by this factor on each saturated retry. */
const RETRY_EXPOSURE_FACTOR = 0.6;
const MAX_SATURATION_RETRIES = 8;
/** Frames of one exposure group span at most this ratio of lit-mirror counts, so each is exposed near full scale. */
const GROUP_LIT_RATIO = 1.5;
/**
 * Added to ln(pixels × frames), the expected maximum of that many exponential intensities in units of their mean.
 * Aggressive on purpose: shot noise and quantization fall with exposure, and a saturated frame costs only its own
 * re-acquisition (about a third of the groups re-acquire one or two frames).
 */
const TAIL_MARGIN = 1;

/**
 * Acquires frames with the exposure chosen from their lit-mirror counts (speckle is exponential, so the brightest
 * of N pixels is ≈ ln N times the mean), re-acquires any group that saturated, compensates the trigger lag, splits
 * and pads batches to the device limits, and returns dark-subtracted intensities per µs of exposure.
 */
export class ExposureControlledAcquirer {
  readonly device: OpuDevice;
  readonly outputs: number;
  /** Camera frames by which the capture lags the DMD (measured by `compensateTriggerLag`). */
  triggerLagFrames = 0;
  /** Dark level model per pixel: offset + slope × exposure, in ADU and ADU/µs. */
  darkOffsetAdu: Float32Array;
  darkSlopeAduPerUs: Float32Array;
  /** Mean ADU per µs of exposure per lit mirror: the speckle mean's slope; set by calibration. */
  responsivity = 0;
  /** End of the last frame shown, µs on the device clock: the facade's drift checks are scheduled by it. */
  lastFrameEndUs = 0;
  /** An exposure group's frames, reused: acquisitions run one at a time, and a device keeps no frames it was shown. */
  readonly #scratch = new ScratchArrays();

  constructor(device: OpuDevice, outputs: number) {
    this.device = device;
    this.outputs = outputs;
    this.darkOffsetAdu = new Float32Array(outputs);
    this.darkSlopeAduPerUs = new Float32Array(outputs);
  }

  get roiPixels(): number {
    return rectangleArea(this.device.settings.outputRoi);
  }

  /** Sets exposure and the shortest frame time the hardware allows with it. */
  async setExposure(exposureUs: number): Promise<number> {
    const info = this.device.info;
    const { min, max } = info.limits.exposureUs;
    const exposure = Math.min(max, Math.max(min, exposureUs));
    if (exposure !== this.device.settings.exposureUs) {
      const frameTimeUs = Math.ceil(minFrameTimeUs(info, exposure, this.device.settings.outputRoi.height));
      await this.device.configure({ exposureUs: exposure, frameTimeUs });
    }
    return exposure;
  }

  /**
   * Runs the trigger-lag self-test (`measureTriggerLag`) through this acquirer, the whole input region lit at frame 5
   * of 10, the exposure raised eightfold until a camera frame sees it (small regions give little light), and
   * compensates the lag in every acquisition from then on.
   */
  async compensateTriggerLag(stats: AcquisitionStats): Promise<number> {
    this.triggerLagFrames = 0;
    const { max } = this.device.info.limits.exposureUs;
    let exposure = await this.setExposure(this.device.settings.exposureUs);
    this.triggerLagFrames = await measureTriggerLag((frames) => this.acquireRaw(frames, stats), this.device.inputSize, {
      frames: TRIGGER_TEST_FRAMES,
      blanksBefore: TRIGGER_TEST_LIT_FRAME,
      raiseExposure: async () => {
        if (exposure >= max) return false;
        exposure = await this.setExposure(exposure * TRIGGER_TEST_EXPOSURE_STEP);
        return true;
      },
    });
    return this.triggerLagFrames;
  }

  /**
   * Shows frames at the current exposure and returns exactly one camera frame per given DMD frame: the batch is
   * split to the device maximum, padded to its minimum, and followed by blank frames that flush a lagging trigger.
   */
  async acquireRaw(frames: DmdFrames, stats: AcquisitionStats, onAcquired?: FramesAcquired): Promise<CameraFrames[]> {
    const { minFramesPerAcquisition, maxFramesPerAcquisition } = this.device.info.limits;
    const lag = this.triggerLagFrames;
    const perPass = maxFramesPerAcquisition - lag;
    const stride = bytesPerFrame(frames.mirrorsPerFrame);
    const parts: CameraFrames[] = [];
    for (let start = 0; start < frames.count; start += perPass) {
      const count = Math.min(perPass, frames.count - start);
      const total = Math.max(minFramesPerAcquisition, count + lag);
      // A batch that needs no padding nor flush frames is shown as it is, not copied.
      const padded = total === frames.count && start === 0 ? frames : allocateDmdFrames(total, frames.mirrorsPerFrame);
      if (padded !== frames) padded.data.set(frames.data.subarray(start * stride, (start + count) * stride));
      const shot = await this.device.acquire(padded);
      this.lastFrameEndUs = shot.meta.timestampsUs[padded.count - 1]! + shot.meta.frameTimeUs;
      stats.frames += padded.count;
      stats.acquisitions++;
      stats.deviceTimeUs += padded.count * shot.meta.frameTimeUs;
      stats.exposureUsMin = Math.min(stats.exposureUsMin, shot.meta.exposureUs);
      stats.exposureUsMax = Math.max(stats.exposureUsMax, shot.meta.exposureUs);
      parts.push(sliceFrames(shot, lag, count));
      onAcquired?.(count);
    }
    return parts;
  }

  /** Exposure at which the brightest of `frames` frames with `lit` mirrors on should stay below the ADC maximum. */
  exposureFor(lit: number, frames: number): number {
    const headroom = this.device.info.camera.maxAdu * 0.98 - maxOf(this.darkOffsetAdu);
    const tail = Math.log(this.roiPixels * Math.max(1, frames)) + TAIL_MARGIN;
    return headroom / (this.responsivity * Math.max(1, lit) * tail);
  }

  /**
   * Dark-subtracted intensity per µs, frames × outputs, for frames whose lit-mirror counts are `lit` (a caller that
   * wants a dim frame exposed shorter passes a larger count for it), in `into` when given (every value is written).
   * No returned value comes from a saturated pixel.
   */
  async acquireNormalized(
    frames: DmdFrames,
    lit: Uint32Array,
    stats: AcquisitionStats,
    onAcquired?: FramesAcquired,
    into?: Float32Array,
  ): Promise<Float32Array> {
    const m = this.outputs;
    const out = into ?? new Float32Array(frames.count * m);
    const exposureLit = (f: number) => Math.max(1, lit[f]!);
    const order = Array.from(lit.keys()).sort((a, b) => lit[a]! - lit[b]!);
    for (let g = 0; g < order.length; ) {
      let end = g + 1;
      const floor = exposureLit(order[g]!);
      while (end < order.length && exposureLit(order[end]!) <= floor * GROUP_LIT_RATIO) end++;
      await this.#acquireGroup(frames, order.slice(g, end), exposureLit(order[end - 1]!), out, stats, onAcquired);
      g = end;
    }
    return out;
  }

  /**
   * Shows each of `patterns` (a function lighting frame f) `averagedFrames` times, pattern after pattern, and returns
   * the intensities of all frames (patterns·averagedFrames × outputs) and each pattern's mean (patterns × outputs).
   */
  async averagePatterns(
    patterns: readonly ((frames: DmdFrames, f: number) => void)[],
    averagedFrames: number,
    stats: AcquisitionStats,
    onAcquired?: FramesAcquired,
  ): Promise<{ intensity: Float32Array; mean: Float64Array }> {
    const N = averagedFrames;
    const m = this.outputs;
    const frames = allocateDmdFrames(patterns.length * N, this.device.inputSize);
    patterns.forEach((show, p) => {
      for (let n = 0; n < N; n++) show(frames, p * N + n);
    });
    const intensity = await this.acquireNormalized(frames, litMirrorCounts(frames), stats, onAcquired);
    const mean = new Float64Array(patterns.length * m);
    for (let f = 0; f < frames.count; f++) {
      const p = Math.floor(f / N);
      for (let i = 0; i < m; i++) mean[p * m + i]! += intensity[f * m + i]! / N;
    }
    return { intensity, mean };
  }

  async #acquireGroup(
    frames: DmdFrames,
    members: number[],
    maxLit: number,
    out: Float32Array,
    stats: AcquisitionStats,
    onAcquired?: FramesAcquired,
  ): Promise<void> {
    let pending = members;
    let exposure = this.exposureFor(maxLit, members.length);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > MAX_SATURATION_RETRIES) {
        throw new MeasurementError(`pixels still saturate at ${exposure.toFixed(1)} µs exposure`, {
          field: 'exposureUs',
          fix: 'light fewer mirrors (smaller inputs or references) or lower the camera gain',
        });
      }
      if (attempt > 0) stats.saturationRetries++;
      const applied = await this.setExposure(exposure);
      const batch = isWholeBatch(pending, frames.count)
        ? frames
        : gatherFrames(frames, pending, this.#scratch.frames('group', pending.length, frames.mirrorsPerFrame));
      const shots = await this.acquireRaw(batch, stats, onAcquired);
      const retry: number[] = [];
      let index = 0;
      for (const shot of shots) {
        // Each frame to its row of `out`, a saturated one nowhere (−1): it is re-acquired.
        const destination = new Int32Array(shot.count);
        for (let f = 0; f < shot.count; f++, index++) {
          const frame = pending[index]!;
          const saturated = shot.meta.saturatedPixels[f]! > 0;
          if (saturated) retry.push(frame);
          destination[f] = saturated ? -1 : frame;
        }
        darkSubtract(shot, this.#darkLevel(shot.meta.exposureUs), destination, out);
      }
      if (retry.length > 0 && applied <= this.device.info.limits.exposureUs.min) {
        throw new MeasurementError('pixels saturate at the shortest exposure the device allows', {
          field: 'exposureUs',
          fix: 'light fewer mirrors (smaller inputs or references) or lower the camera gain',
        });
      }
      pending = retry;
      exposure = applied * RETRY_EXPOSURE_FACTOR;
    }
  }

  /** Writes frame f's (ADU − dark) / exposure for the first `outputs` pixels into `out` at `offset`. */
  normalizeInto(shot: CameraFrames, f: number, out: Float32Array, offset: number): void {
    const pixels = shot.widthPx * shot.heightPx;
    const frame = { ...shot, count: 1, data: shot.data.subarray(f * pixels, (f + 1) * pixels) };
    darkSubtract(
      frame,
      this.#darkLevel(shot.meta.exposureUs),
      Int32Array.of(0),
      out.subarray(offset, offset + this.outputs),
    );
  }

  /** The dark level of each output pixel, in ADU, at an exposure. */
  #darkLevel(exposureUs: number): Float64Array {
    const dark = new Float64Array(this.outputs);
    for (let i = 0; i < dark.length; i++) dark[i] = this.darkOffsetAdu[i]! + this.darkSlopeAduPerUs[i]! * exposureUs;
    return dark;
  }
}

/**
 * Writes each frame's (ADU − dark) / exposure for the first dark.length pixels into row destination[f] of `out`
 * (rows of dark.length values), skipping frames whose destination is −1.
 */
function darkSubtract(shot: CameraFrames, dark: Float64Array, destination: Int32Array, out: Float32Array): void {
  // The exposure the device reports it used, not the one asked for.
  const exposureUs = shot.meta.exposureUs;
  kernels.darkSubtract(shot.data, shot.widthPx * shot.heightPx, shot.count, dark, exposureUs, destination, out);
}

/** Whether `indices` are 0, 1, …, count − 1: the whole batch in order. */
function isWholeBatch(indices: readonly number[], count: number): boolean {
  if (indices.length !== count) return false;
  for (let i = 0; i < count; i++) if (indices[i] !== i) return false;
  return true;
}

function maxOf(a: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (a[i]! > m) m = a[i]!;
  return m;
}

/** Copies the listed frames, in that order, into `out` (as many frames, the same mirrors) or a new batch. */
export function gatherFrames(
  frames: DmdFrames,
  indices: number[],
  out = allocateDmdFrames(indices.length, frames.mirrorsPerFrame),
): DmdFrames {
  const stride = bytesPerFrame(frames.mirrorsPerFrame);
  // Whole 32-bit words when the frames allow (a subarray per frame would cost an object each).
  const word = stride % 4 === 0 && frames.data.byteOffset % 4 === 0 ? 4 : 1;
  const view = (bytes: Uint8Array) =>
    word === 4 ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4) : bytes;
  const [from, to, step] = [view(frames.data), view(out.data), stride / word];
  for (let dst = 0; dst < indices.length; dst++) {
    const src = indices[dst]! * step;
    for (let b = 0; b < step; b++) to[dst * step + b] = from[src + b]!;
  }
  return out;
}

function sliceFrames(shot: CameraFrames, start: number, count: number): CameraFrames {
  const pixels = shot.widthPx * shot.heightPx;
  const m = shot.meta;
  return {
    ...shot,
    count,
    data: shot.data.subarray(start * pixels, (start + count) * pixels),
    meta: {
      ...m,
      timestampsUs: m.timestampsUs.subarray(start, start + count),
      litMirrors: m.litMirrors.subarray(start, start + count),
      saturatedPixels: m.saturatedPixels.subarray(start, start + count),
    },
  };
}
