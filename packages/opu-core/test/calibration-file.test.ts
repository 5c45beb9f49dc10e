import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CALIBRATION_FORMAT_VERSION,
  type CalibrationCheck,
  checkCalibration,
  decodeCalibration,
  encodeCalibration,
  loadCalibration,
  saveCalibration,
} from '../src/calibration/calibration-file.js';
import type { DeviceCalibration } from '../src/calibration/device-calibration.js';
import type { DmdLayout } from '../src/measure/layout.js';
import { writeFileAtomic } from '../src/support/atomic-write.js';
import { ArgumentError, CalibrationFileError, OpuError, StorageError } from '../src/support/errors.js';
import { seededUniform } from '../src/support/random.js';

/** Random bit patterns: every float32 there is, NaN payloads, −0, subnormals and infinities included. */
function randomFloats(length: number, seed: number): Float32Array {
  const uniform = seededUniform(seed);
  const bits = new Uint32Array(length);
  for (let i = 0; i < length; i++) bits[i] = Math.floor(uniform() * 2 ** 32);
  return new Float32Array(bits.buffer);
}

function run(minutes: number) {
  return {
    completedAt: `2026-03-01T10:${String(minutes).padStart(2, '0')}:00.000Z`,
    durationMs: 1234.5 + minutes,
    frames: 100 * minutes,
    deviceTimeUs: 8.25e6 + minutes,
  };
}

function layoutFor(outputs: number, inputs: number): DmdLayout {
  return {
    inputs,
    referenceCount: 3,
    referenceElements: 8,
    mirrorsPerElement: 4,
    region: { left: 0, top: 0, width: 1024, height: Math.ceil(((inputs + 24) * 4) / 1024) },
    roi: { left: 0, top: 0, width: Math.min(outputs, 100), height: Math.ceil(outputs / 100) },
  };
}

/** A calibration with every step, `outputs` camera pixels and `inputs` data elements. */
function fullCalibration(outputs: number, inputs: number): DeviceCalibration {
  const layout = layoutFor(outputs, inputs);
  return {
    createdAt: '2026-03-01T10:00:00.000Z',
    device: {
      model: 'OPU-Ω 1',
      serialNumber: 'SN-0042',
      firmwareVersion: '2.1.0',
      camera: { bitDepth: 12, maxAdu: 4095, widthPx: 1920, heightPx: 1080 },
      dmd: { widthMirrors: 1024, heightMirrors: 768 },
    },
    settings: {
      exposureUs: 400,
      frameTimeUs: 1000,
      gainDb: 0,
      inputRegion: { left: 0, top: 0, width: 1024, height: 8 },
      outputRoi: { left: 16, top: 8, width: layout.roi.width, height: layout.roi.height },
    },
    layout,
    outputs,
    seed: 7,
    steps: {
      triggerLag: { ...run(1), lagFrames: 2 },
      dark: {
        ...run(2),
        offsetAdu: randomFloats(outputs, 1),
        slopeAduPerUs: randomFloats(outputs, 2),
        offsetSpreadAdu: 0.37,
      },
      exposure: {
        ...run(3),
        litMirrors: 2096,
        exposureUs: 400,
        margin: 0.8,
        responsivity: 1.5e-4,
        sweepExposureUs: randomFloats(5, 3),
        sweepMaxAdu: randomFloats(5, 4),
        sweepSaturatedPixels: randomFloats(5, 5),
        speckleImageAdu: randomFloats(7 * 3, 6),
        speckleWidthPx: 7,
        speckleHeightPx: 3,
        histogramEdges: randomFloats(11, 7),
        histogramCounts: randomFloats(10, 8),
      },
      reference: {
        ...run(4),
        averagedFrames: 16,
        snr: Number.POSITIVE_INFINITY,
        targetSnr: 100,
        referenceIntensity: randomFloats(3 * outputs, 9),
        weights: randomFloats(outputs * 3, 10),
        amplitude: randomFloats(outputs, 11),
      },
      linearity: { ...run(5), superpositionError: 0.012, realSuperpositionError: Number.NaN, pairs: 32 },
      stability: {
        ...run(6),
        timesS: randomFloats(6, 12),
        correlation: randomFloats(6, 13),
        noiseFloor: 0.998,
        timeConstantS: Number.POSITIVE_INFINITY,
        drifting: false,
        recalibrationIntervalS: Number.POSITIVE_INFINITY,
        correlationThreshold: 0.95,
      },
      transmissionMatrix: {
        ...run(7),
        rows: outputs,
        cols: inputs,
        re: randomFloats(outputs * inputs, 14),
        im: randomFloats(outputs * inputs, 15),
        method: 'anchors',
        layout,
        quality: {
          intensityCorrelation: 0.97,
          intensityRelativeError: 0.08,
          testInputs: 64,
          anchorConditionMedian: 3.2,
          anchorConditionMax: Number.NEGATIVE_INFINITY,
          frames: 4000,
          deviceTimeUs: 4e6,
        },
      },
    },
  };
}

function bytesOf(array: Float32Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** The error `decodeCalibration` throws for `bytes`, or 'decoded' if it returns. */
function decodeFailure(bytes: Uint8Array): unknown {
  try {
    decodeCalibration(bytes);
    return 'decoded';
  } catch (error) {
    return error;
  }
}

function failureKind(bytes: Uint8Array): unknown {
  const failure = decodeFailure(bytes);
  return failure instanceof CalibrationFileError ? failure.kind : failure;
}

function corruptField(bytes: Uint8Array): string | undefined {
  const failure = decodeFailure(bytes);
  expect(failure).toBeInstanceOf(CalibrationFileError);
  expect((failure as CalibrationFileError).kind).toBe('corrupt');
  return (failure as CalibrationFileError).field;
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;

/** Splits a file the way docs/calibration-file.md describes it, independently of the implementation. */
function splitFile(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  return {
    version: view.getUint16(6, true),
    header: JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength))),
    arrays: bytes.subarray(align8(12 + headerLength), bytes.length - 32),
  };
}

/** Builds a validly checksummed file from parts, as a writer following the documentation would. */
function signedFile(version: number, headerText: string | Uint8Array, arrays: Uint8Array): Uint8Array {
  const header = typeof headerText === 'string' ? new TextEncoder().encode(headerText) : headerText;
  const arraysStart = align8(12 + header.length);
  const bytes = new Uint8Array(arraysStart + arrays.length + 32);
  bytes.set(new TextEncoder().encode('OPUCAL'));
  new DataView(bytes.buffer).setUint16(6, version, true);
  new DataView(bytes.buffer).setUint32(8, header.length, true);
  bytes.set(header, 12);
  bytes.set(arrays, arraysStart);
  bytes.set(
    createHash('sha256')
      .update(bytes.subarray(0, bytes.length - 32))
      .digest(),
    bytes.length - 32,
  );
  return bytes;
}

// biome-ignore lint/suspicious/noExplicitAny: tests edit the raw header JSON wherever they like
type RawJson = any;

function withHeader(bytes: Uint8Array, edit: (header: RawJson) => void): Uint8Array {
  const { version, header, arrays } = splitFile(bytes);
  edit(header);
  return signedFile(version, JSON.stringify(header), arrays);
}

describe('CalibrationFileError', () => {
  it('is an OpuError carrying its kind, field and fix', () => {
    const error = new CalibrationFileError('stale', 'too old', { field: 'createdAt', fix: 'recalibrate' });
    expect(error).toBeInstanceOf(OpuError);
    expect(error.name).toBe('CalibrationFileError');
    expect(error.kind).toBe('stale');
    expect(error.message).toBe('createdAt: too old. Fix: recalibrate');
  });
});

describe('encodeCalibration / decodeCalibration', () => {
  const small = fullCalibration(12, 10);
  const smallBytes = encodeCalibration(small);

  it('round-trips a full calibration exactly, arrays bit for bit and non-finite values included', () => {
    const decoded = decodeCalibration(encodeCalibration(small));
    expect(decoded).toEqual(small);
    const { stability, transmissionMatrix, dark, linearity } = decoded.steps;
    expect(stability!.timeConstantS).toBe(Number.POSITIVE_INFINITY);
    expect(stability!.recalibrationIntervalS).toBe(Number.POSITIVE_INFINITY);
    expect(transmissionMatrix!.quality.anchorConditionMax).toBe(Number.NEGATIVE_INFINITY);
    expect(linearity!.realSuperpositionError).toBeNaN();
    expect(bytesOf(transmissionMatrix!.re)).toEqual(bytesOf(small.steps.transmissionMatrix!.re));
    expect(bytesOf(transmissionMatrix!.im)).toEqual(bytesOf(small.steps.transmissionMatrix!.im));
    expect(bytesOf(dark!.offsetAdu)).toEqual(bytesOf(small.steps.dark!.offsetAdu));
  });

  it('round-trips a partial calibration and arrays that are views into larger buffers', () => {
    const buffer = randomFloats(40, 99);
    const partial: DeviceCalibration = {
      ...small,
      steps: {
        triggerLag: small.steps.triggerLag!,
        dark: { ...small.steps.dark!, offsetAdu: buffer.subarray(3, 15), slopeAduPerUs: buffer.subarray(20, 32) },
      },
    };
    const decoded = decodeCalibration(encodeCalibration(partial));
    expect(decoded).toEqual(partial);
    expect(Object.keys(decoded.steps)).toEqual(['triggerLag', 'dark']);
    expect(decoded.steps.dark!.offsetAdu.byteOffset).toBe(0);
    const bytes = encodeCalibration(partial);
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    expect(decodeCalibration(shifted.subarray(3))).toEqual(partial);
  });

  it('writes the documented layout: magic, version, JSON header, 8-byte aligned float32 arrays, SHA-256', () => {
    const { version, header, arrays } = splitFile(smallBytes);
    expect(new TextDecoder().decode(smallBytes.subarray(0, 6))).toBe('OPUCAL');
    expect(version).toBe(CALIBRATION_FORMAT_VERSION);
    expect(header.formatVersion).toBe(CALIBRATION_FORMAT_VERSION);
    expect(header.calibration.steps.stability.timeConstantS).toBe('Infinity');
    const re = header.calibration.steps.transmissionMatrix.re;
    expect(re).toEqual({ array: expect.any(Number), length: 120 });
    const lengths = collectLengths(header.calibration);
    expect(arrays.length).toBe(lengths.reduce((sum, n) => sum + align8(4 * n), 0));
    const offset = lengths.slice(0, re.array).reduce((sum, n) => sum + align8(4 * n), 0);
    expect(arrays.subarray(offset, offset + 480)).toEqual(bytesOf(small.steps.transmissionMatrix!.re));
    const digest = createHash('sha256')
      .update(smallBytes.subarray(0, smallBytes.length - 32))
      .digest();
    expect(smallBytes.subarray(smallBytes.length - 32)).toEqual(new Uint8Array(digest));
  });

  it('reports every single flipped byte as corrupt', () => {
    const wrong: [number, unknown][] = [];
    for (let i = 0; i < smallBytes.length; i++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const flipped = smallBytes.slice();
        flipped[i]! ^= mask;
        const kind = failureKind(flipped);
        if (kind !== 'corrupt') wrong.push([i, kind]);
      }
    }
    expect(smallBytes.length).toBeGreaterThan(2500);
    expect(wrong).toEqual([]);
  });

  it('reports every truncation as corrupt', () => {
    const wrong: [number, unknown][] = [];
    for (let length = 0; length < smallBytes.length; length++) {
      const kind = failureKind(smallBytes.subarray(0, length));
      if (kind !== 'corrupt') wrong.push([length, kind]);
    }
    expect(wrong).toEqual([]);
  });

  it('names the checksum for a damaged file and the magic for another kind of file', () => {
    const damaged = smallBytes.slice();
    damaged[smallBytes.length - 100]! ^= 1;
    expect(corruptField(damaged)).toBe('checksum');
    const png = smallBytes.slice();
    png.set([0x89, 0x50, 0x4e, 0x47]);
    expect(corruptField(png)).toBe('magic');
  });

  it('reports a newer format version as unsupported, and version 0 as corrupt', () => {
    const { header, arrays } = splitFile(smallBytes);
    const newer = decodeFailure(signedFile(2, JSON.stringify(header), arrays)) as CalibrationFileError;
    expect(newer).toBeInstanceOf(CalibrationFileError);
    expect(newer.kind).toBe('unsupported');
    expect(newer.field).toBe('version');
    expect(newer.message).toMatch(/version 2/);
    expect(corruptField(signedFile(0, JSON.stringify(header), arrays))).toBe('version');
  });

  it('names the zod path of an invalid header even when the checksum is valid', () => {
    const cases: [(header: RawJson) => void, string][] = [
      [(h) => (h.calibration.steps.stability.timeConstantS = 'forever'), 'calibration.steps.stability.timeConstantS'],
      [(h) => (h.calibration.steps.dark.frames = 1.5), 'calibration.steps.dark.frames'],
      [(h) => delete h.calibration.device.serialNumber, 'calibration.device.serialNumber'],
      [(h) => (h.calibration.layout.surprise = 1), 'calibration.layout.surprise'],
      [(h) => (h.calibration.settings.outputRoi.width = 0), 'calibration.settings.outputRoi.width'],
      [(h) => (h.calibration.createdAt = 'yesterday'), 'calibration.createdAt'],
      [(h) => (h.calibration.steps.transmissionMatrix.method = 'magic'), 'calibration.steps.transmissionMatrix.method'],
      [(h) => (h.calibration.steps.transmissionMatrix.rows = 13), 'calibration.steps.transmissionMatrix.re.length'],
      [(h) => (h.calibration.layout.referenceCount = 4), 'calibration.steps.reference.weights.length'],
      [(h) => (h.formatVersion = 2), 'formatVersion'],
    ];
    for (const [edit, field] of cases) expect(corruptField(withHeader(smallBytes, edit))).toBe(field);
  });

  it('reports array descriptors that contradict the arrays section as corrupt', () => {
    const dark = (edit: (d: RawJson) => void) => withHeader(smallBytes, (h) => edit(h.calibration.steps.dark));
    const twice = dark((d) => (d.slopeAduPerUs.array = d.offsetAdu.array));
    expect(corruptField(twice)).toMatch(/^calibration\.steps\.dark\.(offsetAdu|slopeAduPerUs)\.array$/);
    expect(corruptField(dark((d) => (d.offsetAdu.array = 1000)))).toBe('calibration.steps.dark.offsetAdu.array');
    // lengths that agree with each other but not with the bytes that follow
    const longer = withHeader(smallBytes, (h) => {
      h.calibration.steps.stability.timesS.length += 2;
      h.calibration.steps.stability.correlation.length += 2;
    });
    expect(corruptField(longer)).toBe('arrays');
    const darkForOtherOutputs = dark((d) => {
      d.offsetAdu.length += 2;
      d.slopeAduPerUs.length += 2;
    });
    expect(corruptField(darkForOtherOutputs)).toBe('calibration.steps.dark.offsetAdu.length');
    const { header, arrays } = splitFile(smallBytes);
    expect(corruptField(signedFile(1, JSON.stringify(header), arrays.subarray(8)))).toBe('arrays');
  });

  it('reports a header that is not UTF-8 JSON as corrupt', () => {
    const { arrays } = splitFile(smallBytes);
    expect(corruptField(signedFile(1, '{"formatVersion": 1,', arrays))).toBe('header');
    expect(corruptField(signedFile(1, Uint8Array.of(0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d), arrays))).toBe('header');
  });

  it('refuses to encode a calibration the format cannot hold, naming the field', () => {
    const cases: [DeviceCalibration, string][] = [
      [{ ...small, seed: 0.5 }, 'calibration.seed'],
      [
        { ...small, steps: { triggerLag: { ...run(1), lagFrames: Number.POSITIVE_INFINITY } } },
        'calibration.steps.triggerLag.lagFrames',
      ],
      [{ ...small, extra: new Float32Array(2) } as DeviceCalibration, 'calibration.extra'],
      [
        { ...small, steps: { dark: { ...small.steps.dark!, slopeAduPerUs: new Float32Array(3) } } },
        'calibration.steps.dark.slopeAduPerUs.length',
      ],
      [
        {
          ...small,
          steps: { dark: { ...small.steps.dark!, offsetAdu: new Float64Array(12) as unknown as Float32Array } },
        },
        'calibration.steps.dark.offsetAdu.array',
      ],
    ];
    for (const [calibration, field] of cases) {
      const failure = (() => {
        try {
          return encodeCalibration(calibration);
        } catch (error) {
          return error;
        }
      })();
      expect(failure).toBeInstanceOf(ArgumentError);
      expect((failure as ArgumentError).field).toBe(field);
    }
  });

  it('encodes and decodes a 1000 × 1100 complex transmission matrix', () => {
    const large = fullCalibration(1000, 1100);
    const start = performance.now();
    const bytes = encodeCalibration(large);
    const encoded = performance.now();
    const decoded = decodeCalibration(bytes);
    const end = performance.now();
    console.log(
      `1000×1100 calibration: ${bytes.length} bytes, encode ${(encoded - start).toFixed(1)} ms, decode ${(end - encoded).toFixed(1)} ms`,
    );
    const matrix = decoded.steps.transmissionMatrix!;
    expect(Buffer.from(bytesOf(matrix.re)).equals(bytesOf(large.steps.transmissionMatrix!.re))).toBe(true);
    expect(Buffer.from(bytesOf(matrix.im)).equals(bytesOf(large.steps.transmissionMatrix!.im))).toBe(true);
    expect(bytes.length).toBeLessThan(2 * 4 * 1000 * 1100 + 64 * 1024);
  });
});

function collectLengths(value: unknown, lengths: number[] = []): number[] {
  if (typeof value !== 'object' || value === null) return lengths;
  if ('array' in value) {
    const ref = value as { array: number; length: number };
    lengths[ref.array] = ref.length;
    return lengths;
  }
  for (const child of Object.values(value)) collectLengths(child, lengths);
  return lengths;
}

describe('saveCalibration / loadCalibration', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'opu-calibration-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('round-trips through a file', async () => {
    const calibration = fullCalibration(20, 30);
    const path = join(directory, 'round-trip.opucal');
    await saveCalibration(path, calibration);
    expect(await loadCalibration(path)).toEqual(calibration);
    await saveCalibration(path, { ...calibration, seed: 8 });
    expect((await loadCalibration(path)).seed).toBe(8);
  });

  it('reports a missing file as missing and a damaged one as corrupt, naming the path', async () => {
    const missing = join(directory, 'nothing-here.opucal');
    await expect(loadCalibration(missing)).rejects.toMatchObject({ kind: 'missing', field: 'path' });
    const damaged = join(directory, 'damaged.opucal');
    await writeFile(damaged, 'OPUCAL but not really a calibration file at all, just text');
    const failure = await loadCalibration(damaged).catch((error: unknown) => error);
    expect(failure).toMatchObject({ kind: 'corrupt', field: 'checksum' });
    expect((failure as Error).message).toContain(damaged);
  });

  describe('is atomic', () => {
    const good = fullCalibration(8, 6);

    async function setUp(name: string) {
      const dir = join(directory, name);
      await mkdir(dir);
      const path = join(dir, 'calibration.opucal');
      await saveCalibration(path, good);
      return { dir, path, before: await readFile(path) };
    }

    it('keeps the old file and leaves no temporary file when the write fails midway', async () => {
      const { dir, path, before } = await setUp('midway');
      const replacement = encodeCalibration(fullCalibration(80, 60));
      async function* failingHalfway() {
        yield replacement.subarray(0, replacement.length / 2);
        throw new Error('disk full');
      }
      await expect(writeFileAtomic(path, failingHalfway())).rejects.toThrow('disk full');
      expect(await readFile(path)).toEqual(before);
      expect(await readdir(dir)).toEqual(['calibration.opucal']);
      expect(await loadCalibration(path)).toEqual(good);
    });

    it('keeps the old file when the calibration cannot be encoded', async () => {
      const { dir, path, before } = await setUp('encoding');
      await expect(saveCalibration(path, { ...good, seed: Number.NaN })).rejects.toBeInstanceOf(ArgumentError);
      expect(await readFile(path)).toEqual(before);
      expect(await readdir(dir)).toEqual(['calibration.opucal']);
    });

    it('removes the temporary file when the final rename fails', async () => {
      const { dir } = await setUp('rename');
      const occupied = join(dir, 'occupied');
      await mkdir(join(occupied, 'child'), { recursive: true });
      await expect(saveCalibration(occupied, good)).rejects.toThrow();
      expect((await readdir(dir)).sort()).toEqual(['calibration.opucal', 'occupied']);
    });

    it('reports I/O errors as a StorageError naming the path', async () => {
      const path = join(directory, 'no-such-dir', 'c.opucal');
      const error = await saveCalibration(path, good).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageError);
      expect(error).toMatchObject({ field: path, code: 'ENOENT' });
      expect((error as Error).message).toMatch(/Fix: create the directory or write elsewhere/);
    });
  });
});

describe('checkCalibration', () => {
  const calibration = fullCalibration(12, 10);
  const info = calibration.device;
  const now = new Date('2026-03-02T10:00:00.000Z');
  const check = (overrides: Partial<CalibrationCheck>) => checkCalibration(calibration, { info, now, ...overrides });
  const thrown = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(CalibrationFileError);
      return error as CalibrationFileError;
    }
    throw new Error('expected a CalibrationFileError');
  };

  const facade = (layout: DmdLayout, outputs = calibration.outputs) => ({ layout, outputs });

  it('accepts a calibration for this device and layout', () => {
    expect(check({ facade: facade(calibration.layout) })).toEqual([]);
  });

  it('throws mismatch for the same device in another camera configuration', () => {
    const camera = { ...info.camera, bitDepth: 8 as const, maxAdu: 255 };
    const error = thrown(() => check({ info: { ...info, camera } }));
    expect(error).toMatchObject({ kind: 'mismatch', field: 'device.camera.bitDepth, device.camera.maxAdu' });
    expect(thrown(() => check({ info: { ...info, dmd: { ...info.dmd, widthMirrors: 912 } } })).field).toBe(
      'device.dmd.widthMirrors',
    );
  });

  it('throws mismatch for another device; force turns it into a warning', () => {
    const other = { ...info, serialNumber: 'SN-0043' };
    const error = thrown(() => check({ info: other }));
    expect(error.kind).toBe('mismatch');
    expect(error.field).toBe('device.serialNumber');
    expect(error.message).toContain('SN-0042');
    expect(error.fix).toContain('force');
    const warnings = check({ info: other, force: true });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('device.serialNumber');
    const firmware = thrown(() => check({ info: { ...info, firmwareVersion: '3.0.0', model: 'OPU-2' } }));
    expect(firmware.field).toBe('device.model, device.firmwareVersion');
  });

  it('throws mismatch for another layout; force turns it into a warning', () => {
    const wider = { ...calibration.layout, inputs: 11 };
    expect(thrown(() => check({ facade: facade(wider) }))).toMatchObject({ kind: 'mismatch', field: 'layout.inputs' });
    const roi = { ...calibration.layout, roi: { ...calibration.layout.roi, height: 2 } };
    expect(thrown(() => check({ facade: facade(roi) })).field).toBe('layout.roi.height');
    const moved = { ...calibration.layout, roi: { ...calibration.layout.roi, left: 50 } };
    expect(check({ facade: facade(moved) })).toEqual([]);
    expect(thrown(() => check({ facade: facade(calibration.layout, 11) })).field).toBe('layout.outputs');
    expect(check({ facade: facade(wider), force: true })).toEqual([expect.stringContaining('layout.inputs')]);
  });

  it('throws stale past the default age without a finite recalibration interval', () => {
    const later = new Date('2026-03-09T10:00:01.000Z');
    expect(check({ now: new Date('2026-03-08T09:00:00.000Z') })).toEqual([]);
    const error = thrown(() => check({ now: later }));
    expect(error).toMatchObject({ kind: 'stale', field: 'createdAt' });
    expect(error.message).toContain('7.0 days');
    expect(check({ now: later, force: true })).toEqual([expect.stringContaining('createdAt')]);
    expect(thrown(() => check({ maxAgeS: 3600 })).kind).toBe('stale');
  });

  it('uses the stability step’s recalibration interval when it is finite', () => {
    const stability = { ...calibration.steps.stability!, recalibrationIntervalS: 600 };
    const drifting = { ...calibration, steps: { ...calibration.steps, stability } };
    const at =
      (iso: string, maxAgeS = 1e9) =>
      () =>
        checkCalibration(drifting, { info, now: new Date(iso), maxAgeS });
    expect(at('2026-03-01T10:10:00.000Z')()).toEqual([]);
    expect(thrown(at('2026-03-01T10:10:01.000Z'))).toMatchObject({ kind: 'stale', field: 'createdAt' });
    // a stricter maximum age of the caller's still holds
    expect(thrown(at('2026-03-01T10:05:01.000Z', 300)).message).toContain('the maximum age');
  });

  it('throws incomplete for a missing required step, even with force', () => {
    const partial = { ...calibration, steps: { triggerLag: calibration.steps.triggerLag! } };
    const error = thrown(() => checkCalibration(partial, { info, now, force: true }));
    expect(error).toMatchObject({ kind: 'incomplete', field: 'steps.dark, steps.exposure, steps.reference' });
    expect(checkCalibration(partial, { info, now, required: ['triggerLag'] })).toEqual([]);
    const otherModel = { ...info, model: 'OPU-2' };
    const forced = thrown(() => checkCalibration(partial, { info: otherModel, now, required: ['dark'], force: true }));
    expect(forced.kind).toBe('incomplete');
  });
});
