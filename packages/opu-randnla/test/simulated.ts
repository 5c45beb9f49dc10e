import { GaussianOperator, Opu, seededNormal } from 'opu-core';
import { expectedProjectionMatrix, IDEAL_CAMERA, type SimOptions, SimulatedOpuDevice } from 'opu-sim';

export type Camera = 'ideal' | 'realistic';

const OPTIONS: Record<Camera, SimOptions> = {
  ideal: { camera: { ...IDEAL_CAMERA }, laser: { powerFluctuationRms: 0 } },
  realistic: {},
};

/** A simulated OPU, calibrated while opening (the caller disposes it). */
export function openSimulatedOpu(camera: Camera, seed: number, inputs: number, outputs: number): Promise<Opu> {
  return Opu.open(new SimulatedOpuDevice({ options: { ...OPTIONS[camera], seed } }), { inputs, outputs });
}

/**
 * The noiseless twin of an OPU sketch: the matrix its project() realizes, multiplied exactly (a GaussianOperator
 * whose matrix, drawn once and kept, is overwritten with it).
 */
export function trueSketch(opu: Opu): GaussianOperator {
  const sketch = new GaussianOperator(opu.inputs, opu.outputs);
  sketch.matrix.set(expectedProjectionMatrix(opu.device as SimulatedOpuDevice, opu.layout, opu.calibration!));
  return sketch;
}

/** The OPU's gain error η: the least-squares factor 1 + η between its projections and the true ones, minus 1. */
export async function gain(opu: Opu): Promise<number> {
  const rows = 128;
  const e = Float32Array.from({ length: rows * opu.inputs }, seededNormal(99));
  const measured = (await opu.project(e)).data;
  const truth = (await trueSketch(opu).project(e)).data;
  let cross = 0;
  let squares = 0;
  for (let i = 0; i < truth.length; i++) {
    cross += measured[i]! * truth[i]!;
    squares += truth[i]! ** 2;
  }
  return cross / squares - 1;
}
