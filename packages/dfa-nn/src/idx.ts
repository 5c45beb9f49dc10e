import { readFileSync } from 'node:fs';
import { ArgumentError } from 'opu-core';

/** An IDX array (LeCun's format for MNIST): unsigned bytes with their dimensions. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Parses IDX bytes; only the unsigned-byte type (0x08) that MNIST uses is accepted. */
export function parseIdx(bytes: Uint8Array, field = 'idx'): IdxArray {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 || view.getUint16(0) !== 0) {
    throw new ArgumentError('is not an IDX file (bad magic number)', { field, fix: 'pass an uncompressed IDX file' });
  }
  if (bytes[2] !== 0x08) {
    throw new ArgumentError(`has element type 0x${bytes[2]!.toString(16)}, only unsigned bytes (0x08) are read`, {
      field,
      fix: 'convert the file to unsigned bytes',
    });
  }
  const rank = bytes[3]!;
  const header = 4 + 4 * rank;
  if (bytes.length < header) {
    throw new ArgumentError('is truncated inside its header', { field, fix: 'download the file again' });
  }
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== header + size) {
    throw new ArgumentError(
      `holds ${bytes.length - header} bytes of data, its dimensions ${dims.join('×')} need ${size}`,
      {
        field,
        fix: 'the file is truncated or corrupt: download it again',
      },
    );
  }
  return { dims, data: bytes.subarray(header) };
}

export function readIdx(path: string): IdxArray {
  return parseIdx(new Uint8Array(readFileSync(path)), path);
}
