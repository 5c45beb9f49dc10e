/**
 * The first thing to run: open the embedded simulated OPU, project a batch of vectors optically (intensity frames
 * only) and compare with the simulator's ground truth. Prints fidelity and throughput.
 *
 *   npm start                                   # defaults below
 *   npm start -- 'sim://?inputs=256&outputs=512&seed=1&camera=ideal'
 */
import { openOpu, type Progress, seededUniform } from 'opu-core';
import 'opu-sim';
import { expectedProjectionMatrix, type SimulatedOpuDevice } from 'opu-sim';

const url = process.argv[2] ?? 'sim://?inputs=1024&outputs=2048&seed=7';

function batch(kind: 'ternary' | 'real', rows: number, n: number, seed: number): Float32Array {
  const u = seededUniform(seed);
  const e = new Float32Array(rows * n);
  for (let i = 0; i < e.length; i++) {
    if (kind === 'real') e[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
    else e[i] = Math.sign(u() - 0.5) * (u() < 0.5 ? 1 : 0);
  }
  return e;
}

function relativeError(e: Float32Array, y: Float32Array, B: Float32Array, n: number, m: number): number {
  let num = 0;
  let den = 0;
  for (let r = 0; r < e.length / n; r++) {
    for (let i = 0; i < m; i++) {
      let truth = 0;
      for (let j = 0; j < n; j++) truth += B[i * n + j]! * e[r * n + j]!;
      num += (y[r * m + i]! - truth) ** 2;
      den += truth ** 2;
    }
  }
  return Math.sqrt(num / den);
}

/** A one-line progress bar on a terminal; nothing when the output is a file or a pipe. */
function progressBar(label: string) {
  return ({ framesDone, framesPlanned }: Progress) => {
    if (!process.stdout.isTTY) return;
    const done = Math.min(1, framesDone / framesPlanned);
    const width = 30;
    const bar = '#'.repeat(Math.round(done * width)).padEnd(width, '.');
    process.stdout.write(`\r  ${label.padEnd(12)} [${bar}] ${framesDone}/${framesPlanned} frames`);
    if (done === 1) process.stdout.write('\r\x1b[2K');
  };
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const started = performance.now();
await using opu = await openOpu(url);
const { info } = opu.device;
const calibration = opu.calibration!;
console.log(`opu-sdk: ${url}`);
console.log(
  `  device       ${info.model} ${info.serialNumber}, DMD ${info.dmd.widthMirrors}×${info.dmd.heightMirrors}, ` +
    `camera ${info.camera.widthPx}×${info.camera.heightPx} ${info.camera.bitDepth}-bit`,
);
console.log(
  `  calibrated   ${calibration.referenceCount} references × ${calibration.referenceElements} elements of ` +
    `${calibration.mirrorsPerElement} mirror(s), trigger lag ` +
    `${calibration.triggerLagFrames}, ${calibration.stats.frames} frames, ` +
    `${(calibration.stats.deviceTimeUs / 1e6).toFixed(2)} s of device time, ${((performance.now() - started) / 1e3).toFixed(1)} s here`,
);

const device = opu.device as SimulatedOpuDevice;
const truth = 'groundTruth' in device ? expectedProjectionMatrix(device, opu.layout, calibration) : undefined;
for (const [kind, rows] of [
  ['ternary', 64],
  ['real', 8],
] as const) {
  const e = batch(kind, rows, opu.inputs, 42);
  const result = await opu.project(e, { onProgress: progressBar('projecting') });
  const { meta } = result;
  const fidelity = truth ? `error ${pct(relativeError(e, result.data, truth, opu.inputs, opu.outputs))} vs true B` : '';
  console.log(
    `  project      ${rows} ${kind} vectors ${opu.inputs}→${opu.outputs} (${meta.encoding}): ${fidelity}, ` +
      `${meta.frames} frames, saturation retries ${meta.saturationRetries}`,
  );
  console.log(
    `               hardware ${meta.vectorsPerDeviceSecond.toFixed(0)} vectors/s (modelled frame times), ` +
      `simulation ${(rows / (meta.wallTimeMs / 1e3)).toFixed(0)} vectors/s on this CPU`,
  );
}
