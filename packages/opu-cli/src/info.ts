import { parseArgs } from 'node:util';
import { deviceFromUrl } from 'opu-core';
import { deviceUrl } from './exit.js';

export const INFO_USAGE = `usage: opu info <url> [--json]
Opens the device (sim://?seed=7, serial:///dev/ttyACM0, serial://auto) and prints what it is and its settings.`;

/** `opu info <url>`: the device's description and settings, for people or as one JSON object. */
export async function info(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { json: { type: 'boolean' } },
  });
  const url = deviceUrl(positionals);
  await using device = deviceFromUrl(url);
  await device.open();
  const { info: description, settings } = device;
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ url, info: description, settings })}\n`);
    return 0;
  }
  const { dmd, camera, limits } = description;
  const lines = [
    `${description.model} ${description.serialNumber}, firmware ${description.firmwareVersion}`,
    `DMD     ${dmd.widthMirrors}×${dmd.heightMirrors} mirrors, ${dmd.mirrorPitchUm} µm, up to ${dmd.maxFrameRateHz} Hz`,
    `camera  ${camera.widthPx}×${camera.heightPx} px, ${camera.pixelPitchUm} µm, ${camera.bitDepth}-bit`,
    `limits  exposure ${limits.exposureUs.min}–${limits.exposureUs.max} µs, frame time ≥ ${limits.frameTimeUs.min} µs, ` +
      `${limits.minFramesPerAcquisition}–${limits.maxFramesPerAcquisition} frames per acquisition`,
    `now     exposure ${settings.exposureUs} µs, frame time ${settings.frameTimeUs} µs, gain ${settings.gainDb} dB`,
    `        input region ${settings.inputRegion.width}×${settings.inputRegion.height} at ` +
      `(${settings.inputRegion.left}, ${settings.inputRegion.top}), ROI ${settings.outputRoi.width}×` +
      `${settings.outputRoi.height} at (${settings.outputRoi.left}, ${settings.outputRoi.top})`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
