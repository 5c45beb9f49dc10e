import { type CalibrationEvent, estimateCalibration, Opu } from 'opu-core';
import { SimulatedOpuDevice } from 'opu-sim';
import { describe, expect, it } from 'vitest';

const QUICK = {
  stability: { durationS: 1, repetitions: 5 },
  linearityPairs: 4,
  transmissionMatrix: { rows: 200, cols: 150, dmdOrigin: { left: 100, top: 20 } },
} as const;

describe('the calibration estimate and progress', () => {
  it('estimates each step’s frames before measuring, and the pipeline counts against them', async () => {
    await using opu = await Opu.open(new SimulatedOpuDevice({ options: { seed: 2 } }), {
      inputs: 64,
      outputs: 256,
      calibrate: false,
    });
    const estimate = estimateCalibration(opu, QUICK);
    const events: CalibrationEvent[] = [];
    const calibration = await opu.runCalibration({ ...QUICK, onEvent: (event) => events.push(event) });

    expect(estimate.steps.map((s) => s.step)).toEqual(Object.keys(calibration.steps));
    for (const step of estimate.steps) {
      const measured = calibration.steps[step.step]!.frames;
      if (step.adaptive) {
        // the reference step averages until its SNR target: the estimate is its most
        expect(step.frames, step.step).toBeGreaterThanOrEqual(measured);
        continue;
      }
      // every acquisition is padded with the trigger lag's frames and may re-acquire saturated ones
      const tolerance = step.step === 'transmissionMatrix' ? 0.02 : 0.3;
      expect(Math.abs(step.frames - measured) / measured, step.step).toBeLessThan(tolerance);
    }
    expect(estimate.frames).toBe(estimate.steps.reduce((sum, s) => sum + s.frames, 0));

    // the retrieval's memory: float32 matrix, float64 signals (2·cols of them), ΞᵀΞ and ΞᵀY
    const tm = estimate.steps.find((s) => s.step === 'transmissionMatrix')!;
    expect(tm.memoryTerms).toMatchObject({
      matrix: 200 * 150 * 8,
      signals: 300 * 150 * 8,
      gram: 150 * 150 * 8,
      normalEquations: 150 * 400 * 8,
    });
    expect(estimate.memoryBytes).toBe(Math.max(...estimate.steps.map((s) => s.memoryBytes)));

    // the frames planned reach every non-adaptive step's progress, and the retrieval's computations report theirs
    const planned = (step: string) =>
      events
        .filter((e) => e.type === 'progress' && e.step === step)
        .map((e) => e.type === 'progress' && e.framesPlanned);
    expect(new Set(planned('stability'))).toEqual(
      new Set([estimate.steps.find((s) => s.step === 'stability')!.frames]),
    );
    expect(planned('reference').every((p) => p === undefined)).toBe(true);
    const linearity = events.filter((e) => e.type === 'progress' && e.step === 'linearity');
    expect(linearity.at(-1)).toMatchObject({ framesDone: calibration.steps.linearity!.frames });
    const tmFrames = events.filter((e) => e.type === 'progress' && e.step === 'transmissionMatrix');
    expect(tmFrames.at(-1)).toMatchObject({ framesPlanned: tm.frames });
    for (const [phase, unit, total] of [
      ['design', 'signals', 300],
      ['solve', 'rows', 200],
    ] as const) {
      const compute = events.filter((e) => e.type === 'compute' && e.phase === phase);
      expect(compute.length, phase).toBeGreaterThan(10);
      expect(compute.at(-1)).toEqual({
        type: 'compute',
        step: 'transmissionMatrix',
        phase,
        unit,
        done: total,
        planned: total,
      });
    }
  });

  it('refuses what the pipeline would refuse, before measuring', async () => {
    await using opu = await Opu.open(new SimulatedOpuDevice({ options: { seed: 2 } }), {
      inputs: 64,
      outputs: 256,
      calibrate: false,
    });
    expect(() => estimateCalibration(opu, { transmissionMatrix: { rows: 10, cols: 5_000_000 } })).toThrow(
      /do not fit on the DMD/,
    );
    expect(() => estimateCalibration(opu, { exposure: { margin: 2 } })).toThrow(/options\.exposure\.margin/);
  });
});
