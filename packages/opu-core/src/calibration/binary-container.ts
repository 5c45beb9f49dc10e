/**
 * The binary envelope of a calibration file (docs/calibration-file.md): a prelude, a header, float32 arrays and a
 * checksum. It knows bytes and lengths only; what the header means is up to calibration-file.ts.
 *
 * | offset         | bytes | field        | content                                                        |
 * | -------------- | ----- | ------------ | -------------------------------------------------------------- |
 * | 0              | 6     | magic        | ASCII `OPUCAL`                                                 |
 * | 6              | 2     | version      | u16 LE format version                                          |
 * | 8              | 4     | headerLength | u32 LE bytes of header                                         |
 * | 12             | H     | header       | UTF-8 JSON, then zero bytes up to a multiple of 8              |
 * | align8(12 + H) | …     | arrays       | each array as float32 LE, then zero bytes up to a multiple of 8 |
 * | end − 32       | 32    | checksum     | SHA-256 of every byte before it                                |
 *
 * Every version keeps the magic, the version field and the trailing SHA-256, so a reader checks the checksum before
 * it trusts the version: a flipped version byte reads as corrupt, never as a file from the future.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { CalibrationFileError, type OpuErrorDetails } from '../support/errors.js';

const MAGIC = 'OPUCAL';
const PRELUDE_BYTES = 12;
const CHECKSUM_BYTES = 32;
/** Arrays start at multiples of 8 bytes, so a reader can map them in place as float32 (or, later, float64). */
const ALIGNMENT = 8;
const littleEndianHost = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

export interface UnpackedContainer {
  header: Uint8Array;
  /** The arrays, back to back, each padded to the alignment. */
  arraySection: Uint8Array;
}

/** The error for bytes that cannot be the calibration they claim to be; `source` says whose bytes they are. */
export function corruptError(source: string, field: string, what: string, cause?: unknown): CalibrationFileError {
  const details: OpuErrorDetails = {
    field,
    fix: 'restore the file from a backup, or recalibrate with `opu calibrate <url>`',
    cause,
  };
  return new CalibrationFileError('corrupt', `${source} is corrupt: ${what}`, details);
}

export function packContainer(version: number, header: Uint8Array, arrays: readonly Float32Array[]): Uint8Array {
  const arraysStart = aligned(PRELUDE_BYTES + header.length);
  const checksumStart = arrays.reduce((end, array) => end + aligned(array.byteLength), arraysStart);
  const bytes = new Uint8Array(checksumStart + CHECKSUM_BYTES);
  const prelude = new DataView(bytes.buffer);
  bytes.set(Buffer.from(MAGIC, 'ascii'));
  prelude.setUint16(6, version, true);
  prelude.setUint32(8, header.length, true);
  bytes.set(header, PRELUDE_BYTES);
  let offset = arraysStart;
  for (const array of arrays) {
    writeFloat32(bytes.subarray(offset, offset + array.byteLength), array);
    offset += aligned(array.byteLength);
  }
  bytes.set(sha256(bytes.subarray(0, checksumStart)), checksumStart);
  return bytes;
}

/**
 * Checks the envelope of `bytes` and splits it into header and arrays. Throws `CalibrationFileError` kind `corrupt`
 * for a short file, another magic or a failed checksum, and kind `unsupported` for a version above `supportedVersion`.
 */
export function unpackContainer(bytes: Uint8Array, supportedVersion: number, source: string): UnpackedContainer {
  if (bytes.length < PRELUDE_BYTES + CHECKSUM_BYTES) {
    throw corruptError(
      source,
      'length',
      `${bytes.length} bytes is less than the ${PRELUDE_BYTES + CHECKSUM_BYTES} of an empty calibration file`,
    );
  }
  if (Buffer.from(bytes.buffer, bytes.byteOffset, MAGIC.length).toString('latin1') !== MAGIC) {
    throw corruptError(source, 'magic', `it does not start with "${MAGIC}", so it is no calibration file`);
  }
  const checksumStart = bytes.length - CHECKSUM_BYTES;
  if (!sha256(bytes.subarray(0, checksumStart)).equals(bytes.subarray(checksumStart))) {
    throw corruptError(source, 'checksum', 'its SHA-256 does not match its content (damaged or truncated)');
  }
  const prelude = new DataView(bytes.buffer, bytes.byteOffset, PRELUDE_BYTES);
  checkVersion(prelude.getUint16(6, true), supportedVersion, source);
  const headerLength = prelude.getUint32(8, true);
  const arraysStart = aligned(PRELUDE_BYTES + headerLength);
  if (arraysStart > checksumStart) {
    throw corruptError(source, 'headerLength', `a ${headerLength}-byte header does not fit in ${bytes.length} bytes`);
  }
  return {
    header: bytes.subarray(PRELUDE_BYTES, PRELUDE_BYTES + headerLength),
    arraySection: bytes.subarray(arraysStart, checksumStart),
  };
}

/** Copies the arrays out of the section, given their lengths in values; they must fill it exactly. */
export function unpackArrays(arraySection: Uint8Array, lengths: readonly number[], source: string): Float32Array[] {
  const expected = lengths.reduce((total, length) => total + aligned(4 * length), 0);
  if (expected !== arraySection.length) {
    throw corruptError(
      source,
      'arrays',
      `the header's arrays take ${expected} bytes, the file holds ${arraySection.length}`,
    );
  }
  let offset = 0;
  return lengths.map((length) => {
    const array = readFloat32(arraySection.subarray(offset, offset + 4 * length));
    offset += aligned(4 * length);
    return array;
  });
}

function checkVersion(version: number, supportedVersion: number, source: string): void {
  if (version === 0) throw corruptError(source, 'version', 'format version 0 does not exist');
  if (version > supportedVersion) {
    throw new CalibrationFileError(
      'unsupported',
      `${source} has calibration format version ${version}; this SDK reads versions up to ${supportedVersion}`,
      { field: 'version', fix: `upgrade opu-core to read it, or recalibrate with \`opu calibrate <url>\`` },
    );
  }
}

function aligned(byteLength: number): number {
  return Math.ceil(byteLength / ALIGNMENT) * ALIGNMENT;
}

function sha256(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/** Byte copies keep every bit, NaN payloads included; big-endian hosts swap each float to the file's order. */
function writeFloat32(target: Uint8Array, array: Float32Array): void {
  target.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
  if (!littleEndianHost) Buffer.from(target.buffer, target.byteOffset, target.byteLength).swap32();
}

function readFloat32(source: Uint8Array): Float32Array {
  const array = new Float32Array(source.length / 4);
  const bytes = new Uint8Array(array.buffer);
  bytes.set(source);
  if (!littleEndianHost) Buffer.from(array.buffer).swap32();
  return array;
}
