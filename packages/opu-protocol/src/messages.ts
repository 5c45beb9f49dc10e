import { DeviceError, type OpuSettings, type Rectangle } from 'opu-core';

/** Message types (docs/protocol.md §2): requests have the high bit clear, the device's replies have it set. */
export const MessageType = {
  hello: 0x01,
  helloReply: 0x81,
  getSettings: 0x02,
  setSettings: 0x03,
  settings: 0x82,
  uploadFrames: 0x04,
  uploadDone: 0x84,
  acquire: 0x05,
  cameraChunk: 0x85,
  acquireDone: 0x86,
  acquireStarted: 0x87,
  cameraFrames: 0x8a,
  resendChunk: 0x06,
  credit: 0x07,
  heartbeat: 0x08,
  heartbeatReply: 0x88,
  reset: 0x09,
  resetDone: 0x89,
  getReport: 0x0a,
  error: 0xff,
} as const;
export type MessageTypeName = keyof typeof MessageType;

/** Error codes carried by ERROR messages (docs/protocol.md §2). */
export const ErrorCode = {
  unknownType: 1,
  badPayload: 2,
  settingRejected: 3,
  framesNotUploaded: 4,
  acquisitionFailed: 5,
  busy: 6,
  versionNotSupported: 7,
  payloadTooLarge: 8,
} as const;

/** A peer broke the protocol: a payload that does not parse, an unknown type, a version we do not speak. */
export class ProtocolError extends DeviceError {}

/** Appends little-endian fields to a growing payload. */
class Writer {
  #bytes: Uint8Array;
  #view: DataView;
  #length = 0;

  /** `capacity`: the expected size, so that bulk messages are written without growing. */
  constructor(capacity = 64) {
    this.#bytes = new Uint8Array(capacity);
    this.#view = new DataView(this.#bytes.buffer);
  }

  #reserve(n: number): number {
    if (this.#length + n > this.#bytes.length) {
      const grown = new Uint8Array(Math.max(2 * this.#bytes.length, this.#length + n));
      grown.set(this.#bytes.subarray(0, this.#length));
      this.#bytes = grown;
      this.#view = new DataView(grown.buffer);
    }
    const at = this.#length;
    this.#length += n;
    return at;
  }

  u8(v: number): this {
    const at = this.#reserve(1);
    this.#view.setUint8(at, v);
    return this;
  }
  u16(v: number): this {
    const at = this.#reserve(2);
    this.#view.setUint16(at, v, true);
    return this;
  }
  u32(v: number): this {
    const at = this.#reserve(4);
    this.#view.setUint32(at, v >>> 0, true);
    return this;
  }
  u64(v: bigint): this {
    const at = this.#reserve(8);
    this.#view.setBigUint64(at, v, true);
    return this;
  }
  f64(v: number): this {
    const at = this.#reserve(8);
    this.#view.setFloat64(at, v, true);
    return this;
  }
  bytes(v: Uint8Array): this {
    // Reserve first: it may replace the buffer.
    const at = this.#reserve(v.length);
    this.#bytes.set(v, at);
    return this;
  }
  text(v: string): this {
    return this.bytes(new TextEncoder().encode(v));
  }
  done(): Uint8Array {
    return this.#length === this.#bytes.length ? this.#bytes : this.#bytes.slice(0, this.#length);
  }
}

/** Reads little-endian fields; running past the end is a ProtocolError naming the message and the field. */
class Reader {
  readonly #view: DataView;
  readonly #bytes: Uint8Array;
  readonly #message: string;
  #at = 0;

  constructor(payload: Uint8Array, message: string) {
    this.#bytes = payload;
    this.#view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    this.#message = message;
  }

  #take(n: number, field: string): number {
    if (this.#at + n > this.#bytes.length) {
      throw new ProtocolError(`${this.#message} payload ends before its field '${field}'`, {
        field: `${this.#message}.${field}`,
        fix: 'check that both sides speak the same protocol version',
      });
    }
    const at = this.#at;
    this.#at += n;
    return at;
  }

  u8(field: string): number {
    return this.#view.getUint8(this.#take(1, field));
  }
  u16(field: string): number {
    return this.#view.getUint16(this.#take(2, field), true);
  }
  u32(field: string): number {
    return this.#view.getUint32(this.#take(4, field), true);
  }
  u64(field: string): bigint {
    return this.#view.getBigUint64(this.#take(8, field), true);
  }
  f64(field: string): number {
    return this.#view.getFloat64(this.#take(8, field), true);
  }
  bytes(n: number, field: string): Uint8Array {
    const at = this.#take(n, field);
    return this.#bytes.slice(at, at + n);
  }
  /** The bytes left, shared with the payload (a frame's payload is its own array). */
  rest(): Uint8Array {
    return this.#bytes.subarray(this.#at);
  }
  text(): string {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(this.rest());
    } catch {
      throw new ProtocolError(`${this.#message} text is not UTF-8`, { field: this.#message });
    }
  }
  end(): void {
    if (this.#at !== this.#bytes.length) {
      throw new ProtocolError(`${this.#message} payload has ${this.#bytes.length - this.#at} bytes too many`, {
        field: this.#message,
        fix: 'check that both sides speak the same protocol version',
      });
    }
  }
}

export interface Hello {
  major: number;
  minor: number;
  /** Largest payload this side accepts. */
  maxPayloadBytes: number;
  /** Frames the peer may send before waiting for a CREDIT. */
  credits: number;
  /** Largest bulk piece (camera chunk, upload) this side wants: small pieces survive a noisy line. */
  chunkBytes: number;
}

export interface HelloReply extends Hello {
  capabilities: number;
  /** SHA-256 of the device's settings schema: the host refuses a device whose settings it does not know. */
  schemaHash: Uint8Array;
  /** The device's info record, JSON. */
  info: string;
}

export interface CameraChunk {
  frame: number;
  chunk: number;
  chunks: number;
  /** Byte offset of these pixels in the camera frame. */
  offset: number;
  /** The frame's report, repeated in each of its chunks so that no separate message can be lost. */
  report: FrameReport;
  pixels: Uint8Array;
}

export interface UploadFrames {
  /** Byte offset of these bytes in the device's frame buffer (frame f starts at f × bytesPerFrame). */
  offset: number;
  /** Bit-packed DMD frames, least significant bit first, each frame starting on a byte boundary. */
  bytes: Uint8Array;
}

export interface Acquire {
  /** Frames to show, from the start of the frame buffer. */
  count: number;
  bytesPerFrame: number;
  /** 0 internal, 1 software. */
  trigger: number;
  /** CRC-32 of the count × bytesPerFrame frame bytes: the device refuses to show frames it did not get whole. */
  framesCrc: number;
}

export interface FrameReport {
  saturatedPixels: number;
  exposureUs: number;
  timeUs: number;
}

export interface ResendChunk {
  frame: number;
  chunk: number;
}

export interface ErrorReply {
  code: number;
  message: string;
}

export const encodeHello = (m: Hello) =>
  new Writer().u8(m.major).u8(m.minor).u32(m.maxPayloadBytes).u16(m.credits).u32(m.chunkBytes).done();

function readHello(r: Reader): Hello {
  return {
    major: r.u8('major'),
    minor: r.u8('minor'),
    maxPayloadBytes: r.u32('maxPayload'),
    credits: r.u16('credits'),
    chunkBytes: r.u32('chunkBytes'),
  };
}

export function decodeHello(payload: Uint8Array): Hello {
  const r = new Reader(payload, 'HELLO');
  const hello = readHello(r);
  r.end();
  return hello;
}

export function encodeHelloReply(m: HelloReply): Uint8Array {
  if (m.schemaHash.length !== 32) {
    throw new ProtocolError(`schema hash has ${m.schemaHash.length} bytes, not 32`, { field: 'schemaHash' });
  }
  return new Writer().bytes(encodeHello(m)).u32(m.capabilities).bytes(m.schemaHash).text(m.info).done();
}

export function decodeHelloReply(payload: Uint8Array): HelloReply {
  const r = new Reader(payload, 'HELLO_REPLY');
  return {
    ...readHello(r),
    capabilities: r.u32('capabilities'),
    schemaHash: r.bytes(32, 'schemaHash'),
    info: r.text(),
  };
}

export const encodeCameraChunk = (m: CameraChunk) =>
  new Writer(CAMERA_CHUNK_HEADER_BYTES + m.pixels.length)
    .u32(m.frame)
    .u16(m.chunk)
    .u16(m.chunks)
    .u32(m.offset)
    .u32(m.report.saturatedPixels)
    .f64(m.report.exposureUs)
    .f64(m.report.timeUs)
    .bytes(m.pixels)
    .done();

/** CAMERA_CHUNK fields before the pixels. */
export const CAMERA_CHUNK_HEADER_BYTES = 32;

export function decodeCameraChunk(payload: Uint8Array): CameraChunk {
  const r = new Reader(payload, 'CAMERA_CHUNK');
  const chunk = {
    frame: r.u32('frame'),
    chunk: r.u16('chunk'),
    chunks: r.u16('chunks'),
    offset: r.u32('offset'),
    report: { saturatedPixels: r.u32('saturatedPixels'), exposureUs: r.f64('exposureUs'), timeUs: r.f64('timeUs') },
    pixels: r.rest(),
  };
  if (chunk.chunk >= chunk.chunks) {
    throw new ProtocolError(`chunk ${chunk.chunk} of ${chunk.chunks}`, { field: 'CAMERA_CHUNK.chunk' });
  }
  return chunk;
}

export const encodeUploadFrames = (m: UploadFrames) =>
  new Writer(4 + m.bytes.length).u32(m.offset).bytes(m.bytes).done();

export function decodeUploadFrames(payload: Uint8Array): UploadFrames {
  const r = new Reader(payload, 'UPLOAD_FRAMES');
  return { offset: r.u32('offset'), bytes: r.rest() };
}

export const encodeAcquire = (m: Acquire) =>
  new Writer().u32(m.count).u32(m.bytesPerFrame).u8(m.trigger).u32(m.framesCrc).done();

export function decodeAcquire(payload: Uint8Array): Acquire {
  const r = new Reader(payload, 'ACQUIRE');
  const acquire = {
    count: r.u32('count'),
    bytesPerFrame: r.u32('bytesPerFrame'),
    trigger: r.u8('trigger'),
    framesCrc: r.u32('framesCrc'),
  };
  r.end();
  if (acquire.trigger > 1) {
    throw new ProtocolError(`trigger mode ${acquire.trigger} is not 0 (internal) or 1 (software)`, {
      field: 'ACQUIRE.trigger',
    });
  }
  return acquire;
}

/** What the device acquires with, echoed in ACQUIRE_STARTED: the host never normalizes by a value it assumed. */
export interface AcquisitionSettings {
  exposureUs: number;
  frameTimeUs: number;
  gainDb: number;
  inputRegion: Rectangle;
  outputRoi: Rectangle;
  bitDepth: number;
}

/** What the device acquires with: its settings and its camera's bit depth. */
export function acquisitionSettings(settings: OpuSettings, bitDepth: number): AcquisitionSettings {
  const { exposureUs, frameTimeUs, gainDb, inputRegion, outputRoi } = settings;
  return { exposureUs, frameTimeUs, gainDb, inputRegion, outputRoi, bitDepth };
}

export interface AcquireStarted {
  count: number;
  /** Camera bytes per CAMERA_CHUNK (the last chunk of a frame may be shorter). */
  chunkBytes: number;
  /** The settings in force for the whole acquisition: a device applies new ones only between acquisitions. */
  settings: AcquisitionSettings;
}

const writeRectangle = (w: Writer, r: Rectangle) => w.u32(r.left).u32(r.top).u32(r.width).u32(r.height);
const readRectangle = (r: Reader, field: string): Rectangle => ({
  left: r.u32(`${field}.left`),
  top: r.u32(`${field}.top`),
  width: r.u32(`${field}.width`),
  height: r.u32(`${field}.height`),
});

export function encodeAcquireStarted(m: AcquireStarted): Uint8Array {
  const w = new Writer().u32(m.count).u32(m.chunkBytes);
  w.f64(m.settings.exposureUs).f64(m.settings.frameTimeUs).f64(m.settings.gainDb);
  writeRectangle(w, m.settings.inputRegion);
  writeRectangle(w, m.settings.outputRoi);
  return w.u8(m.settings.bitDepth).done();
}

export function decodeAcquireStarted(payload: Uint8Array): AcquireStarted {
  const r = new Reader(payload, 'ACQUIRE_STARTED');
  const started = {
    count: r.u32('count'),
    chunkBytes: r.u32('chunkBytes'),
    settings: {
      exposureUs: r.f64('exposureUs'),
      frameTimeUs: r.f64('frameTimeUs'),
      gainDb: r.f64('gainDb'),
      inputRegion: readRectangle(r, 'inputRegion'),
      outputRoi: readRectangle(r, 'outputRoi'),
      bitDepth: r.u8('bitDepth'),
    },
  };
  r.end();
  return started;
}

/** Several whole camera frames in one message: small ROIs would otherwise cost a message per frame. */
export interface PackedFrames {
  firstFrame: number;
  /** One report per frame, in order. */
  reports: FrameReport[];
  /** The frames' pixels back to back, `reports.length` frames of equal size. */
  pixels: Uint8Array;
}

/** CAMERA_FRAMES bytes per frame report. */
const REPORT_BYTES = 20;

export function encodeCameraFrames(m: PackedFrames): Uint8Array {
  const w = new Writer(6 + REPORT_BYTES * m.reports.length + m.pixels.length).u32(m.firstFrame).u16(m.reports.length);
  for (const r of m.reports) w.u32(r.saturatedPixels).f64(r.exposureUs).f64(r.timeUs);
  return w.bytes(m.pixels).done();
}

export function decodeCameraFrames(payload: Uint8Array): PackedFrames {
  const r = new Reader(payload, 'CAMERA_FRAMES');
  const firstFrame = r.u32('firstFrame');
  const count = r.u16('frames');
  if (count === 0) throw new ProtocolError('CAMERA_FRAMES with no frame', { field: 'CAMERA_FRAMES.frames' });
  const reports: FrameReport[] = [];
  for (let i = 0; i < count; i++) {
    reports.push({
      saturatedPixels: r.u32('saturatedPixels'),
      exposureUs: r.f64('exposureUs'),
      timeUs: r.f64('timeUs'),
    });
  }
  const pixels = r.rest();
  if (pixels.length % count !== 0) {
    throw new ProtocolError(`${pixels.length} pixel bytes do not split into ${count} frames`, {
      field: 'CAMERA_FRAMES.pixels',
    });
  }
  return { firstFrame, reports, pixels };
}

/** ACQUIRE_DONE: the device has sent every chunk of the batch once (the reports travel in the chunks). */
export const encodeAcquireDone = (frames: number) => new Writer().u32(frames).done();

export function decodeAcquireDone(payload: Uint8Array): number {
  const r = new Reader(payload, 'ACQUIRE_DONE');
  const frames = r.u32('frames');
  r.end();
  return frames;
}

export const encodeResendChunk = (m: ResendChunk) => new Writer().u32(m.frame).u16(m.chunk).done();

export function decodeResendChunk(payload: Uint8Array): ResendChunk {
  const r = new Reader(payload, 'RESEND_CHUNK');
  const resend = { frame: r.u32('frame'), chunk: r.u16('chunk') };
  r.end();
  return resend;
}

/** CREDIT carries a cumulative limit, so a lost CREDIT is made good by the next one. */
export const encodeCredit = (upTo: number) => new Writer().u32(upTo).done();

export function decodeCredit(payload: Uint8Array): number {
  const r = new Reader(payload, 'CREDIT');
  const credits = r.u32('upTo');
  r.end();
  return credits;
}

export const encodeHeartbeat = (timeUs: bigint) => new Writer().u64(timeUs).done();

export function decodeHeartbeat(payload: Uint8Array): bigint {
  const r = new Reader(payload, 'HEARTBEAT');
  const time = r.u64('timeUs');
  r.end();
  return time;
}

export const encodeError = (m: ErrorReply) => new Writer().u16(m.code).text(m.message).done();

export function decodeError(payload: Uint8Array): ErrorReply {
  const r = new Reader(payload, 'ERROR');
  return { code: r.u16('code'), message: r.text() };
}

/** Settings and device info travel as UTF-8 JSON; the receiver validates them with its schema. */
export const encodeJson = (value: unknown) => new Writer().text(JSON.stringify(value)).done();

export function decodeJson(payload: Uint8Array, message: string): unknown {
  const text = new Reader(payload, message).text();
  try {
    return JSON.parse(text);
  } catch {
    throw new ProtocolError(`${message} payload is not JSON`, {
      field: message,
      fix: 'check that both sides speak the same protocol version',
    });
  }
}

/** The name of a message type, or a ProtocolError for a type this version does not define. */
export function messageTypeName(type: number): MessageTypeName {
  const entry = Object.entries(MessageType).find(([, value]) => value === type);
  if (!entry) {
    throw new ProtocolError(`unknown message type 0x${type.toString(16).padStart(2, '0')}`, {
      field: 'type',
      fix: 'update the SDK or the device firmware so that both speak the same protocol version',
    });
  }
  return entry[0] as MessageTypeName;
}
