import { type SimOptions, SimulatedOpuDevice } from 'opu-sim';
import { afterAll } from 'vitest';
import {
  type EmulatorOnPty,
  type EmulatorOptions,
  emulateOnPseudoTerminal,
  openSerialTransport,
  type SerialDeviceOptionsInput,
  SerialOpuDevice,
} from '../src/index.js';

/** Emulators started by a test file, closed after it. */
const running: EmulatorOnPty[] = [];
afterAll(async () => {
  await Promise.all(running.map((e) => e.close()));
});

/** The simulator played by the emulator on a fresh pseudo-terminal. */
export async function emulator(sim: SimOptions = {}, options: EmulatorOptions = {}): Promise<EmulatorOnPty> {
  const pty = await emulateOnPseudoTerminal(new SimulatedOpuDevice({ options: sim }), options);
  running.push(pty);
  return pty;
}

/** The driver on serialport, opening `path` (at each reconnect too). */
export function serialDevice(path: string, options: SerialDeviceOptionsInput = {}): SerialOpuDevice {
  return new SerialOpuDevice({ connect: () => openSerialTransport(path), options });
}
