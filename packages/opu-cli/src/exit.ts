import { CalibrationFileError, ConfigurationError, OpuError, StorageError } from 'opu-core';

/**
 * Exit codes: 0 done, 1 the device or the link failed, 2 the command line or a URL is wrong, 3 a calibration file
 * cannot be used (corrupt, from another device, stale, incomplete), 4 a file could not be written (a full disk, no
 * permission, a missing directory; the file there before is unchanged). A missing or read-only directory named on
 * the command line is 4 too, not 2: the same failure as when the write itself fails, only found before any work.
 */
export const EXIT = { ok: 0, device: 1, usage: 2, calibration: 3, storage: 4 } as const;

/** A command-line mistake: exits with 2 and the usage of the command. */
export class UsageError extends Error {}

/** The one device URL a command takes as its positional argument. */
export function deviceUrl(positionals: string[]): string {
  const url = positionals[0];
  if (!url || positionals.length > 1) throw new UsageError('give exactly one device URL');
  return url;
}

/** `openOpu` options for `--calibration FILE [--force]`: the saved calibration, or none (calibrate while opening). */
export function calibrationOption(values: { calibration?: string; force?: boolean }) {
  return values.calibration ? { calibration: values.calibration, force: values.force ?? false } : {};
}

/** An error about a URL query value (`url`, `url.inputs`): the URL is wrong, whichever class the check raised. */
const namesUrl = (error: unknown) => error instanceof OpuError && /^url(\.|$)/.test(error.field ?? '');

/** Prints the error for people (or as JSON) and returns the exit code that says what kind it was. */
export function report(error: unknown, program: string, json: boolean): number {
  const parseArgs = (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ?? false;
  const usage = error instanceof UsageError || error instanceof ConfigurationError || parseArgs || namesUrl(error);
  const message = error instanceof Error ? error.message : String(error);
  if (json) {
    const field = error instanceof OpuError ? error.field : undefined;
    const details =
      error instanceof CalibrationFileError
        ? { problem: error.kind }
        : error instanceof StorageError
          ? { code: error.code, freeBytes: error.freeBytes }
          : {};
    process.stdout.write(`${JSON.stringify({ error: message, kind: (error as Error).name, field, ...details })}\n`);
  } else process.stderr.write(`${program}: ${message}\n`);
  if (usage) return EXIT.usage;
  if (error instanceof StorageError) return EXIT.storage;
  return error instanceof CalibrationFileError ? EXIT.calibration : EXIT.device;
}
