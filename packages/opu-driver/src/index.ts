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
export { SettingsMismatchError } from './incoming-acquisition.js';
export { type SerialDeviceOptions, type SerialDeviceOptionsInput, serialDeviceOptionsSchema } from './options.js';
export { type SerialDeviceStats, SerialOpuDevice, type SerialOpuDeviceInit } from './serial-device.js';
export { openSerialTransport, type SerialOptions } from './serial-transport.js';
export { serialTriggerLagTest } from './trigger-lag.js';

registerBackend(serialBackend);
