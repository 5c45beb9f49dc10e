import { registerBackend } from 'opu-core';
import { serialBackend } from './backend.js';

export { createSerialBackend, serialBackend } from './backend.js';
export {
  DEFAULT_USB_IDS,
  type DiscoveryOptions,
  discoverOpuPort,
  findOpuPorts,
  listPortsFromSysfs,
  listSerialPorts,
  type SerialPortInfo,
} from './discovery.js';
export { runEmulatorCommand } from './emulator/command.js';
export { CHUNK_BYTES, type EmulatorOptions, type EmulatorStats, OpuEmulator } from './emulator/emulator.js';
export { type EmulatorFaults, type EmulatorFaultsInput, faultSchema, faultyTransport } from './emulator/faults.js';
export { type EmulatorOnPty, emulateOnPseudoTerminal } from './emulator/pty-emulator.js';
export { SettingsMismatchError } from './incoming-acquisition.js';
export { deviceRefusal, type LinkOptions, type LinkRole, type LinkStats, ProtocolLink } from './link.js';
export { type SerialDeviceOptions, type SerialDeviceOptionsInput, serialDeviceOptionsSchema } from './options.js';
export { cobsDecode, cobsEncode, cobsEncodedLength } from './protocol/cobs.js';
export {
  DEFAULT_MAX_PAYLOAD_BYTES,
  decodeFrame,
  encodeFrame,
  type Frame,
  FrameDecoder,
  type FrameFault,
  HEADER_BYTES,
  PROTOCOL_VERSION,
} from './protocol/frame.js';
export * from './protocol/messages.js';
export { Capability, deviceInfoSchema, parseFromDevice, SETTINGS_SCHEMA_HASH } from './protocol/schema.js';
export { type SerialDeviceStats, SerialOpuDevice, type SerialOpuDeviceInit } from './serial-device.js';
export { openSerialTransport, type SerialOptions } from './serial-transport.js';
export { memoryTransportPair, type Transport } from './transport.js';
export { MAX_TRIGGER_LAG_FRAMES, measureTriggerLag } from './trigger-lag.js';
export { ttyTransport } from './tty-transport.js';

registerBackend(serialBackend);
