import { freemem } from 'node:os';
import { constrainedMemory } from 'node:process';
import type { CalibrationEstimate } from 'opu-core';
import { UsageError } from './exit.js';

/** Device time a calibration may take without --force: an hour, past which a typo (--tm 99999x99999) is likelier. */
export const DEFAULT_MAX_DEVICE_S = 3600;

export interface CalibrationLimits {
  memoryBytes: number;
  /** Where the memory limit comes from, for messages: the flag, or what the machine has. */
  memoryOrigin: string;
  deviceTimeS: number;
  deviceTimeOrigin: string;
}

/** Memory this process can take now: the machine's available memory, or its cgroup's limit when that is lower. */
function availableMemoryBytes(): number {
  const limit = constrainedMemory?.() ?? 0;
  // an unconstrained process reports 0, or on some systems a number near 2^64
  return limit > 0 && limit < 2 ** 60 ? Math.min(freemem(), limit) : freemem();
}

const UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** `8G`, `512MiB`, `1.5g`, `1000000`: bytes, with binary multiples. */
function parseBytes(raw: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(raw.trim());
  if (!match || !(Number(match[1]) > 0)) {
    throw new UsageError(`${flag} ${raw} is not a size (e.g. ${flag} 8G, ${flag} 512MiB)`);
  }
  return Math.round(Number(match[1]) * UNITS[match[2]!.toLowerCase()]!);
}

/** The limits of `--max-memory SIZE` and `--max-device-s SECONDS`, or their defaults. */
export function calibrationLimits(values: { 'max-memory'?: string; 'max-device-s'?: string }): CalibrationLimits {
  const memory = values['max-memory'];
  const device = values['max-device-s'];
  const deviceTimeS = device === undefined ? DEFAULT_MAX_DEVICE_S : Number(device);
  if (device !== undefined && !(device.trim() !== '' && deviceTimeS > 0 && Number.isFinite(deviceTimeS))) {
    throw new UsageError(`--max-device-s ${device} is not a positive number of seconds`);
  }
  return {
    memoryBytes: memory === undefined ? availableMemoryBytes() : parseBytes(memory, '--max-memory'),
    memoryOrigin: memory === undefined ? 'the memory free on this machine' : '--max-memory',
    deviceTimeS,
    deviceTimeOrigin: device === undefined ? 'the default' : '--max-device-s',
  };
}

/** Refuses, naming the estimate, the limit and the flags, a calibration past a limit. */
export function checkLimits(estimate: CalibrationEstimate, limits: CalibrationLimits): void {
  const over: string[] = [];
  if (estimate.memoryBytes > limits.memoryBytes) {
    over.push(
      `about ${formatBytes(estimate.memoryBytes)} of memory${memoryTerms(estimate)}, more than the ` +
        `${formatBytes(limits.memoryBytes)} of ${limits.memoryOrigin}`,
    );
  }
  const deviceTimeS = estimate.deviceTimeUs * 1e-6;
  if (deviceTimeS > limits.deviceTimeS) {
    over.push(
      `about ${formatSeconds(deviceTimeS)} of device time (${estimate.frames} frames), more than the ` +
        `${formatSeconds(limits.deviceTimeS)} of ${limits.deviceTimeOrigin}`,
    );
  }
  if (over.length === 0) return;
  throw new UsageError(
    `this calibration needs ${over.join(', and ')}. Measure a smaller matrix (--tm), raise the limit ` +
      '(--max-memory SIZE, --max-device-s SECONDS) or run it anyway with --force',
  );
}

/** The estimate in one line, for people. */
export function describeEstimate(estimate: CalibrationEstimate): string {
  const adaptive = estimate.steps.some((s) => s.adaptive) ? 'at most ' : '';
  return (
    `estimate: ${adaptive}${estimate.frames} frames, about ${formatSeconds(estimate.deviceTimeUs * 1e-6)} of ` +
    `device time at the present exposure, ${formatBytes(estimate.memoryBytes)} of memory${memoryTerms(estimate)}`
  );
}

/** The estimate as the JSON line of `--json`, with the limits it was checked against. */
export function estimateJson(estimate: CalibrationEstimate, limits: CalibrationLimits, forced: boolean) {
  return {
    type: 'estimate',
    frames: estimate.frames,
    deviceTimeS: estimate.deviceTimeUs * 1e-6,
    memoryBytes: estimate.memoryBytes,
    limits: { memoryBytes: limits.memoryBytes, deviceTimeS: limits.deviceTimeS, forced },
    steps: estimate.steps.map(({ deviceTimeUs, ...step }) => ({ ...step, deviceTimeS: deviceTimeUs * 1e-6 })),
  };
}

/** The transmission matrix's largest memory terms, where it is the largest step. */
function memoryTerms(estimate: CalibrationEstimate): string {
  const largest = estimate.steps.find((s) => s.memoryBytes === estimate.memoryBytes);
  if (!largest?.memoryTerms) return '';
  const terms = Object.entries(largest.memoryTerms)
    .filter(([, bytes]) => bytes > 0)
    .sort(([, a], [, b]) => b - a)
    .map(([term, bytes]) => `${term} ${formatBytes(bytes)}`);
  return ` (${largest.step}: ${terms.join(', ')})`;
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number(value.toPrecision(3))} ${units[unit]}`;
}

function formatSeconds(seconds: number): string {
  if (seconds < 120) return `${Number(seconds.toPrecision(2))} s`;
  if (seconds < 7200) return `${Number((seconds / 60).toPrecision(2))} min`;
  return `${Number((seconds / 3600).toPrecision(3))} h`;
}
