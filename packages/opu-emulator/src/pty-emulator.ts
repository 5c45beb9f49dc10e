import { closeSync } from 'node:fs';
import { type OpuDevice, UnsupportedError } from 'opu-core';
import { NativeUnavailableError, openPseudoTerminal, type PseudoTerminal } from 'opu-native';
import { ttyTransport } from 'opu-protocol';
import { type EmulatorOptions, OpuEmulator } from './emulator.js';

export interface EmulatorOnPty {
  emulator: OpuEmulator;
  /** The serial port a host opens, e.g. /dev/pts/3. */
  path: string;
  /** Stops the emulator and closes the pseudo-terminal: the host sees the device unplugged. */
  close(): Promise<void>;
}

/** Plays `device` as an OPU on a fresh pseudo-terminal (from the native addon: no socat needed). */
export async function emulateOnPseudoTerminal(
  device: OpuDevice,
  options: EmulatorOptions = {},
): Promise<EmulatorOnPty> {
  const pty = pseudoTerminal();
  const emulator = new OpuEmulator(device, ttyTransport(pty.masterFd), options);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await emulator.close();
    closeSync(pty.slaveFd);
  };
  try {
    await emulator.start();
  } catch (error) {
    await close();
    throw error;
  }
  return { emulator, path: pty.path, close };
}

/** The addon's pseudo-terminal, its absence reported as opu-core's UnsupportedError like every other device limit. */
function pseudoTerminal(): PseudoTerminal {
  try {
    return openPseudoTerminal();
  } catch (error) {
    if (!(error instanceof NativeUnavailableError)) throw error;
    throw new UnsupportedError(error.reason, { field: error.field, fix: error.fix, cause: error });
  }
}
