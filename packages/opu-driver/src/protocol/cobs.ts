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

/** Encodes `data` into a new array without zeros (the delimiter is not included). */
export function cobsEncode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(cobsEncodedLength(data.length));
  let codeAt = 0;
  let code = 1;
  let o = 1;
  for (let i = 0; i < data.length; i++) {
    const byte = data[i]!;
    if (byte !== 0) {
      out[o++] = byte;
      code++;
    }
    if (byte === 0 || code === 0xff) {
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
    }
  }
  out[codeAt] = code;
  return out.subarray(0, o);
}

/**
 * Decodes one encoded frame (without its delimiter). Returns undefined when the bytes are not a valid encoding: a
 * zero inside, or a block that runs past the end.
 */
export function cobsDecode(encoded: Uint8Array): Uint8Array | undefined {
  const out = new Uint8Array(encoded.length);
  let o = 0;
  let i = 0;
  while (i < encoded.length) {
    const code = encoded[i]!;
    if (code === 0 || i + code > encoded.length) return undefined;
    for (let k = 1; k < code; k++) {
      const byte = encoded[i + k]!;
      if (byte === 0) return undefined;
      out[o++] = byte;
    }
    i += code;
    // A block shorter than 255 ends with an implied zero, except the last one.
    if (code !== 0xff && i < encoded.length) out[o++] = 0;
  }
  return out.subarray(0, o);
}
