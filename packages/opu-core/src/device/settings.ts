import { z } from 'zod';
import { ArgumentError } from '../support/errors.js';
import { parseOrThrow } from '../support/validation.js';
import { minFrameTimeUs, type OpuInfo } from './info.js';

/** A rectangle on the DMD (mirrors) or on the camera (pixels); `left`/`top` are 0-based. */
export const rectangleSchema = z.object({
  left: z.number().int().nonnegative(),
  top: z.number().int().nonnegative(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
});
export type Rectangle = z.infer<typeof rectangleSchema>;

export const settingsSchema = z.object({
  exposureUs: z.number().positive().finite(),
  frameTimeUs: z.number().positive().finite(),
  gainDb: z.number().finite(),
  /** DMD mirrors that show the frames; every mirror outside it shows the device's fixed pattern. */
  inputRegion: rectangleSchema,
  /** Camera pixels that are read out, row-major. */
  outputRoi: rectangleSchema,
});
export type OpuSettings = z.infer<typeof settingsSchema>;
export type SettingsPatch = Partial<OpuSettings>;

export function rectangleArea(r: Rectangle): number {
  return r.width * r.height;
}

/**
 * Validates a complete settings object against the shape schema and the device's limits.
 * Throws `ArgumentError` naming the first offending field and how to fix it.
 */
export function validateSettings(candidate: unknown, info: OpuInfo): OpuSettings {
  const s = parseOrThrow(settingsSchema, candidate, 'settings', 'pass a value of the documented type and range');
  const { limits, dmd, camera } = info;
  const inRange = (field: keyof typeof limits & keyof OpuSettings, unit: string) => {
    const value = s[field] as number;
    const { min, max } = limits[field] as { min: number; max: number };
    if (value < min || value > max) {
      throw new ArgumentError(`${value} ${unit} is outside the device range [${min}, ${max}] ${unit}`, {
        field: `settings.${field}`,
        fix: `choose a value between ${min} and ${max} ${unit}`,
      });
    }
  };
  inRange('exposureUs', 'µs');
  inRange('gainDb', 'dB');
  inRange('frameTimeUs', 'µs');
  const fits = (r: Rectangle, w: number, h: number, field: string, unit: string) => {
    if (r.left + r.width > w || r.top + r.height > h) {
      throw new ArgumentError(
        `rectangle ${r.width}×${r.height} at (${r.left}, ${r.top}) exceeds the ${w}×${h} ${unit}`,
        {
          field,
          fix: `keep left + width ≤ ${w} and top + height ≤ ${h}`,
        },
      );
    }
  };
  fits(s.inputRegion, dmd.widthMirrors, dmd.heightMirrors, 'settings.inputRegion', 'DMD');
  fits(s.outputRoi, camera.widthPx, camera.heightPx, 'settings.outputRoi', 'sensor');
  const minFrame = minFrameTimeUs(info, s.exposureUs, s.outputRoi.height);
  if (s.frameTimeUs < minFrame) {
    throw new ArgumentError(
      `${s.frameTimeUs} µs is shorter than max(readout, exposure) + overhead = ${minFrame.toFixed(1)} µs`,
      { field: 'settings.frameTimeUs', fix: `set frameTimeUs ≥ ${Math.ceil(minFrame)} or shorten exposureUs` },
    );
  }
  return s;
}
