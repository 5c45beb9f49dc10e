import { minFrameTimeUs } from '../device/info.js';
import type { OpuDevice } from '../device/opu-device.js';
import { type AcquisitionStats, addStats, ExposureControlledAcquirer } from '../measure/acquisition.js';
import { type DmdLayout, makeLayout } from '../measure/layout.js';
import { measureLadder } from '../measure/reference-ladder.js';
import { measureDark, measureReferenceFields, type ReferenceMeasurement } from '../measure/reference-measurement.js';
import { measureResponsivity, responsivityFrames, responsivityPlan } from '../measure/responsivity.js';
import { UnsupportedError } from '../support/errors.js';
import { findAutoExposure } from './auto-exposure.js';
import type { CalibrationStepName, CalibrationSteps, DeviceCalibration, StepRun } from './device-calibration.js';
import { measureLinearity } from './linearity.js';
import type { ResolvedSettings, TransmissionMatrixSettings } from './pipeline-settings.js';
import { referenceMeasurementOf } from './restore.js';
import { measureStability } from './stability.js';
import { type RetrievalComputePhase, retrievalPlan, retrieveTransmissionMatrix } from './tm-retrieval.js';

/** The facade's internals the pipeline measures through. */
export interface CalibrationTarget {
  device: OpuDevice;
  layout: DmdLayout;
  acquirer: ExposureControlledAcquirer;
  /** `project()` of real rows with the given calibration, outside the facade's queue (which the pipeline holds). */
  project(
    rows: Float32Array,
    calibration: ReferenceMeasurement,
    onProgress?: (progress: { framesDone: number }) => void,
  ): Promise<{ data: Float32Array; meta: AcquisitionStats }>;
}

export interface StepContext {
  target: CalibrationTarget;
  calibration: DeviceCalibration;
  settings: ResolvedSettings;
  stats: AcquisitionStats;
  /** Counts frames as acquisitions report them. */
  onAcquired: (frames: number) => void;
  /** Reports a running total directly, for measurements that know their plan. */
  onProgress: (framesDone: number, framesPlanned?: number) => void;
  /** Reports a computation's work done of work planned. */
  onCompute: (phase: RetrievalComputePhase, done: number, planned: number) => void;
}

type StepResult<S extends CalibrationStepName> = Omit<CalibrationSteps[S], keyof StepRun>;
type StepRunner<S extends CalibrationStepName> = (context: StepContext) => Promise<StepResult<S>>;

export const STEP_RUNNERS: { [S in CalibrationStepName]: StepRunner<S> } = {
  async triggerLag({ target, stats }) {
    return { lagFrames: await target.acquirer.compensateTriggerLag(stats) };
  },

  async dark({ target, settings, stats }) {
    const { acquirer } = target;
    await measureDark(acquirer, settings.darkFrames, stats);
    const offsets = acquirer.darkOffsetAdu;
    let mean = 0;
    for (const v of offsets) mean += v / offsets.length;
    let variance = 0;
    for (const v of offsets) variance += (v - mean) ** 2 / offsets.length;
    return {
      offsetAdu: offsets.slice(),
      slopeAduPerUs: acquirer.darkSlopeAduPerUs.slice(),
      offsetSpreadAdu: Math.sqrt(variance),
    };
  },

  async exposure({ target, settings, stats, onAcquired }) {
    const { acquirer, layout } = target;
    await measureResponsivity(acquirer, layout, { averagedFrames: settings.darkFrames, seed: settings.seed }, stats);
    const found = await findAutoExposure(
      acquirer,
      layout,
      { ...settings.exposure, seed: settings.seed + 1 },
      stats,
      onAcquired,
    );
    return {
      ...found,
      margin: settings.exposure.margin,
      responsivity: acquirer.responsivity,
      sweepExposureUs: Float32Array.from(found.sweepExposureUs),
      sweepMaxAdu: Float32Array.from(found.sweepMaxAdu),
      sweepSaturatedPixels: Float32Array.from(found.sweepSaturatedPixels),
    };
  },

  async reference({ target, settings, stats, onAcquired }) {
    const { acquirer, layout } = target;
    const { targetSnr, pilotFrames, maxFrames } = settings.reference;
    let averagedFrames = pilotFrames;
    let fields = await measureReferenceFields(acquirer, layout, averagedFrames, stats, onAcquired);
    // The standard error falls as 1/√N, but more frames per group also shorten the exposure (the brightest of more
    // pixels must not saturate), which costs a little SNR per frame: a second correction usually lands on target.
    for (let attempt = 0; attempt < 3 && fields.snr < targetSnr && averagedFrames < maxFrames; attempt++) {
      averagedFrames = Math.min(maxFrames, Math.ceil(averagedFrames * (targetSnr / fields.snr) ** 2 * 1.05));
      fields = await measureReferenceFields(acquirer, layout, averagedFrames, stats, onAcquired);
    }
    const top = { count: layout.referenceCount, ...fields };
    const rungs = await measureLadder(acquirer, layout, top, averagedFrames, stats, onAcquired);
    return {
      averagedFrames,
      snr: fields.snr,
      targetSnr,
      referenceIntensity: fields.referenceIntensity,
      weights: fields.weights,
      amplitude: fields.amplitude,
      coordinates: fields.coordinates,
      rungs,
    };
  },

  async linearity({ target, calibration, settings, stats, onAcquired }) {
    const linear = referenceMeasurementOf(calibration);
    return measureLinearity(
      async (rows) => {
        // each projection counts its frames from zero: the step's count goes on across them
        let counted = 0;
        const { data, meta } = await target.project(rows, linear, ({ framesDone }) => {
          onAcquired(framesDone - counted);
          counted = framesDone;
        });
        addStats(stats, meta);
        return data;
      },
      target.layout.inputs,
      settings.linearityPairs,
      settings.seed + 2,
    );
  },

  async stability({ target, settings, stats, onAcquired }) {
    const found = await measureStability(
      target.acquirer,
      target.layout,
      { ...settings.stability, seed: settings.seed + 3 },
      stats,
      onAcquired,
    );
    return {
      ...found,
      timesS: Float32Array.from(found.timesS),
      correlation: Float32Array.from(found.correlation),
      correlationThreshold: settings.stability.threshold,
    };
  },

  async transmissionMatrix({ target, settings, stats, onProgress, onCompute }) {
    const tm = settings.transmissionMatrix!;
    const { device } = target;
    const layout = transmissionMatrixLayout(device, tm);
    const restore = { ...device.settings };
    await device.configure({
      inputRegion: layout.region,
      outputRoi: layout.roi,
      frameTimeUs: Math.max(
        restore.frameTimeUs,
        Math.ceil(minFrameTimeUs(device.info, restore.exposureUs, layout.roi.height)),
      ),
    });
    try {
      const acquirer = new ExposureControlledAcquirer(device, tm.rows);
      acquirer.triggerLagFrames = target.acquirer.triggerLagFrames;
      // one count of frames for the whole step: its own dark level and responsivity, then the retrieval
      const planned =
        2 * settings.darkFrames +
        responsivityFrames(responsivityPlan(device.info, layout.region, tm.rows), settings.darkFrames) +
        retrievalPlan(tm).frames;
      const start = stats.frames;
      await measureDark(acquirer, settings.darkFrames, stats);
      onProgress(stats.frames - start, planned);
      await measureResponsivity(acquirer, layout, { averagedFrames: settings.darkFrames, seed: settings.seed }, stats);
      onProgress(stats.frames - start, planned);
      const before = stats.frames - start;
      return await retrieveTransmissionMatrix(
        acquirer,
        layout,
        {
          method: tm.method,
          anchorAveragedFrames: tm.anchorAveragedFrames,
          oversampling: tm.oversampling,
          testInputs: tm.testInputs,
          seed: settings.seed + 4,
          onProgress: (framesDone) => onProgress(before + framesDone, planned),
          onCompute,
        },
        stats,
      );
    } finally {
      await device.configure(restore);
    }
  },
};

/**
 * The transmission matrix's own layout: `cols` one-mirror data elements, then `anchors` disjoint anchor blocks of
 * about half as many mirrors (a half-lit signal's field strength), in a rectangle at `dmdOrigin`; and `rows` pixels
 * in a rectangle at `cameraOrigin`.
 */
export function transmissionMatrixLayout(device: OpuDevice, tm: TransmissionMatrixSettings): DmdLayout {
  const { dmd, camera } = device.info;
  const { rows, cols, anchors, dmdOrigin, cameraOrigin } = tm;
  const fitted = makeLayout(
    {
      inputs: cols,
      outputs: rows,
      referenceCount: anchors,
      referenceElements: Math.ceil(cols / 2),
      mirrorsPerElement: 1,
    },
    dmd.widthMirrors - dmdOrigin.left,
    camera.widthPx - cameraOrigin.left,
  );
  const layout = {
    ...fitted,
    region: { ...fitted.region, ...dmdOrigin },
    roi: { ...fitted.roi, ...cameraOrigin },
  };
  if (layout.region.top + layout.region.height > dmd.heightMirrors) {
    throw new UnsupportedError(
      `${cols} columns and ${anchors} anchors do not fit on the DMD from row ${dmdOrigin.top}`,
      {
        field: 'options.transmissionMatrix.cols',
        fix: 'retrieve fewer columns, use fewer anchors or move dmdOrigin',
      },
    );
  }
  if (layout.roi.top + layout.roi.height > camera.heightPx) {
    throw new UnsupportedError(
      `${rows} rows do not fit on the ${camera.widthPx}×${camera.heightPx} sensor from row ${cameraOrigin.top}`,
      {
        field: 'options.transmissionMatrix.rows',
        fix: 'retrieve fewer rows or move cameraOrigin',
      },
    );
  }
  return layout;
}
