import { createRequire } from 'node:module';
import { rebuildCommand } from '../addon-file.js';
import { NativeUnavailableError } from '../errors.js';

/** A pseudo-terminal pair: keep `masterFd`, hand `path` to whoever plays the host (as it would open /dev/ttyACM0). */
export interface PseudoTerminal {
  masterFd: number;
  /**
   * The pair's own handle on the slave side, kept open while the pair lives: without it, reads on the master fail
   * (EIO) whenever no host has the port open, and a stream on the master would end. Close it with the master.
   */
  slaveFd: number;
  /** The slave side, e.g. /dev/pts/3. */
  path: string;
}

/**
 * Opens a pseudo-terminal pair in raw mode (bytes pass unchanged) through the C++ addon, so the device emulator
 * needs no socat. Not a kernel: it has no TypeScript fallback, and OPU_NATIVE=0 (which only chooses the kernels)
 * does not turn it off.
 */
export function openPseudoTerminal(addonPath: string | undefined): PseudoTerminal {
  const notBuilt = (detail: string) =>
    new NativeUnavailableError(`the opu-native addon is not built (${detail})`, {
      field: 'pseudoTerminal',
      fix: rebuildCommand(),
    });
  if (addonPath === undefined) throw notBuilt('no addon file for this platform');
  let addon: { openPty?: () => { fd: number; slaveFd: number; path: string } };
  try {
    addon = createRequire(import.meta.url)(addonPath);
  } catch (error) {
    throw notBuilt((error as Error).message.split('\n')[0]);
  }
  if (!addon.openPty) {
    throw new NativeUnavailableError('this build of the opu-native addon cannot open pseudo-terminals', {
      field: 'pseudoTerminal',
      fix: rebuildCommand(),
    });
  }
  try {
    const { fd, slaveFd, path } = addon.openPty();
    return { masterFd: fd, slaveFd, path };
  } catch (error) {
    throw new NativeUnavailableError(`no pseudo-terminal: ${(error as Error).message}`, {
      field: 'pseudoTerminal',
      fix: 'pseudo-terminals need Linux or macOS with /dev/ptmx',
    });
  }
}

/** Writes `bytes` to a non-blocking descriptor, waiting up to `waitMs` at a time for room; resolves with the count. */
export type FdWrite = (fd: number, bytes: Uint8Array, waitMs: number) => Promise<number>;

/**
 * The addon's waiting write (a worker thread sleeps in poll() while the buffer is full, instead of the event loop
 * spinning on EAGAIN), or undefined when the addon is not built: callers then fall back to fs.writev.
 */
export function loadFdWrite(addonPath: string | undefined): FdWrite | undefined {
  if (addonPath === undefined) return undefined;
  try {
    const addon = createRequire(import.meta.url)(addonPath) as { writeWaiting?: FdWrite };
    return addon.writeWaiting;
  } catch {
    return undefined;
  }
}
