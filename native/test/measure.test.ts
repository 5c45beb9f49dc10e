import { describe, expect, it } from 'vitest';
import { KernelArgumentError, Kernels, loadNative, typescriptKernels } from '../src/index.js';
import { seededUniform } from './helpers.js';

const native = loadNative();

function uniform(n: number, seed: number, scale = 1): Float64Array {
  const u = seededUniform(seed);
  return Float64Array.from({ length: n }, () => (u() * 2 - 1) * scale);
}

/** Frames of camera values, m output pixels of `pixelsPerFrame` each. */
function cameraFrames(frames: number, pixelsPerFrame: number, wide: boolean, seed: number): Uint8Array | Uint16Array {
  const u = seededUniform(seed);
  const max = wide ? 4095 : 255;
  const out = wide ? new Uint16Array(frames * pixelsPerFrame) : new Uint8Array(frames * pixelsPerFrame);
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(u() * (max + 1));
  return out;
}

/** A batch of pieces as opu-core lays it out: plain frames, then one frame per reference, pieces back to back. */
function pieceBatch(pieces: number, references: number, m: number, seed: number) {
  const u = seededUniform(seed);
  const firstFrame = new Int32Array(pieces);
  const plainFrames = new Int32Array(pieces);
  const sumRows = new Int32Array(pieces);
  let frame = 0;
  for (let p = 0; p < pieces; p++) {
    firstFrame[p] = frame;
    plainFrames[p] = 1 + Math.floor(u() * 3);
    sumRows[p] = Math.floor(u() * 4); // several pieces add to one row, as the pieces of one vector do
    frame += plainFrames[p]! + references;
  }
  const intensity = Float32Array.from(uniform(frame * m, seed + 1, 50), Math.abs);
  return {
    firstFrame,
    plainFrames,
    sumRows,
    intensity,
    weights: uniform(pieces, seed + 2, 4),
    coefficients: uniform(references * m, seed + 3),
    plainCoefficient: uniform(m, seed + 4),
    offset: uniform(m, seed + 5, 10),
  };
}

describe('measurement kernels', () => {
  const implementations: [string, Kernels][] = [['typescript', typescriptKernels]];
  if (native.implementation) implementations.push(['native', new Kernels('native', native.implementation)]);

  describe.each(implementations)('%s', (_name, k) => {
    it.each([false, true])('darkSubtract writes (ADU − dark) / exposure to each frame’s row (16-bit: %s)', (wide) => {
      const [frames, pixelsPerFrame, m] = [5, 37, 33]; // the outputs are the first m pixels of a frame
      const adu = cameraFrames(frames, pixelsPerFrame, wide, 1);
      const dark = uniform(m, 2, 8).map((d) => d + 10);
      const destination = Int32Array.of(3, -1, 0, 4, 1);
      const out = new Float32Array(6 * m).fill(-7);
      k.darkSubtract(adu, pixelsPerFrame, frames, dark, 12.5, destination, out);
      for (let f = 0; f < frames; f++) {
        const row = destination[f]!;
        if (row < 0) continue;
        for (let i = 0; i < m; i++) {
          expect(out[row * m + i]).toBe(Math.fround((adu[f * pixelsPerFrame + i]! - dark[i]!) / 12.5));
        }
      }
      // Rows no frame goes to (2: the skipped frame's; 5) are not touched.
      for (const row of [2, 5]) expect(out.subarray(row * m, (row + 1) * m).every((v) => v === -7)).toBe(true);
    });

    it('crossTerms adds each piece’s weighted combination of its frames to its row', () => {
      const [pieces, references, m] = [9, 3, 45];
      const b = pieceBatch(pieces, references, m, 10);
      const sums = uniform(4 * m, 20);
      const expected = Float64Array.from(sums);
      for (let p = 0; p < pieces; p++) {
        for (let i = 0; i < m; i++) {
          let plain = 0;
          for (let q = 0; q < b.plainFrames[p]!; q++) plain += b.intensity[(b.firstFrame[p]! + q) * m + i]!;
          plain /= b.plainFrames[p]!;
          let y = -b.plainCoefficient[i]! * plain - b.offset[i]!;
          for (let r = 0; r < references; r++) {
            const frame = b.firstFrame[p]! + b.plainFrames[p]! + r;
            y += b.coefficients[r * m + i]! * b.intensity[frame * m + i]!;
          }
          expected[b.sumRows[p]! * m + i]! += b.weights[p]! * y;
        }
      }
      k.crossTerms(
        references,
        b.coefficients,
        b.plainCoefficient,
        b.offset,
        b.intensity,
        b.firstFrame,
        b.plainFrames,
        b.weights,
        b.sumRows,
        sums,
      );
      for (let i = 0; i < sums.length; i++) expect(sums[i]).toBeCloseTo(expected[i]!, 9);
    });

    it('refuses a piece whose frames run past the intensities, naming it', () => {
      const b = pieceBatch(2, 2, 8, 30);
      const firstFrame = Int32Array.of(0, b.firstFrame[1]! + 1);
      const call = () =>
        k.crossTerms(
          2,
          b.coefficients,
          b.plainCoefficient,
          b.offset,
          b.intensity,
          firstFrame,
          b.plainFrames,
          b.weights,
          b.sumRows,
          new Float64Array(4 * 8),
        );
      expect(call).toThrow(KernelArgumentError);
      expect(call).toThrow(/^firstFrame\[1\]: /);
    });

    it('refuses a destination beyond the rows of out', () => {
      const call = () =>
        k.darkSubtract(new Uint8Array(8), 4, 2, new Float64Array(4), 1, Int32Array.of(0, 2), new Float32Array(8));
      expect(call).toThrow(/^destination\[1\]: /);
    });
  });

  it.skipIf(!native.implementation)('native and TypeScript give the same bits', () => {
    const nativeKernels = new Kernels('native', native.implementation!);
    const [frames, pixelsPerFrame, m] = [40, 530, 517]; // vector bodies and tails
    for (const wide of [false, true]) {
      const adu = cameraFrames(frames, pixelsPerFrame, wide, 40);
      const dark = uniform(m, 41, 3).map((d) => d + 16);
      const destination = Int32Array.from({ length: frames }, (_, f) => (f % 7 === 3 ? -1 : frames - 1 - f));
      const [a, b] = [new Float32Array(frames * m), new Float32Array(frames * m)];
      typescriptKernels.darkSubtract(adu, pixelsPerFrame, frames, dark, 37.25, destination, a);
      nativeKernels.darkSubtract(adu, pixelsPerFrame, frames, dark, 37.25, destination, b);
      expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).toBe(true);
    }
    const batch = pieceBatch(60, 4, m, 50);
    const sums = [uniform(4 * m, 51), uniform(4 * m, 51)];
    for (const [i, kernels] of [typescriptKernels, nativeKernels].entries()) {
      kernels.crossTerms(
        4,
        batch.coefficients,
        batch.plainCoefficient,
        batch.offset,
        batch.intensity,
        batch.firstFrame,
        batch.plainFrames,
        batch.weights,
        batch.sumRows,
        sums[i]!,
      );
    }
    expect(Buffer.from(sums[1]!.buffer).equals(Buffer.from(sums[0]!.buffer))).toBe(true);
  });
});
