/**
 * A small, deterministic, noise-free `OpuDevice` for opu-core's own tests (opu-core must not depend on a backend).
 * The camera reports `round(darkOffset + darkSlope·exposure + exposure·I)`, clipped to the ADC range, where `I` (ADU
 * per µs) is a deterministic function of the frame's region-local mirror bits (`Response`). The device records every
 * call, checks its own inputs (a backend must never see bad input) and can lag, stall or fail on demand. It passes
 * the contract suite every backend runs (fake-device-contract.test.ts).
 */
import {
  bytesPerFrame,
  type CameraFrames,
  type DmdFrames,
  litMirrors,
  unpackDmdFrames,
} from '../../src/device/frames.js';
import type { OpuInfo } from '../../src/device/info.js';
import { type OpenedDevice, OpuDevice } from '../../src/device/opu-device.js';
import { type OpuSettings, rectangleArea, validateSettings } from '../../src/device/settings.js';
import { DeviceError } from '../../src/support/errors.js';
import { seededUniform } from '../../src/support/random.js';

/** Writes the light on each of `out.length` ROI pixels, in ADU per µs of exposure, for one frame's mirror bits. */
export type Response = (bits: Uint8Array, out: Float64Array) => void;

/** Intensity `Σ_j w(i, j)·x_j`: linear in the frame, so every expected value is easy to compute by hand. */
export function linearResponse(weight: (pixel: number, mirror: number) => number): Response {
  return (bits, out) => {
    for (let i = 0; i < out.length; i++) {
      let s = 0;
      for (let j = 0; j < bits.length; j++) if (bits[j]) s += weight(i, j);
      out[i] = s;
    }
  };
}

/** A complex transmission matrix with i.i.d. standard complex Gaussian entries (E|R_ij|² = 1), row-major. */
export interface FieldMatrix {
  mirrors: number;
  pixels: number;
  re: Float64Array;
  im: Float64Array;
}

export function gaussianFieldMatrix(seed: number, mirrors: number, pixels: number): FieldMatrix {
  const random = seededUniform(seed);
  const re = new Float64Array(pixels * mirrors);
  const im = new Float64Array(pixels * mirrors);
  for (let k = 0; k < re.length; k++) {
    const radius = Math.sqrt(-Math.log(random()));
    const angle = 2 * Math.PI * random();
    re[k] = radius * Math.cos(angle);
    im[k] = radius * Math.sin(angle);
  }
  return { mirrors, pixels, re, im };
}

/** Intensity `gain·|Σ_j R_ij·x_j|²`: a scattering medium seen through an intensity camera. */
export function fieldResponse(matrix: FieldMatrix, gain: number): Response {
  return (bits, out) => {
    for (let i = 0; i < out.length; i++) {
      let re = 0;
      let im = 0;
      const row = i * matrix.mirrors;
      for (let j = 0; j < bits.length; j++) {
        if (!bits[j]) continue;
        re += matrix.re[row + j]!;
        im += matrix.im[row + j]!;
      }
      out[i] = gain * (re * re + im * im);
    }
  };
}

export function makeInfo(overrides: { limits?: Partial<OpuInfo['limits']>; camera?: Partial<OpuInfo['camera']> } = {}) {
  const camera = { ...DEFAULT_INFO.camera, ...overrides.camera };
  camera.maxAdu = 2 ** camera.bitDepth - 1;
  const info: OpuInfo = {
    ...DEFAULT_INFO,
    dmd: { ...DEFAULT_INFO.dmd },
    camera,
    limits: { ...structuredClone(DEFAULT_INFO.limits), ...overrides.limits },
  };
  return info;
}

/** 32×16 DMD, 16×8 12-bit sensor that reads out in 160 µs, 20 µs overhead, DMD at 20 kHz (50 µs). */
export const DEFAULT_INFO: OpuInfo = {
  model: 'fake',
  serialNumber: 'F-0001',
  firmwareVersion: '0.0.0',
  dmd: { widthMirrors: 32, heightMirrors: 16, mirrorPitchUm: 7.6, maxFrameRateHz: 20_000 },
  camera: {
    widthPx: 16,
    heightPx: 8,
    pixelPitchUm: 5,
    bitDepth: 12,
    maxAdu: 4095,
    fullFrameReadoutUs: 160,
    frameOverheadUs: 20,
  },
  limits: {
    exposureUs: { min: 10, max: 50_000 },
    frameTimeUs: { min: 50, max: 1_000_000 },
    gainDb: { min: 0, max: 24 },
    maxFramesPerAcquisition: 10,
    minFramesPerAcquisition: 4,
  },
};

/** 16 mirrors (8×2), 8 pixels (4×2), 1 ms exposure. */
export const DEFAULT_SETTINGS: OpuSettings = {
  exposureUs: 1000,
  frameTimeUs: 1100,
  gainDb: 0,
  inputRegion: { left: 0, top: 0, width: 8, height: 2 },
  outputRoi: { left: 0, top: 0, width: 4, height: 2 },
};

export interface FakeDeviceOptions {
  info?: OpuInfo;
  settings?: Partial<OpuSettings>;
  /** Default: pixel i sees `1 + i + j mod 5` ADU/µs from mirror j. */
  response?: Response;
  /** Camera frame f shows DMD frame f − lag of the same acquisition (a dark frame for f < lag). */
  triggerLagFrames?: number;
  darkOffsetAdu?: number;
  darkSlopeAduPerUs?: number;
  /** Each doAcquire / doConfigure waits this long (macrotask), so concurrent calls could overlap if not serialized. */
  delayMs?: number;
}

export interface AcquisitionRecord {
  count: number;
  mirrorsPerFrame: number;
  exposureUs: number;
  /** Unpacked bits of every frame shown, count × mirrorsPerFrame. */
  bits: Uint8Array;
  saturatedPixels: Uint32Array;
}

export const defaultResponse = linearResponse((i, j) => 1 + i + (j % 5));

export class FakeOpuDevice extends OpuDevice {
  readonly calls = { open: 0, close: 0, configure: 0, acquire: 0 };
  readonly acquisitions: AcquisitionRecord[] = [];
  readonly configured: OpuSettings[] = [];
  /** Contract violations seen by the backend: a bad input reached a `doX()` method. Must stay empty. */
  readonly violations: string[] = [];
  /** Start and end of every doX call, in order, e.g. `acquire:start`. */
  readonly events: string[] = [];
  maxConcurrent = 0;
  triggerLagFrames: number;
  /** Thrown by the next doAcquire / doConfigure (once). */
  failNextAcquire: Error | undefined;
  failNextConfigure: Error | undefined;
  /** Settings that doOpen reports (may be made invalid to test open()). */
  openSettings: OpuSettings;
  readonly fakeInfo: OpuInfo;
  readonly response: Response;
  readonly darkOffsetAdu: number;
  readonly darkSlopeAduPerUs: number;
  delayMs: number;
  #current: OpuSettings;
  #active = 0;
  #clockUs = 0;

  constructor(options: FakeDeviceOptions = {}) {
    super();
    this.fakeInfo = options.info ?? makeInfo();
    this.openSettings = { ...structuredClone(DEFAULT_SETTINGS), ...options.settings };
    this.#current = this.openSettings;
    this.response = options.response ?? defaultResponse;
    this.triggerLagFrames = options.triggerLagFrames ?? 0;
    this.darkOffsetAdu = options.darkOffsetAdu ?? 20;
    this.darkSlopeAduPerUs = options.darkSlopeAduPerUs ?? 0.01;
    this.delayMs = options.delayMs ?? 0;
  }

  /** Light per µs on each ROI pixel for these region-local mirror bits. */
  intensity(bits: Uint8Array, pixels = rectangleArea(this.#current.outputRoi)): Float64Array {
    const out = new Float64Array(pixels);
    this.response(bits, out);
    return out;
  }

  /** What the camera reports for one frame at this exposure (no lag). */
  expectedAdu(bits: Uint8Array, exposureUs: number, pixels?: number): Float64Array {
    const light = this.intensity(bits, pixels);
    const maxAdu = this.fakeInfo.camera.maxAdu;
    return light.map((v) => this.#adu(v, exposureUs, maxAdu));
  }

  #adu(light: number, exposureUs: number, maxAdu: number): number {
    const v = Math.round(this.darkOffsetAdu + this.darkSlopeAduPerUs * exposureUs + light * exposureUs);
    return Math.min(maxAdu, Math.max(0, v));
  }

  async #enter(what: string): Promise<void> {
    this.events.push(`${what}:start`);
    this.#active++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.#active);
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
  }

  #leave(what: string): void {
    this.#active--;
    this.events.push(`${what}:end`);
  }

  protected async doOpen(): Promise<OpenedDevice> {
    this.calls.open++;
    this.#current = structuredClone(this.openSettings);
    return { info: structuredClone(this.fakeInfo), settings: structuredClone(this.openSettings) };
  }

  protected async doClose(): Promise<void> {
    this.calls.close++;
    this.events.push('close');
    if (this.#active > 0) this.violations.push('doClose while a call is in flight');
  }

  protected async doConfigure(settings: OpuSettings): Promise<void> {
    this.calls.configure++;
    if (this.state !== 'open') this.violations.push(`doConfigure in state ${this.state}`);
    try {
      validateSettings(settings, this.fakeInfo);
    } catch (error) {
      this.violations.push(`doConfigure got invalid settings: ${(error as Error).message}`);
    }
    await this.#enter('configure');
    try {
      const failure = this.failNextConfigure;
      this.failNextConfigure = undefined;
      if (failure) throw failure;
      this.#current = structuredClone(settings);
      this.configured.push(this.#current);
    } finally {
      this.#leave('configure');
    }
  }

  protected async doAcquire(frames: DmdFrames): Promise<CameraFrames> {
    this.calls.acquire++;
    // Checked on entry: close() marks the device closed while a started call finishes.
    this.#checkFrames(frames);
    await this.#enter('acquire');
    try {
      const failure = this.failNextAcquire;
      this.failNextAcquire = undefined;
      if (failure) throw failure;
      return this.#shoot(frames);
    } finally {
      this.#leave('acquire');
    }
  }

  #checkFrames(frames: DmdFrames): void {
    const { limits } = this.fakeInfo;
    const mirrors = rectangleArea(this.#current.inputRegion);
    const problems: string[] = [];
    if (this.state !== 'open') problems.push(`state ${this.state}`);
    if (!(frames.data instanceof Uint8Array)) problems.push('data is not a Uint8Array');
    if (!Number.isInteger(frames.count)) problems.push(`count ${frames.count}`);
    if (frames.count < limits.minFramesPerAcquisition) problems.push(`count ${frames.count} below the minimum`);
    if (frames.count > limits.maxFramesPerAcquisition) problems.push(`count ${frames.count} above the maximum`);
    if (frames.mirrorsPerFrame !== mirrors) problems.push(`${frames.mirrorsPerFrame} mirrors, region has ${mirrors}`);
    if (frames.data.length !== frames.count * bytesPerFrame(frames.mirrorsPerFrame)) problems.push('data length');
    for (const p of problems) this.violations.push(`doAcquire: ${p}`);
    if (problems.length > 0) throw new DeviceError(`fake device got a bad batch: ${problems.join('; ')}`);
  }

  #shoot(frames: DmdFrames): CameraFrames {
    const settings = this.#current;
    const { camera } = this.fakeInfo;
    const pixels = rectangleArea(settings.outputRoi);
    const n = frames.mirrorsPerFrame;
    const bits = unpackDmdFrames(frames);
    const data = camera.bitDepth === 8 ? new Uint8Array(frames.count * pixels) : new Uint16Array(frames.count * pixels);
    const timestampsUs = new Float64Array(frames.count);
    const lit = new Uint32Array(frames.count);
    const saturatedPixels = new Uint32Array(frames.count);
    const blank = new Uint8Array(n);
    const lag = this.triggerLagFrames;
    for (let f = 0; f < frames.count; f++) {
      const shown = f - lag >= 0 ? bits.subarray((f - lag) * n, (f - lag + 1) * n) : blank;
      const adu = this.expectedAdu(shown, settings.exposureUs, pixels);
      for (let i = 0; i < pixels; i++) {
        data[f * pixels + i] = adu[i]!;
        if (adu[i]! >= camera.maxAdu) saturatedPixels[f]!++;
      }
      timestampsUs[f] = this.#clockUs;
      this.#clockUs += settings.frameTimeUs;
      lit[f] = litMirrors(frames, f);
    }
    this.acquisitions.push({
      count: frames.count,
      mirrorsPerFrame: n,
      exposureUs: settings.exposureUs,
      bits,
      saturatedPixels,
    });
    return {
      count: frames.count,
      widthPx: settings.outputRoi.width,
      heightPx: settings.outputRoi.height,
      bitDepth: camera.bitDepth,
      data,
      meta: {
        exposureUs: settings.exposureUs,
        frameTimeUs: settings.frameTimeUs,
        gainDb: settings.gainDb,
        timestampsUs,
        litMirrors: lit,
        saturatedPixels,
      },
    };
  }
}

/** Random 0/1 values, `length` of them, with P(1) = `fill`. */
export function randomBits(length: number, seed: number, fill = 0.5): Uint8Array {
  const random = seededUniform(seed);
  return Uint8Array.from({ length }, () => (random() < fill ? 1 : 0));
}

/** Standard normal values from Box–Muller over `seededUniform(seed)`. */
export function gaussians(length: number, seed: number): Float64Array {
  const random = seededUniform(seed);
  return Float64Array.from({ length }, () => Math.sqrt(-2 * Math.log(random())) * Math.cos(2 * Math.PI * random()));
}

/** Catches the rejection of a promise or the throw of a function, for assertions on the error's fields. */
export async function caught(run: (() => unknown) | Promise<unknown>): Promise<unknown> {
  try {
    await (typeof run === 'function' ? run() : run);
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, none was thrown');
}

export function caughtSync(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, none was thrown');
}
