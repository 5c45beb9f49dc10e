import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type DmdFrames, measureTriggerLag, packDmdFrames, seededUniform } from 'opu-core';
import { type EmulatorOnPty, type EmulatorOptions, emulateOnPseudoTerminal } from 'opu-emulator';
import { type SimOptions, SimulatedOpuDevice } from 'opu-sim';
import { afterAll } from 'vitest';
import {
  openSerialTransport,
  type SerialDeviceOptionsInput,
  SerialOpuDevice,
  serialTriggerLagTest,
} from '../src/index.js';

/** Emulators started by a test file, in this process or as processes, closed after it. */
const running: EmulatorOnPty[] = [];
const processes: ChildProcess[] = [];
afterAll(async () => {
  await Promise.all(running.map((e) => e.close()));
  for (const child of processes) child.kill('SIGKILL');
});

const root = fileURLToPath(new URL('../../..', import.meta.url));

export interface EmulatorProcess {
  process: ChildProcess;
  /** The pty it prints on its first line. */
  path: string;
  /** What it wrote to stderr so far (one line per message it could not handle). */
  stderr: string[];
  /** Kills it with SIGKILL and waits for it to exit. */
  kill(): Promise<void>;
}

/**
 * The emulator command as a process of its own, playing `url` (a `sim://` URL) with `args`: what the host does to
 * it and what a third party injects reach it only through its pseudo-terminal, as with a real device.
 */
export async function spawnEmulator(url: string, args: string[] = []): Promise<EmulatorProcess> {
  // One process (not the tsx launcher, which would leave its child running when killed).
  const child = spawn(process.execPath, ['--import', 'tsx', 'packages/opu-emulator/src/main.ts', url, ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  processes.push(child);
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const path = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}: ${stderr.join('\n')}`)));
  });
  const kill = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  return { process: child, path, stderr, kill };
}

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
  await measureTriggerLag(
    (frames) => sim.acquire(frames),
    sim.inputSize,
    serialTriggerLagTest({ minFrames, maxFrames }),
  );
  return sim;
}
