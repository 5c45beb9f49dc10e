export { cobsDecode, cobsEncode, cobsEncodedLength, cobsEncodeInto } from './cobs.js';
export { type FdWriter, fdWriter } from './fd-writer.js';
export {
  DEFAULT_MAX_PAYLOAD_BYTES,
  decodeFrame,
  encodeFrame,
  type Frame,
  FrameDecoder,
  type FrameFault,
  HEADER_BYTES,
  PROTOCOL_VERSION,
} from './frame.js';
export { deviceRefusal, type LinkOptions, type LinkRole, type LinkStats, ProtocolLink } from './link.js';
export * from './messages.js';
export { Capability, deviceInfoSchema, parseFromDevice, SETTINGS_SCHEMA_HASH } from './schema.js';
export { memoryTransportPair, type Transport } from './transport.js';
export { ttyTransport } from './tty-transport.js';
