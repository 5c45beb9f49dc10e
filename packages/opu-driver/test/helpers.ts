import { type DmdFrames, packDmdFrames, seededUniform } from 'opu-core';
import { type SimOptions, SimulatedOpuDevice } from 'opu-sim';
import { afterAll } from 'vitest';
import {
  type EmulatorOnPty,
  type EmulatorOptions,
  emulateOnPseudoTerminal,
  measureTriggerLag,
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

export function randomFrames(count: number, mirrors: number, seed: number): DmdFrames {
  const random = seededUniform(seed);
  const bits = Array.from({ length: count * mirrors }, () => (random() < 0.5 ? 1 : 0));
  return packDmdFrames(bits, count, mirrors);
}

/** The simulator opened directly, brought to the state the driver leaves it in after its trigger-lag self-test. */
export async function simulatorAfterSelfTest(options: SimOptions): Promise<SimulatedOpuDevice> {
  const sim = new SimulatedOpuDevice({ options });
  await sim.open();
  const { minFramesPerAcquisition: minFrames, maxFramesPerAcquisition: maxFrames } = sim.info.limits;
  await measureTriggerLag((frames) => sim.acquire(frames), sim.inputSize, { minFrames, maxFrames });
  return sim;
}
