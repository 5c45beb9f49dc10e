export { ProtocolLink } from './link.js';
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
export {
  type CameraChunk,
  decodeCameraChunk,
  decodeCredit,
  decodeError,
  decodeHeartbeat,
  decodeHello,
  decodeHelloReply,
  ErrorCode,
  type ErrorReply,
  encodeCameraChunk,
  encodeCredit,
  encodeError,
  encodeHeartbeat,
  encodeHello,
  encodeHelloReply,
  type Hello,
  type HelloReply,
  MessageType,
  type MessageTypeName,
  messageTypeName,
  ProtocolError,
} from './protocol/messages.js';
export { openSerialTransport, type SerialOptions } from './serial-transport.js';
export { memoryTransportPair, type Transport } from './transport.js';
export { ttyTransport } from './tty-transport.js';
