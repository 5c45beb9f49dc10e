import { runOpuDeviceContract } from 'opu-core/testing';
import { SimulatedOpuDevice } from '../src/index.js';

runOpuDeviceContract('SimulatedOpuDevice (defaults)', () => new SimulatedOpuDevice({ options: { seed: 1 } }));
runOpuDeviceContract(
  'SimulatedOpuDevice (12-bit, odd region, lagging trigger, minimum batch 4)',
  () =>
    new SimulatedOpuDevice({
      options: {
        seed: 2,
        camera: { bitDepth: 12, triggerLagFrames: 1 },
        inputRegion: { left: 3, top: 5, width: 13, height: 7 },
        outputRoi: { left: 10, top: 2, width: 30, height: 9 },
        minFramesPerAcquisition: 4,
      },
    }),
);
