import { describe, expect, it } from 'vitest';
import { minFrameTimeUs, type OpuInfo, readoutTimeUs } from '../src/device/info.js';
import { type OpuSettings, rectangleArea, validateSettings } from '../src/device/settings.js';
import { ArgumentError } from '../src/support/errors.js';
import { caughtSync, DEFAULT_SETTINGS, makeInfo } from './helpers/fake-device.js';

const info = makeInfo();

function settings(patch: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...structuredClone(DEFAULT_SETTINGS), ...patch };
}

/** The ArgumentError that validateSettings throws for this candidate. */
function rejection(candidate: unknown, against: OpuInfo = info): ArgumentError {
  const error = caughtSync(() => validateSettings(candidate, against));
  expect(error).toBeInstanceOf(ArgumentError);
  return error as ArgumentError;
}

describe('readoutTimeUs and minFrameTimeUs', () => {
  it('scale the rolling readout with the ROI height', () => {
    // The fake sensor has 8 rows read out in 160 µs.
    expect(readoutTimeUs(info.camera, 8)).toBe(160);
    expect(readoutTimeUs(info.camera, 4)).toBe(80);
    expect(readoutTimeUs(info.camera, 1)).toBe(20);
    expect(readoutTimeUs({ ...info.camera, heightPx: 1000, fullFrameReadoutUs: 9000 }, 250)).toBe(2250);
  });

  it('take max(readout, exposure) + overhead, floored by the DMD rate and the frame-time limit', () => {
    // Exposure dominates: 1000 + 20.
    expect(minFrameTimeUs(info, 1000, 8)).toBe(1020);
    // Full-sensor readout dominates: 160 + 20.
    expect(minFrameTimeUs(info, 10, 8)).toBe(180);
    // Two rows: 40 + 20.
    expect(minFrameTimeUs(info, 10, 2)).toBe(60);
    // One row would allow 40 µs; the 20 kHz DMD and the 50 µs limit both need 50.
    expect(minFrameTimeUs(info, 10, 1)).toBe(50);
    const slowDmd: OpuInfo = { ...info, dmd: { ...info.dmd, maxFrameRateHz: 12_500 } };
    expect(minFrameTimeUs(slowDmd, 10, 1)).toBe(80);
    const longMinimum = makeInfo({ limits: { frameTimeUs: { min: 100, max: 1e6 } } });
    expect(minFrameTimeUs(longMinimum, 10, 1)).toBe(100);
    expect(minFrameTimeUs(longMinimum, 500, 1)).toBe(520);
  });
});

describe('validateSettings', () => {
  it('accepts and returns a valid settings object', () => {
    const valid = settings();
    expect(validateSettings(valid, info)).toEqual(DEFAULT_SETTINGS);
    // Edges of every range are allowed.
    const edges = settings({
      exposureUs: info.limits.exposureUs.max,
      frameTimeUs: info.limits.frameTimeUs.max,
      gainDb: info.limits.gainDb.max,
      inputRegion: { left: 0, top: 0, width: info.dmd.widthMirrors, height: info.dmd.heightMirrors },
      outputRoi: { left: 15, top: 7, width: 1, height: 1 },
    });
    expect(validateSettings(edges, info)).toEqual(edges);
    const shortest = settings({ exposureUs: info.limits.exposureUs.min, frameTimeUs: 60, gainDb: 0 });
    expect(validateSettings(shortest, info).frameTimeUs).toBe(60);
  });

  it('rejects an exposure outside the device limits', () => {
    const long = rejection(settings({ exposureUs: 60_000, frameTimeUs: 100_000 }));
    expect(long.field).toBe('settings.exposureUs');
    expect(long.message).toContain('[10, 50000]');
    expect(long.fix).toContain('between 10 and 50000');
    expect(rejection(settings({ exposureUs: 9.5 })).field).toBe('settings.exposureUs');
  });

  it('rejects a gain outside the device limits', () => {
    expect(rejection(settings({ gainDb: 24.5 })).field).toBe('settings.gainDb');
    const negative = rejection(settings({ gainDb: -1 }));
    expect(negative.field).toBe('settings.gainDb');
    expect(negative.message).toContain('dB');
  });

  it('rejects a frame time outside the device limits', () => {
    expect(rejection(settings({ frameTimeUs: 2e6 })).field).toBe('settings.frameTimeUs');
    expect(
      rejection(settings({ exposureUs: 10, frameTimeUs: 40, outputRoi: { left: 0, top: 0, width: 1, height: 1 } }))
        .field,
    ).toBe('settings.frameTimeUs');
  });

  it('rejects rectangles that leave the DMD or the sensor', () => {
    const right = rejection(settings({ inputRegion: { left: 30, top: 0, width: 3, height: 1 } }));
    expect(right.field).toBe('settings.inputRegion');
    expect(right.message).toContain('32×16 DMD');
    expect(rejection(settings({ inputRegion: { left: 0, top: 15, width: 1, height: 2 } })).field).toBe(
      'settings.inputRegion',
    );
    const roi = rejection(settings({ outputRoi: { left: 0, top: 0, width: 17, height: 1 } }));
    expect(roi.field).toBe('settings.outputRoi');
    expect(roi.message).toContain('16×8 sensor');
    expect(rejection(settings({ outputRoi: { left: 2, top: 6, width: 2, height: 3 } })).field).toBe(
      'settings.outputRoi',
    );
  });

  it('rejects a frame time below max(readout, exposure) + overhead', () => {
    // Exposure-bound: 1000 µs exposure needs 1020 µs.
    const exposureBound = rejection(settings({ exposureUs: 1000, frameTimeUs: 1019 }));
    expect(exposureBound.field).toBe('settings.frameTimeUs');
    expect(exposureBound.message).toContain('1020.0');
    expect(exposureBound.fix).toContain('1020');
    expect(validateSettings(settings({ exposureUs: 1000, frameTimeUs: 1020 }), info).frameTimeUs).toBe(1020);
    // Readout-bound: the full 8-row sensor needs 160 + 20 µs at a 10 µs exposure; two rows need only 60 µs.
    const fullSensor = { left: 0, top: 0, width: 16, height: 8 };
    expect(rejection(settings({ exposureUs: 10, frameTimeUs: 179, outputRoi: fullSensor })).field).toBe(
      'settings.frameTimeUs',
    );
    expect(
      validateSettings(settings({ exposureUs: 10, frameTimeUs: 180, outputRoi: fullSensor }), info).frameTimeUs,
    ).toBe(180);
    expect(validateSettings(settings({ exposureUs: 10, frameTimeUs: 60 }), info).frameTimeUs).toBe(60);
  });

  it('rejects wrong types and shapes, naming the nested field', () => {
    const cases: [unknown, string][] = [
      [settings({ exposureUs: '1000' }), 'settings.exposureUs'],
      [settings({ exposureUs: Number.POSITIVE_INFINITY }), 'settings.exposureUs'],
      [settings({ exposureUs: 0 }), 'settings.exposureUs'],
      [settings({ frameTimeUs: -5 }), 'settings.frameTimeUs'],
      [settings({ gainDb: Number.NaN }), 'settings.gainDb'],
      [settings({ gainDb: undefined }), 'settings.gainDb'],
      [settings({ inputRegion: { left: 0, top: 0, width: 1.5, height: 2 } }), 'settings.inputRegion.width'],
      [settings({ inputRegion: { left: -1, top: 0, width: 1, height: 2 } }), 'settings.inputRegion.left'],
      [settings({ outputRoi: { left: 0, top: 0, width: 4, height: 0 } }), 'settings.outputRoi.height'],
      [settings({ outputRoi: { left: 0, width: 4, height: 1 } }), 'settings.outputRoi.top'],
      [settings({ outputRoi: undefined }), 'settings.outputRoi'],
      [settings({ inputRegion: 'all' }), 'settings.inputRegion'],
    ];
    for (const [candidate, field] of cases) {
      const error = rejection(candidate);
      expect(error.field, JSON.stringify(candidate)).toBe(field);
      expect(error.message.startsWith(`${field}: `)).toBe(true);
      expect(error.fix).toBeTruthy();
    }
    expect(rejection(null).field).toBe('settings');
    expect(rejection('fast').field).toBe('settings');
  });

  it('returns the parsed object without unknown keys', () => {
    const candidate = settings({ extra: 1 }) as unknown as OpuSettings;
    const result = validateSettings(candidate, info);
    expect(result).toEqual(DEFAULT_SETTINGS);
    expect(rectangleArea(result.inputRegion)).toBe(16);
    expect(rectangleArea({ left: 3, top: 4, width: 5, height: 7 })).toBe(35);
  });
});
