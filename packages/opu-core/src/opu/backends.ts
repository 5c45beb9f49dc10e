import { loadCalibration } from '../calibration/calibration-file.js';
import type { DeviceCalibration } from '../calibration/device-calibration.js';
import type { OpuDevice } from '../device/opu-device.js';
import { ArgumentError, ConfigurationError } from '../support/errors.js';
import { Opu, type OpuOptions } from './opu.js';

/**
 * A backend turns a URL into a device: `sim://?seed=7`, later `serial:///dev/ttyACM0`. Backends register
 * themselves (importing 'opu-sim' registers `sim`); opu-core never imports one.
 */
export interface OpuBackend {
  scheme: string;
  description: string;
  /** Creates an unopened device from the URL. `params` holds the query minus the facade's own keys. */
  createDevice(url: URL, params: Map<string, string>): OpuDevice;
}

const backends = new Map<string, OpuBackend>();

export function registerBackend(backend: OpuBackend): void {
  backends.set(backend.scheme, backend);
}

export function registeredBackends(): readonly OpuBackend[] {
  return [...backends.values()];
}

/** Query keys that configure the facade, not the device. */
const FACADE_KEYS = [
  'inputs',
  'outputs',
  'referenceCount',
  'referenceElements',
  'mirrorsPerElement',
  'calibrationFrames',
] as const;

/** A URL parsed into its backend's unopened device and the facade's own query keys. */
function resolveUrl(url: string): { device: OpuDevice; facade: Partial<OpuOptions> } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new ConfigurationError(`'${url}' is not a URL`, {
      field: 'url',
      fix: "use e.g. 'sim://?inputs=1024'",
      cause,
    });
  }
  const scheme = parsed.protocol.replace(/:$/, '');
  const backend = backends.get(scheme);
  if (!backend) {
    const known = [...backends.keys()].map((s) => `${s}://`).join(', ') || 'none';
    throw new ConfigurationError(`no backend for scheme '${scheme}://' (registered: ${known})`, {
      field: 'url',
      fix: "import the backend package first, e.g. import 'opu-sim'",
    });
  }
  const params = new Map(parsed.searchParams);
  const facade: Partial<OpuOptions> = {};
  for (const key of FACADE_KEYS) {
    const raw = params.get(key);
    if (raw === undefined) continue;
    params.delete(key);
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) {
      throw new ArgumentError(`'${raw}' is not a positive integer`, { field: `url.${key}`, fix: `e.g. ${key}=1024` });
    }
    facade[key] = value;
  }
  return { device: backend.createDevice(parsed, params), facade };
}

/**
 * The device a URL names, not yet opened and without the facade: for tools that talk to the device itself
 * (`opu info`). The facade's query keys (`inputs`, …) are accepted and ignored.
 */
export function deviceFromUrl(url: string): OpuDevice {
  return resolveUrl(url).device;
}

export interface OpenOpuOptions extends Partial<Omit<OpuOptions, 'calibration'>> {
  /** A saved calibration, or the path of its file: the OPU opens with it instead of calibrating. */
  calibration?: DeviceCalibration | string;
}

/**
 * Opens an OPU by URL and returns a calibrated facade, e.g. `openOpu('sim://?inputs=1024&outputs=2048&seed=7')`.
 * Explicit options override the URL's. With a calibration, inputs and outputs default to the calibration's.
 */
export async function openOpu(url: string, options: OpenOpuOptions = {}): Promise<Opu> {
  const calibration =
    typeof options.calibration === 'string' ? await loadCalibration(options.calibration) : options.calibration;
  const { device, facade } = resolveUrl(url);
  const defaults = calibration ? {} : { inputs: 1024, outputs: 2048 };
  return Opu.open(device, { ...defaults, ...facade, ...options, calibration } as OpuOptions);
}
