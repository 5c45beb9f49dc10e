import { runOpuDeviceContract } from 'opu-core/testing';
import { afterAll, expect } from 'vitest';
import {
  type FakeDeviceOptions,
  FakeOpuDevice,
  fieldResponse,
  gaussianFieldMatrix,
  makeInfo,
} from './helpers/fake-device.js';

/**
 * The fake device opu-core's own tests run on is a backend like the simulator and the serial driver: it runs the
 * same contract suite, and none of the suite's bad input may reach its doX() methods.
 */
const created: FakeOpuDevice[] = [];
const fake = (options?: FakeDeviceOptions) => () => {
  const device = new FakeOpuDevice(options);
  created.push(device);
  return device;
};

runOpuDeviceContract('FakeOpuDevice (defaults)', fake());
runOpuDeviceContract(
  'FakeOpuDevice (8-bit, odd region and ROI off the origin, scattering medium, lagging trigger, slow calls)',
  fake({
    info: makeInfo({ camera: { bitDepth: 8 }, limits: { minFramesPerAcquisition: 2, maxFramesPerAcquisition: 64 } }),
    settings: {
      inputRegion: { left: 3, top: 5, width: 13, height: 7 },
      outputRoi: { left: 3, top: 2, width: 5, height: 3 },
    },
    response: fieldResponse(gaussianFieldMatrix(4, 32 * 16, 16 * 8), 0.01),
    triggerLagFrames: 1,
    delayMs: 1,
  }),
);
runOpuDeviceContract(
  'FakeOpuDevice (10-bit, batches of 1 to 3 frames)',
  fake({
    info: makeInfo({ camera: { bitDepth: 10 }, limits: { minFramesPerAcquisition: 1, maxFramesPerAcquisition: 3 } }),
  }),
);

afterAll(() => {
  expect(created.length).toBeGreaterThan(20);
  expect(created.flatMap((device) => device.violations)).toEqual([]);
});
