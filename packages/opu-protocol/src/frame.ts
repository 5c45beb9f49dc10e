import { crc32 } from 'node:zlib';
import { cobsDecode, cobsEncodedLength, cobsEncodeInto } from './cobs.js';

/**
 * The wire protocol's version; a peer with another major version is refused at the handshake. Version 2 added the
 * session to every header and widened the sequence, so that no frame of one session can pass for one of another.
 */
export const PROTOCOL_VERSION = 2;

/** Header size in bytes; all fields little-endian. */
export const HEADER_BYTES = 22;
/** Header bytes covered by the CRC before the payload: all but the CRC itself. */
const CHECKED_HEADER_BYTES = 18;

/** Default largest payload: a 1920×1080 16-bit camera frame chunk fits many times over. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1 << 20;

/**
 * One message: the header fields and the payload. On the wire, header ‖ payload is COBS-encoded between two zero
 * bytes. Header: version u8, type u8, session u32, sequence u32, requestId u32, payloadLength u32, crc32 u32
 * (CRC-32 of the first 18 header bytes, then the payload).
 */
export interface Frame {
  version: number;
  type: number;
  /** The session the frame belongs to: the host's random nonce from the HELLO that opened it (0: none yet). */
  session: number;
  /** Per-sender counter within a session, +1 per frame: a frame not newer than the last one heard is a replay. */
  sequence: number;
  /** Ties a reply to its request; 0 for unsolicited messages (heartbeats, stream chunks carry their request's id). */
  requestId: number;
  payload: Uint8Array;
}

/**
 * Why a received frame was dropped (the decoder counts these and never throws on wire data). `overrun`: a run of
 * bytes longer than the largest frame the negotiated maximum payload allows, which line noise cannot produce.
 */
export type FrameFault = 'cobs' | 'short' | 'length' | 'crc' | 'oversized' | 'overrun';

function checksum(header: Uint8Array, payload: Uint8Array): number {
  return crc32(payload, crc32(header.subarray(0, CHECKED_HEADER_BYTES)));
}

/**
 * header ‖ payload, COBS-encoded, between two zero delimiters: the leading one ends whatever garbage the line
 * carried before, so it cannot merge with this frame (the receiver skips empty frames).
 */
export function encodeFrame(frame: Frame): Uint8Array {
  const raw = new Uint8Array(HEADER_BYTES + frame.payload.length);
  const view = new DataView(raw.buffer);
  view.setUint8(0, frame.version);
  view.setUint8(1, frame.type);
  view.setUint32(2, frame.session >>> 0, true);
  view.setUint32(6, frame.sequence >>> 0, true);
  view.setUint32(10, frame.requestId >>> 0, true);
  view.setUint32(14, frame.payload.length, true);
  raw.set(frame.payload, HEADER_BYTES);
  view.setUint32(CHECKED_HEADER_BYTES, checksum(raw, frame.payload), true);
  // Encoded straight into the wire buffer, between its two zero delimiters.
  const wire = new Uint8Array(cobsEncodedLength(raw.length) + 2);
  const end = cobsEncodeInto(raw, wire, 1);
  return wire.subarray(0, end + 1);
}

/** Parses one COBS-encoded frame (delimiter removed); a fault when it is not a whole, intact frame. */
export function decodeFrame(encoded: Uint8Array, maxPayloadBytes: number): Frame | FrameFault {
  const raw = cobsDecode(encoded);
  if (!raw) return 'cobs';
  if (raw.length < HEADER_BYTES) return 'short';
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const length = view.getUint32(14, true);
  if (length > maxPayloadBytes) return 'oversized';
  if (length !== raw.length - HEADER_BYTES) return 'length';
  // The decoded frame is a fresh array: the payload may share it.
  const payload = raw.subarray(HEADER_BYTES);
  if (view.getUint32(CHECKED_HEADER_BYTES, true) !== checksum(raw, payload)) return 'crc';
  return {
    version: view.getUint8(0),
    type: view.getUint8(1),
    session: view.getUint32(2, true),
    sequence: view.getUint32(6, true),
    requestId: view.getUint32(10, true),
    payload,
  };
}

/**
 * Splits a byte stream into frames at zero bytes, whatever the chunking. Garbage and damaged frames are dropped and
 * counted, never thrown; a run of bytes longer than the largest possible frame is discarded up to the next zero, so
 * memory stays bounded on a noisy line.
 */
export class FrameDecoder {
  readonly maxPayloadBytes: number;
  readonly faults: Record<FrameFault, number> = { cobs: 0, short: 0, length: 0, crc: 0, oversized: 0, overrun: 0 };
  readonly #limit: number;
  #buffer: Uint8Array;
  #used = 0;
  #overflowing = false;

  constructor(maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES) {
    this.maxPayloadBytes = maxPayloadBytes;
    this.#limit = cobsEncodedLength(HEADER_BYTES + maxPayloadBytes);
    this.#buffer = new Uint8Array(Math.min(this.#limit, 4096));
  }

  /** Frames dropped as damaged (COBS, short, length, CRC, oversized): what a noisy line costs; overruns aside. */
  get damagedFrames(): number {
    const { cobs, short, length, crc, oversized } = this.faults;
    return cobs + short + length + crc + oversized;
  }

  /** Feeds received bytes; returns the intact frames they complete, in order. */
  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    let start = 0;
    for (let zero = chunk.indexOf(0); zero !== -1; zero = chunk.indexOf(0, start)) {
      this.#append(chunk.subarray(start, zero));
      if (this.#overflowing) this.faults.overrun++;
      else if (this.#used > 0) {
        const result = decodeFrame(this.#buffer.subarray(0, this.#used), this.maxPayloadBytes);
        if (typeof result === 'string') this.faults[result]++;
        else frames.push(result);
      }
      this.#used = 0;
      this.#overflowing = false;
      start = zero + 1;
    }
    this.#append(chunk.subarray(start));
    return frames;
  }

  #append(bytes: Uint8Array): void {
    if (this.#overflowing || bytes.length === 0) return;
    const needed = this.#used + bytes.length;
    if (needed > this.#limit) {
      this.#overflowing = true;
      this.#used = 0;
      return;
    }
    if (needed > this.#buffer.length) {
      const grown = new Uint8Array(Math.min(this.#limit, Math.max(needed, 2 * this.#buffer.length)));
      grown.set(this.#buffer.subarray(0, this.#used));
      this.#buffer = grown;
    }
    this.#buffer.set(bytes, this.#used);
    this.#used = needed;
  }
}
