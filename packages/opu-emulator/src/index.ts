export { runEmulatorCommand } from './command.js';
export { CHUNK_BYTES, type EmulatorOptions, type EmulatorStats, OpuEmulator } from './emulator.js';
export { type EmulatorFaults, type EmulatorFaultsInput, faultSchema, faultyTransport } from './faults.js';
export { type EmulatorOnPty, emulateOnPseudoTerminal } from './pty-emulator.js';
