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
