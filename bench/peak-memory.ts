/**
 * Runs in its own process so that its peak RSS is its own: a 20 000-input × 40 000-output simulated device, whose
 * transmission matrix (6.4 GB as complex64) is never stored, acquires a batch of half-lit frames.
 * Prints one JSON line.
 */
import { packDmdFrames, seededUniform } from 'opu-core';
import { SimulatedOpuDevice } from 'opu-sim';
import { peakRssMb } from './peak-rss.js';

const inputs = Number(process.argv[2] ?? 20_000);
const outputs = Number(process.argv[3] ?? 40_000);
const frames = Number(process.argv[4] ?? 4);
const regionWidth = 800;
const roiWidth = 1600;
const device = new SimulatedOpuDevice({
  options: {
    seed: 1,
    inputRegion: { left: 0, top: 0, width: regionWidth, height: Math.ceil(inputs / regionWidth) },
    outputRoi: { left: 0, top: 0, width: roiWidth, height: Math.ceil(outputs / roiWidth) },
  },
});
await device.open();
const u = seededUniform(2);
const bits = Array.from({ length: frames * device.inputSize }, () => (u() < 0.5 ? 1 : 0));
const started = performance.now();
const shot = await device.acquire(packDmdFrames(bits, frames, device.inputSize));
const seconds = (performance.now() - started) / 1e3;
await device.close();
console.log(
  JSON.stringify({
    inputs: device.options.inputRegion.width * device.options.inputRegion.height,
    outputs: shot.widthPx * shot.heightPx,
    frames,
    seconds,
    peakRssMb: peakRssMb(),
  }),
);
