import { createHash } from 'node:crypto';
import { type OpuInfo, settingsSchema } from 'opu-core';
import { z } from 'zod';
import { ProtocolError } from './messages.js';

/**
 * SHA-256 of the settings schema as JSON Schema. Both sides send settings as JSON checked by this schema, so the
 * host refuses, at the handshake, a device whose settings would not mean the same thing.
 */
export const SETTINGS_SCHEMA_HASH: Uint8Array = new Uint8Array(
  createHash('sha256')
    .update(JSON.stringify(z.toJSONSchema(settingsSchema)))
    .digest(),
);

/** Capability bits of HELLO_REPLY (docs/protocol.md §2). */
export const Capability = {
  softwareTrigger: 1 << 0,
  hardwareTrigger: 1 << 1,
  wideCameraFrames: 1 << 2,
  roiReadout: 1 << 3,
} as const;

const range = z.object({ min: z.number(), max: z.number() });

/** The device info record a device sends in HELLO_REPLY (opu-core's `OpuInfo`). */
export const deviceInfoSchema = z.object({
  model: z.string(),
  serialNumber: z.string().min(1),
  firmwareVersion: z.string(),
  dmd: z.object({
    widthMirrors: z.number().int().positive(),
    heightMirrors: z.number().int().positive(),
    mirrorPitchUm: z.number().positive(),
    maxFrameRateHz: z.number().positive(),
  }),
  camera: z.object({
    widthPx: z.number().int().positive(),
    heightPx: z.number().int().positive(),
    pixelPitchUm: z.number().positive(),
    bitDepth: z.union([z.literal(8), z.literal(10), z.literal(12)]),
    maxAdu: z.number().int().positive(),
    fullFrameReadoutUs: z.number().nonnegative(),
    frameOverheadUs: z.number().nonnegative(),
  }),
  limits: z.object({
    exposureUs: range,
    frameTimeUs: range,
    gainDb: range,
    maxFramesPerAcquisition: z.number().int().positive(),
    minFramesPerAcquisition: z.number().int().positive(),
  }),
}) satisfies z.ZodType<OpuInfo>;

/** Parses JSON received from the device with `schema`; a mismatch is a ProtocolError naming the first bad field. */
export function parseFromDevice<T>(schema: z.ZodType<T>, value: unknown, message: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new ProtocolError(`the device sent an invalid ${message}: ${issue.message}`, {
    field: [message, ...issue.path.map(String)].join('.'),
    fix: 'update the device firmware or the SDK so that both speak the same protocol version',
  });
}
