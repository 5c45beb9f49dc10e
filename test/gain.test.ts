import { minFrameTimeUs, Opu, seededNormal } from 'opu-core';
import {
  expectedProjectionMatrix,
  IDEAL_CAMERA,
  photoelectronsPerMirrorUs,
  type SimOptions,
  SimulatedOpuDevice,
} from 'opu-sim';
import { describe, expect, it } from 'vitest';
import { ExposureControlledAcquirer, emptyStats } from '../packages/opu-core/src/measure/acquisition.js';
import { makeLayout } from '../packages/opu-core/src/measure/layout.js';
import { measureDark } from '../packages/opu-core/src/measure/reference-measurement.js';
import { measureResponsivity, responsivityPlan } from '../packages/opu-core/src/measure/responsivity.js';

const CAMERAS: Record<'ideal' | 'realistic', SimOptions> = {
  ideal: { camera: { ...IDEAL_CAMERA }, laser: { powerFluctuationRms: 0 } },
  realistic: {},
};

/** The simulator's true responsivity: photo-electrons per lit mirror per µs, times the camera's ADU per electron. */
function trueResponsivity(device: SimulatedOpuDevice): number {
  const { camera } = device.options;
  return (photoelectronsPerMirrorUs(device.options) * (2 ** camera.bitDepth - 1)) / camera.fullWellE;
}

/** project()'s gain error η: the least-squares factor between its projections of Gaussian rows and e·Bᵀ, minus 1. */
async function gainError(opu: Opu, device: SimulatedOpuDevice, seed: number): Promise<number> {
  const n = opu.inputs;
  const m = opu.outputs;
  const rows = 32;
  const e = Float32Array.from({ length: rows * n }, seededNormal(seed));
  const measured = (await opu.project(e)).data;
  const B = expectedProjectionMatrix(device, opu.layout, opu.calibration!);
  let cross = 0;
  let squares = 0;
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < m; i++) {
      let truth = 0;
      for (let j = 0; j < n; j++) truth += e[r * n + j]! * B[i * n + j]!;
      cross += measured[r * m + i]! * truth;
      squares += truth * truth;
    }
  }
  return cross / squares - 1;
}

describe('measureResponsivity against the simulator’s true responsivity', () => {
  // Expected error ≈ 0.09% (random frames) and 0.1% (the region's own mean |R|²): 0.4% is 3σ.
  for (const [camera, seed] of [
    ['ideal', 31],
    ['realistic', 32],
  ] as const) {
    it(`${camera} camera, 1000 outputs: within 0.4%, on its own region, which it restores`, async () => {
      const device = new SimulatedOpuDevice({ options: { ...CAMERAS[camera], seed } });
      await device.open();
      const { dmd, camera: sensor } = device.info;
      const layout = makeLayout(
        { inputs: 300, outputs: 1000, referenceCount: 3, referenceElements: 75, mirrorsPerElement: 1 },
        dmd.widthMirrors,
        sensor.widthPx,
      );
      const frameTimeUs = Math.ceil(minFrameTimeUs(device.info, device.settings.exposureUs, layout.roi.height));
      await device.configure({ inputRegion: layout.region, outputRoi: layout.roi, frameTimeUs });
      const acquirer = new ExposureControlledAcquirer(device, 1000);
      const stats = emptyStats();
      await measureDark(acquirer, 16, stats);
      const before = stats.frames;
      await measureResponsivity(acquirer, layout, { averagedFrames: 16, seed: 0 }, stats);
      expect(Math.abs(acquirer.responsivity / trueResponsivity(device) - 1)).toBeLessThan(0.004);
      expect(device.settings.inputRegion).toEqual(layout.region);
      // whole DMD rows, many more mirrors than the layout's 525
      const plan = responsivityPlan(device.info, layout.region, 1000);
      expect(plan.region.width).toBe(dmd.widthMirrors);
      expect(plan.region.width * plan.region.height).toBeGreaterThan(1000); // 2^20 entries / 1000 outputs
      expect(stats.frames - before).toBeGreaterThanOrEqual(plan.frames + 16);
      await device.close();
    }, 60_000);
  }
});

describe('project()’s common gain against expectedProjectionMatrix', () => {
  // |η| ≈ ½·|responsivity error|: σ ≈ 0.05%; the bound is the facade's specification.
  for (const [camera, seed, inputs, outputs] of [
    ['ideal', 41, 64, 256],
    ['realistic', 42, 64, 256],
    ['realistic', 43, 300, 1000],
    ['ideal', 44, 300, 1000],
  ] as const) {
    it(`${camera} camera, ${inputs}→${outputs}, seed ${seed}: |η| ≤ 0.2%`, async () => {
      const device = new SimulatedOpuDevice({ options: { ...CAMERAS[camera], seed } });
      await using opu = await Opu.open(device, { inputs, outputs });
      const eta = await gainError(opu, device, seed);
      expect(Math.abs(eta), `η = ${(eta * 100).toFixed(3)}%`).toBeLessThan(0.002);
    }, 60_000);
  }
});
