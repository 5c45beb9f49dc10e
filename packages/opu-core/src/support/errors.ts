/**
 * Typed errors. Every error says which field or state is at fault and how to fix it, so that a caller can
 * branch on the class and a human can act on the message.
 */

export interface OpuErrorDetails {
  /** The argument, setting or URL parameter at fault, e.g. `settings.exposureUs` or `e[3][17]`. */
  field?: string;
  /** What to do about it, in one sentence. */
  fix?: string;
  cause?: unknown;
}

export class OpuError extends Error {
  readonly field: string | undefined;
  readonly fix: string | undefined;

  constructor(message: string, details: OpuErrorDetails = {}) {
    const parts = [details.field ? `${details.field}: ${message}` : message];
    if (details.fix) parts.push(`Fix: ${details.fix}`);
    super(parts.join('. '), details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.field = details.field;
    this.fix = details.fix;
  }
}

/** A URL, backend name or option that does not select a usable backend. */
export class ConfigurationError extends OpuError {}

/** An error raised by or about a device. */
export class DeviceError extends OpuError {}

/** The device is in the wrong state for the call (not open, closed, busy). */
export class DeviceStateError extends DeviceError {}

/** An argument or setting is malformed or out of range. Nothing was changed. */
export class ArgumentError extends DeviceError {}

/** The device cannot do what was asked (a bit depth, a mode, a size beyond its limits). */
export class UnsupportedError extends DeviceError {}

/** The device did not answer in time. */
export class TimeoutError extends DeviceError {}

/** A measurement cannot be trusted (saturation that could not be avoided, a failed self-test). */
export class MeasurementError extends DeviceError {}

/**
 * The medium has drifted since the reference fields were measured, past what the error budget allows, and the
 * facade was told (`onDrift: 'error'`) to stop rather than re-measure. Nothing was measured by the failing call.
 */
export class DriftError extends MeasurementError {
  /** Noise-corrected intensity correlation of the references' speckle with the calibrated one, at the last check. */
  readonly correlation: number;
  /** The correlation the error budget requires. */
  readonly threshold: number;

  constructor(correlation: number, threshold: number, details: OpuErrorDetails = {}) {
    super(
      `the references' speckle correlates ${correlation.toFixed(4)} with the calibrated one (or will by the next check), below ${threshold.toFixed(4)}`,
      details,
    );
    this.correlation = correlation;
    this.threshold = threshold;
  }
}

/**
 * Why a calibration cannot be used: the bytes are damaged (`corrupt`), written by a newer SDK (`unsupported`), taken
 * on another device or layout (`mismatch`), too old (`stale`), lacking a step the caller needs (`incomplete`), or
 * absent (`missing`).
 */
export type CalibrationFileErrorKind = 'corrupt' | 'unsupported' | 'mismatch' | 'stale' | 'incomplete' | 'missing';

/** A calibration file cannot be read, or its calibration cannot be used for this device now. */
export class CalibrationFileError extends OpuError {
  readonly kind: CalibrationFileErrorKind;

  constructor(kind: CalibrationFileErrorKind, message: string, details: OpuErrorDetails = {}) {
    super(message, details);
    this.kind = kind;
  }
}

export interface StorageErrorDetails extends OpuErrorDetails {
  /** The system's error code, e.g. `ENOSPC`, `EACCES`, `EROFS`. */
  code?: string;
  /** Bytes free to this user on the file system of the file, when they could be measured. */
  freeBytes?: number;
}

/**
 * A file could not be written (disk full, no permission, a read-only or failing disk). `field` is the file's path.
 * The file as it was before the write is unchanged unless the message says otherwise.
 */
export class StorageError extends OpuError {
  readonly code: string | undefined;
  readonly freeBytes: number | undefined;

  constructor(message: string, details: StorageErrorDetails = {}) {
    super(message, details);
    this.code = details.code;
    this.freeBytes = details.freeBytes;
  }
}
