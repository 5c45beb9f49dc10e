/**
 * The errors of opu-native. The package imports no other package of this repo, so it has its own types; packages
 * above it map them to theirs where they need to (opu-core's ArgumentError has the same `field` and `fix`).
 */

export interface NativeErrorDetails {
  /** The argument or facility the error is about, e.g. `A`, `options.lda`, `model.seed`, `pseudoTerminal`. */
  field?: string;
  /** What to do about it, one sentence. */
  fix?: string;
  cause?: unknown;
}

/** The base of opu-native's errors: the message reads `<field>: <what>. Fix: <fix>`. */
export class NativeError extends Error {
  readonly field: string | undefined;
  readonly fix: string | undefined;
  /** What went wrong, without the field and the fix: for callers that re-raise it as an error of their own. */
  readonly reason: string;

  constructor(message: string, details: NativeErrorDetails = {}) {
    const parts = [details.field ? `${details.field}: ${message}` : message];
    if (details.fix) parts.push(`Fix: ${details.fix}`);
    super(parts.join('. '), details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.field = details.field;
    this.fix = details.fix;
    this.reason = message;
  }
}

/**
 * A kernel's argument is malformed: wrong type, not a whole number, out of range, an array too short for the shape,
 * an output sharing memory with another argument. Thrown before any kernel code runs, so nothing was written.
 */
export class KernelArgumentError extends NativeError {}

/**
 * What the C++ addon alone provides (the pseudo-terminal) is not available: the addon is not built, is too old, or
 * the system cannot provide it.
 */
export class NativeUnavailableError extends NativeError {}
