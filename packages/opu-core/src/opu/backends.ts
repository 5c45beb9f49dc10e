import { loadCalibration } from '../calibration/calibration-file.js';
import type { DeviceCalibration } from '../calibration/device-calibration.js';
import type { OpuDevice } from '../device/opu-device.js';
import { ArgumentError, ConfigurationError, type OpuError, UnsupportedError } from '../support/errors.js';
import { Opu, type OpuOptions } from './opu.js';

/**
 * A backend turns a URL into a device: `sim://?seed=7`, later `serial:///dev/ttyACM0`. Backends register
 * themselves (importing 'opu-sim' registers `sim`); opu-core never imports one.
 */
export interface OpuBackend {
  scheme: string;
  description: string;
  /**
   * Whether the URL names a place between `scheme://` and the query: a host or a path, as `serial:///dev/ttyACM0`
   * does. Without it the URL is `scheme://?key=value…` only, and a host or path is rejected rather than ignored.
   */
  takesAddress?: boolean;
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

/** Query keys that configure the facade's drift tracking, each with its parser (the options validate the range). */
const DRIFT_KEYS = {
  driftCheckIntervalS: (raw: string) => Number(raw),
  driftErrorBudget: (raw: string) => Number(raw),
  onDrift: (raw: string) => raw as OpuOptions['onDrift'],
} as const;

/** `scheme://`, the one form every backend's URL has; `sim:/seed=7` would otherwise parse with a path. */
const URL_FORM = /^([a-z][a-z0-9+.-]*):\/\//i;

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
  if (!URL_FORM.test(url)) {
    throw new ConfigurationError(`'${url}' is not of the form ${scheme}://…`, {
      field: 'url',
      fix: `write ${suggestedUrl(url, scheme)}`,
    });
  }
  const backend = backends.get(scheme);
  if (!backend) {
    const known = [...backends.keys()].map((s) => `${s}://`).join(', ') || 'none';
    throw new ConfigurationError(`no backend for scheme '${scheme}://' (registered: ${known})`, {
      field: 'url',
      fix: "import the backend package first, e.g. import 'opu-sim'",
    });
  }
  const address = `${parsed.host}${parsed.pathname.replace(/^\/$/, '')}`;
  if (!backend.takesAddress && address !== '') {
    throw new ConfigurationError(`'${url}' names '${address}', but ${scheme}:// takes only query keys`, {
      field: 'url',
      fix: `write ${scheme}://${parsed.search || '?…'}`,
    });
  }
  const params = new Map<string, string>();
  for (const [key, value] of parsed.searchParams) {
    if (params.has(key)) {
      throw new ConfigurationError(`'${key}' is given twice`, { field: `url.${key}`, fix: `give ${key} once` });
    }
    params.set(key, value);
  }
  const facade: Partial<OpuOptions> = {};
  for (const key of FACADE_KEYS) {
    const raw = params.get(key);
    if (raw === undefined) continue;
    params.delete(key);
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) {
      throw new ConfigurationError(`'${raw}' is not a positive integer`, {
        field: `url.${key}`,
        fix: `e.g. ${key}=1024`,
      });
    }
    facade[key] = value;
  }
  for (const [key, parse] of Object.entries(DRIFT_KEYS) as [keyof typeof DRIFT_KEYS, (raw: string) => never][]) {
    const raw = params.get(key);
    if (raw === undefined) continue;
    params.delete(key);
    facade[key] = parse(raw);
  }
  return { device: createDevice(backend, parsed, params, url), facade };
}

/** The URL meant: `sim://?seed=7` for `sim:/seed=7` or `sim:seed=7`, `serial:///dev/ttyACM0` for `serial:/dev/ttyACM0`. */
function suggestedUrl(url: string, scheme: string): string {
  const rest = url.slice(scheme.length + 1).replace(/^\/+/, '');
  if (rest.includes('=') && !rest.includes('/')) return `${scheme}://?${rest.replace(/^\?/, '')}`;
  return rest ? `${scheme}:///${rest}` : `${scheme}://`;
}

/**
 * The backend's device for the URL. The backend sees nothing but the URL, so a value it rejects is the URL's
 * fault, whatever the backend's own error names (e.g. `options.camera.bitDepth`): a ConfigurationError on `url`.
 */
function createDevice(backend: OpuBackend, parsed: URL, params: Map<string, string>, url: string): OpuDevice {
  try {
    return backend.createDevice(parsed, params);
  } catch (error) {
    if (!(error instanceof ArgumentError || error instanceof UnsupportedError)) throw error;
    throw new ConfigurationError(`'${url}' sets a value the ${backend.scheme}:// backend rejects: ${error.message}`, {
      field: 'url',
      cause: error,
    });
  }
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
  try {
    return await Opu.open(device, { ...defaults, ...facade, ...options, calibration } as OpuOptions);
  } catch (error) {
    throw asUrlError(error, facade, options);
  }
}

/**
 * A facade setting the device cannot take (e.g. `inputs` beyond the DMD) is the URL's fault when the URL set it
 * and no option overrode it: a ConfigurationError on `url.<key>`, so that a caller (the `opu` command's exit code)
 * can tell a bad URL from a failing device.
 */
function asUrlError(error: unknown, facade: Partial<OpuOptions>, options: OpenOpuOptions): unknown {
  if (!(error instanceof ArgumentError || error instanceof UnsupportedError)) return error;
  const key = [...FACADE_KEYS, ...Object.keys(DRIFT_KEYS)].find((k) => k === error.field) as
    | keyof OpuOptions
    | undefined;
  if (!key || facade[key] === undefined || options[key] !== undefined) return error;
  return new ConfigurationError(messageOf(error), { field: `url.${key}`, fix: error.fix, cause: error });
}

/** An OpuError's own message, without the field and fix its constructor added. */
function messageOf(error: OpuError): string {
  const withoutField = error.field ? error.message.slice(error.field.length + 2) : error.message;
  return error.fix ? withoutField.slice(0, -`. Fix: ${error.fix}`.length) : withoutField;
}
