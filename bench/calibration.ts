/**
 * Calibration: the time and frames a 1000 × 1100 transmission matrix takes with both retrieval methods, its
 * quality (predicted against measured intensities, and against the simulator's true matrix), and the error of
 * project() with the calibration made while opening against the one the pipeline makes, at 8, 10 and 12 bits.
 */
import { Opu, seededUniform } from 'opu-core';
import { type Kernels, kernels, typescriptKernels } from 'opu-native';
import { type SimOptions, SimulatedOpuDevice, transmissionMatrixErrorOnItsLayout } from 'opu-sim';
import { inputBatch, relativeErrorAgainstTruth } from '../test/helpers.js';

async function transmissionMatrixRow(method: 'anchors' | 'circulant'): Promise<string> {
  await using opu = await Opu.open(new SimulatedOpuDevice({ options: { seed: 13 } }), {
    inputs: 256,
    outputs: 512,
    calibrate: false,
  });
  const started = performance.now();
  const calibration = await opu.runCalibration({
    steps: ['transmissionMatrix'],
    transmissionMatrix: { rows: 1000, cols: 1100, method, anchors: 20 },
  });
  const seconds = (performance.now() - started) / 1000;
  const tm = calibration.steps.transmissionMatrix!;
  const truth = (await transmissionMatrixErrorOnItsLayout(tm, opu.device as SimulatedOpuDevice)).relativeError;
  const frames = calibration.steps.triggerLag!.frames + tm.frames;
  const deviceS = (calibration.steps.triggerLag!.deviceTimeUs + tm.deviceTimeUs) / 1e6;
  return (
    `| ${method} | ${frames} | ${deviceS.toFixed(2)} s | ${seconds.toFixed(1)} s | ` +
    `${tm.quality.intensityCorrelation.toFixed(4)} | ${(100 * tm.quality.intensityRelativeError).toFixed(1)}% | ` +
    `${(100 * truth).toFixed(1)}% |`
  );
}

/** project() error against the truth on a fresh device calibrated while opening with `calibrationFrames`. */
async function errorCalibratedAtOpen(options: SimOptions, calibrationFrames: number) {
  await using opu = await Opu.open(new SimulatedOpuDevice({ options }), {
    inputs: 256,
    outputs: 512,
    calibrationFrames,
  });
  const e = inputBatch('gaussian', 16, opu.inputs, 19);
  return {
    error: relativeErrorAgainstTruth(opu, e, (await opu.project(e)).data),
    frames: opu.calibration!.stats.frames,
  };
}

async function projectionErrorRow(bitDepth: 8 | 10 | 12): Promise<string> {
  const options: SimOptions = { seed: 17, camera: { bitDepth } };
  const minimal = await errorCalibratedAtOpen(options, 1);
  const atOpen = await errorCalibratedAtOpen(options, 32);
  await using opu = await Opu.open(new SimulatedOpuDevice({ options }), {
    inputs: 256,
    outputs: 512,
    calibrate: false,
  });
  const calibration = await opu.runCalibration({ steps: ['reference'] });
  const e = inputBatch('gaussian', 16, opu.inputs, 19);
  const after = relativeErrorAgainstTruth(opu, e, (await opu.project(e)).data);
  const reference = calibration.steps.reference!;
  const frames = Object.values(calibration.steps).reduce((sum, step) => sum + step.frames, 0);
  const cell = (x: number) => `${(100 * x).toFixed(2)}%`;
  return (
    `| ${bitDepth} | ${cell(minimal.error)} | ${minimal.frames} | ${cell(atOpen.error)} | ${atOpen.frames} | ` +
    `${cell(after)} | ${frames} | ${reference.averagedFrames} | ${reference.snr.toFixed(0)} |`
  );
}

/**
 * The compute of a 1000 × 1100 'anchors' retrieval, without the measurement: ΞᵀΞ of T = 2·1100 random half-lit
 * patterns, its Cholesky factor, ΞᵀY for the placed fields (2 × 1000 real columns) and the solve, as
 * LeastSquaresDesign runs them. Seconds per step on one kernel backend.
 */
function retrievalComputeSeconds(k: Kernels, outputs = 1000, cols = 1100): number[] {
  const signals = 2 * cols;
  const width = 2 * outputs;
  const uniform = seededUniform(23);
  const patterns = Float64Array.from({ length: signals * cols }, () => (uniform() < 0.5 ? 1 : 0));
  const placed = Float64Array.from({ length: signals * width }, () => uniform() - 0.5);
  const gram = new Float64Array(cols * cols);
  const projected = new Float64Array(cols * width);
  const timed = (step: () => void) => {
    const started = performance.now();
    step();
    return (performance.now() - started) / 1000;
  };
  return [
    timed(() => k.dgemm(cols, cols, signals, patterns, patterns, gram, { transA: true })),
    timed(() => {
      if (!k.choleskyFactor(gram, cols)) throw new Error('the random design is singular');
    }),
    timed(() => k.dgemm(cols, width, signals, patterns, placed, projected, { transA: true })),
    timed(() => k.choleskySolve(gram, cols, projected, width)),
  ];
}

export function retrievalComputeRows(): string[] {
  const native = retrievalComputeSeconds(kernels);
  const typescript = retrievalComputeSeconds(typescriptKernels);
  const steps = ['ΞᵀΞ (dgemm)', 'Cholesky factor', 'ΞᵀY (dgemm)', 'solve, 2000 right-hand sides'];
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const row = (name: string, a: number, b: number) =>
    `| ${name} | ${a.toFixed(3)} s | ${b.toFixed(3)} s | ${(b / a).toFixed(1)} |`;
  return [
    ...steps.map((step, i) => row(step, native[i]!, typescript[i]!)),
    row('**total**', sum(native), sum(typescript)),
  ];
}

export async function calibrationBenchmark(): Promise<string[]> {
  const lines = [
    '## Calibration',
    '',
    'A 1000 × 1100 transmission matrix from intensity frames only, 20 anchors, realistic 8-bit simulator ' +
      '(`opu calibrate <url> --tm 1000x1100 --anchors 20`). Frames and device time include the trigger-lag self-test, ' +
      'the dark level and the responsivity on the matrix’s own layout; wall time is this machine simulating them. ' +
      'Baseline: LightOn’s public notebook, 1000 × 1100 with 20 anchors in about 4 s on their hardware, ' +
      'intensity correlation 0.978 on a fresh input.',
    '',
    '| method | frames | device time | wall time | intensity correlation | intensity error | error vs true matrix |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const method of ['anchors', 'circulant'] as const) {
    console.log(`transmission matrix 1000 × 1100 (${method}) …`);
    lines.push(await transmissionMatrixRow(method));
  }
  console.log('retrieval compute, native and TypeScript …');
  lines.push(
    '',
    `The retrieval's compute alone (anchors, 1000 × 1100, 2200 signals), on opu-native's float64 kernels ` +
      `(${kernels.backend}, ${kernels.simd}) and on their TypeScript twins in the same run. Before issue 14 this ` +
      'compute was TypeScript of its own in opu-core (a four-Russians ΞᵀY and a column-blocked Cholesky): ' +
      '2.72 s on this machine at the commit before the change (f42dadd: 0.16 s Gram by popcounts, 0.24 s Cholesky, 0.72 s ΞᵀY, 1.59 s solve).',
    '',
    '| step | opu-native | TypeScript twin | TypeScript / native |',
    '|---|---|---|---|',
    ...retrievalComputeRows(),
  );
  lines.push(
    '',
    'project() of 16 Gaussian rows, 256 → 512, realistic simulator at three bit depths (same seed, same input): ' +
      'relative error against the true projection with the least calibration (every dark level and reference ' +
      'from one frame), with the calibration made while opening (32 frames each), and with the calibration ' +
      'pipeline (references averaged to a median SNR of 200). Frames are the calibration’s.',
    '',
    '| bits | 1-frame calibration | frames | at open | frames | pipeline | frames | frames averaged | reference SNR |',
    '|---|---|---|---|---|---|---|---|---|',
  );
  for (const bits of [8, 10, 12] as const) {
    console.log(`projection error before/after calibration at ${bits} bits …`);
    lines.push(await projectionErrorRow(bits));
  }
  lines.push('');
  return lines;
}
