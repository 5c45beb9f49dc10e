/**
 * Consistent Overhead Byte Stuffing (Cheshire and Baker, 1999): a frame of any bytes becomes one without zeros, so a
 * zero byte can delimit frames on the wire and a receiver resynchronizes at the next zero after garbage. Overhead:
 * one byte, plus one per 254 bytes. Linear time in both directions (the serialport SLIP parser is quadratic on large
 * frames, hence our own).
 */

/** The encoded size of `length` bytes, without the delimiter: at most length + ⌈length / 254⌉ + 1. */
export function cobsEncodedLength(length: number): number {
  return length + Math.floor(length / 254) + 1;
}

import { nativeCobs } from 'opu-native';

/** Frames from this size on go to the addon's codec, when it is built: below it, the call costs more than it saves. */
const NATIVE_FROM_BYTES = 1024;

/** Runs shorter than this are copied byte by byte; longer ones with one native copy. */
const SHORT_RUN = 24;

function copyRun(from: Uint8Array, start: number, length: number, to: Uint8Array, at: number): void {
  if (length < SHORT_RUN) for (let k = 0; k < length; k++) to[at + k] = from[start + k]!;
  else to.set(from.subarray(start, start + length), at);
}

/** Encodes `data` into a new array without zeros (the delimiter is not included). */
export function cobsEncode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(cobsEncodedLength(data.length));
  return out.subarray(0, cobsEncodeInto(data, out, 0));
}

/**
 * Encodes `data` into `out` from `at` on (room for `cobsEncodedLength(data.length)` bytes is needed) and returns
 * where the encoding ends. Each zero is located once with a native search and each run copied at once, so large
 * frames cost little more than a copy.
 */
export function cobsEncodeInto(data: Uint8Array, out: Uint8Array, at: number): number {
  if (nativeCobs && data.length >= NATIVE_FROM_BYTES) return nativeCobs.cobsEncodeInto(data, out, at);
  return encodeRuns(data, out, at);
}

/** The TypeScript encoder: the reference the addon's is tested against, and the fallback. */
export function encodeRuns(data: Uint8Array, out: Uint8Array, at: number): number {
  const n = data.length;
  let codeAt = at;
  let o = at + 1;
  let i = 0;
  let nextZero = -1;
  for (;;) {
    if (nextZero < i) {
      nextZero = data.indexOf(0, i);
      if (nextZero === -1) nextZero = n;
    }
    const limit = Math.min(n, i + 254);
    const run = Math.min(nextZero, limit) - i;
    copyRun(data, i, run, out, o);
    o += run;
    i += run;
    if (run === 254) {
      // A full block: no implied zero, even when a zero comes next (it starts the next block).
      out[codeAt] = 0xff;
      codeAt = o++;
    } else if (i === nextZero && i < n) {
      out[codeAt] = run + 1;
      codeAt = o++;
      i++;
    } else {
      out[codeAt] = run + 1;
      return o;
    }
  }
}

/**
 * Decodes one encoded frame (without its delimiter). Returns undefined when the bytes are not a valid encoding: a
 * zero inside, or a block that runs past the end.
 */
export function cobsDecode(encoded: Uint8Array): Uint8Array | undefined {
  if (nativeCobs && encoded.length >= NATIVE_FROM_BYTES) {
    const out = new Uint8Array(encoded.length);
    const length = nativeCobs.cobsDecodeInto(encoded, out);
    return length < 0 ? undefined : out.subarray(0, length);
  }
  return decodeRuns(encoded);
}

/** The TypeScript decoder: the reference the addon's is tested against, and the fallback. */
export function decodeRuns(encoded: Uint8Array): Uint8Array | undefined {
  if (encoded.indexOf(0) !== -1) return undefined;
  const out = new Uint8Array(encoded.length);
  let o = 0;
  let i = 0;
  while (i < encoded.length) {
    const code = encoded[i]!;
    if (i + code > encoded.length) return undefined;
    copyRun(encoded, i + 1, code - 1, out, o);
    o += code - 1;
    i += code;
    // A block shorter than 255 ends with an implied zero, except the last one.
    if (code !== 0xff && i < encoded.length) out[o++] = 0;
  }
  return out.subarray(0, o);
}
