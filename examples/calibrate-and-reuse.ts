/**
 * Calibrate once, reuse many times: runs the calibration pipeline on an OPU (the simulator by default) including a
 * transmission matrix, saves it with its HTML report, reopens the OPU from the file without spending a calibration
 * frame, and checks project() and the matrix against the simulator's ground truth.
 *
 *   npm run example:calibration
 *   npm run example:calibration -- 'sim://?inputs=128&outputs=256&seed=3&bitDepth=12' runs/calibration
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openOpu, saveCalibration, seededNormal, writeFileAtomic } from 'opu-core';
import { renderCalibrationReport } from 'opu-report';
import 'opu-sim';
import { projectionErrorAgainstTruth, type SimulatedOpuDevice, transmissionMatrixErrorOnItsLayout } from 'opu-sim';

const url = process.argv[2] ?? 'sim://?inputs=256&outputs=512&seed=7';
const dir = process.argv[3] ?? join('runs', 'calibration');
await mkdir(dir, { recursive: true });
const file = join(dir, 'opu.opucal');

{
  await using opu = await openOpu(url, { calibrate: false });
  const calibration = await opu.runCalibration({
    transmissionMatrix: { rows: 128, cols: 160 },
    stability: { durationS: 2 },
    onEvent: (event) => {
      if (event.type === 'step' && event.status === 'done') console.log(`  ✓ ${event.step}`);
    },
  });
  await saveCalibration(file, calibration);
  await writeFileAtomic(join(dir, 'opu.html'), renderCalibrationReport(calibration, { source: url }));
  const tm = calibration.steps.transmissionMatrix!;
  const truth = await transmissionMatrixErrorOnItsLayout(tm, opu.device as SimulatedOpuDevice);
  console.log(
    `calibrated ${calibration.device.serialNumber}: exposure ${calibration.steps.exposure!.exposureUs.toFixed(0)} µs, ` +
      `reference SNR ${calibration.steps.reference!.snr.toFixed(0)}, ` +
      `drift ${calibration.steps.stability!.drifting ? 'DETECTED' : 'none'}`,
  );
  console.log(
    `transmission matrix ${tm.rows}×${tm.cols}: intensity correlation ${tm.quality.intensityCorrelation.toFixed(4)}, ` +
      `${(100 * truth.relativeError).toFixed(1)}% from the true matrix`,
  );
}

await using opu = await openOpu(url, { calibration: file });
const device = opu.device as SimulatedOpuDevice;
// Reopening measures nothing but a drift check: each reference shown a few times against the saved speckle.
console.log(`reopened from ${file}: ${device.framesAcquired} frames spent checking the medium`);
const rows = 8;
const e = Float32Array.from({ length: rows * opu.inputs }, seededNormal(11));
const { data } = await opu.project(e);
const error = projectionErrorAgainstTruth(opu, e, data)!;
console.log(`project(): ${(100 * error).toFixed(2)}% from the exact projection`);
console.log(`report: ${join(dir, 'opu.html')}`);
