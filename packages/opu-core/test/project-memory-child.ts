/**
 * Run by project-memory.test.ts in a child process with a small JavaScript heap: projects `rows` (argv[2]) real rows
 * of 64 inputs on a fast, noise-free device, and prints what it got as one JSON line. The device is a complex
 * Gaussian medium seen by a 12-bit camera, computed from the packed frames directly, so that frames cost little and
 * the facade's own memory is what the heap limit tests.
 */
import type { CameraFrames, DmdFrames } from '../src/device/frames.js';
import { type OpenedDevice, OpuDevice } from '../src/device/opu-device.js';
import type { OpuSettings } from '../src/device/settings.js';
import { Opu } from '../src/opu/opu.js';
import { seededNormal } from '../src/support/random.js';
import { DEFAULT_SETTINGS, gaussianFieldMatrix, makeInfo } from './helpers/fake-device.js';

const INPUTS = 64;
const OUTPUTS = 16;
const DARK_ADU = 20;
/** ADU per µs per unit of |field|²: low enough that the brightest speckle of 112 lit mirrors fits the minimum exposure. */
const GAIN = 0.02;

class FastFieldDevice extends OpuDevice {
  readonly #info = makeInfo({ limits: { maxFramesPerAcquisition: 4096, minFramesPerAcquisition: 1 } });
  #settings: OpuSettings = structuredClone(DEFAULT_SETTINGS);
  /** Field of mirror j on pixel i at `j·pixels + i`: mirror-major, so a frame sums contiguous columns. */
  readonly #re: Float64Array;
  readonly #im: Float64Array;
  readonly #pixels = this.#info.camera.widthPx * this.#info.camera.heightPx;

  constructor(seed: number) {
    super();
    const mirrors = this.#info.dmd.widthMirrors * this.#info.dmd.heightMirrors;
    const matrix = gaussianFieldMatrix(seed, mirrors, this.#pixels);
    this.#re = new Float64Array(mirrors * this.#pixels);
    this.#im = new Float64Array(mirrors * this.#pixels);
    for (let i = 0; i < this.#pixels; i++) {
      for (let j = 0; j < mirrors; j++) {
        this.#re[j * this.#pixels + i] = matrix.re[i * mirrors + j]!;
        this.#im[j * this.#pixels + i] = matrix.im[i * mirrors + j]!;
      }
    }
  }

  protected async doOpen(): Promise<OpenedDevice> {
    return { info: structuredClone(this.#info), settings: structuredClone(this.#settings) };
  }

  protected async doClose(): Promise<void> {}

  protected async doConfigure(settings: OpuSettings): Promise<void> {
    this.#settings = structuredClone(settings);
  }

  protected async doAcquire(frames: DmdFrames): Promise<CameraFrames> {
    const { exposureUs, frameTimeUs, gainDb, outputRoi } = this.#settings;
    const pixels = outputRoi.width * outputRoi.height;
    const stride = frames.data.length / frames.count;
    const data = new Uint16Array(frames.count * pixels);
    const saturatedPixels = new Uint32Array(frames.count);
    const litMirrors = new Uint32Array(frames.count);
    const re = new Float64Array(pixels);
    const im = new Float64Array(pixels);
    for (let f = 0; f < frames.count; f++) {
      re.fill(0);
      im.fill(0);
      for (let j = 0; j < frames.mirrorsPerFrame; j++) {
        if (((frames.data[f * stride + (j >> 3)]! >> (j & 7)) & 1) === 0) continue;
        litMirrors[f]!++;
        for (let i = 0; i < pixels; i++) {
          re[i]! += this.#re[j * this.#pixels + i]!;
          im[i]! += this.#im[j * this.#pixels + i]!;
        }
      }
      for (let i = 0; i < pixels; i++) {
        const adu = Math.round(DARK_ADU + exposureUs * GAIN * (re[i]! ** 2 + im[i]! ** 2));
        data[f * pixels + i] = Math.min(this.#info.camera.maxAdu, adu);
        if (adu >= this.#info.camera.maxAdu) saturatedPixels[f]!++;
      }
    }
    const timestampsUs = Float64Array.from({ length: frames.count }, (_, f) => f * frameTimeUs);
    return {
      count: frames.count,
      widthPx: outputRoi.width,
      heightPx: outputRoi.height,
      bitDepth: 12,
      data,
      meta: { exposureUs, frameTimeUs, gainDb, timestampsUs, litMirrors, saturatedPixels },
    };
  }
}

const rows = Number(process.argv[2]);
const normal = seededNormal(5);
const e = Float32Array.from({ length: rows * INPUTS }, normal);
const opu = await Opu.open(new FastFieldDevice(3), {
  inputs: INPUTS,
  outputs: OUTPUTS,
  mirrorsPerElement: 1,
  calibrationFrames: 16,
});
const batch = await opu.project(e);
// The first rows again, alone: the large batch must give them the same projection (up to exposure quantization).
const headRows = 50;
const head = await opu.project(e.subarray(0, headRows * INPUTS));
let difference = 0;
let norm = 0;
for (let k = 0; k < head.data.length; k++) {
  difference += (batch.data[k]! - head.data[k]!) ** 2;
  norm += head.data[k]! ** 2;
}
await opu.close();
console.log(
  JSON.stringify({
    rows: batch.rows,
    finiteValues: batch.data.filter(Number.isFinite).length,
    headRelativeDifference: Math.sqrt(difference / norm),
  }),
);
