import { describe, expect, it } from 'vitest';
import { kernels } from '../src/index.js';
import { CAMERA_8BIT, seededUniform } from './helpers.js';

function filled(length: number, seed: number): Float32Array {
  const u = seededUniform(seed);
  return Float32Array.from({ length }, () => u() - 0.5);
}

describe(`async kernels (${kernels.backend})`, () => {
  it('sgemmAsync equals sgemm and, with the addon, leaves the JavaScript thread free meanwhile', async () => {
    const n = 768;
    const A = filled(n * n, 1);
    const B = filled(n * n, 2);
    const sync = new Float32Array(n * n);
    kernels.sgemm(n, n, n, A, B, sync);
    const C = new Float32Array(n * n);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const pending = kernels.sgemmAsync(n, n, n, A, B, C);
    await new Promise((resolve) => setTimeout(resolve, 1));
    const ticksWhileRunning = ticks;
    await pending;
    clearInterval(timer);
    expect(C).toEqual(sync);
    if (kernels.backend === 'native') expect(ticksWhileRunning).toBeGreaterThan(0);
  });

  it('mediumFieldsAsync and cameraExposeAsync equal their synchronous forms', async () => {
    const m = 200;
    const n = 300;
    const frames = 12;
    const pixels = Int32Array.from({ length: m }, (_, i) => 5 * i);
    const mirrors = Int32Array.from({ length: n }, (_, i) => 7 * i);
    const u = seededUniform(3);
    const packed = Uint8Array.from({ length: frames * Math.ceil(n / 8) }, () => Math.floor(u() * 256));
    const base = { seed: 4, epoch: 0, pixels, mirrors, packed, frames };
    const sync = new Float32Array(frames * m);
    kernels.mediumFields({ ...base, outRe: sync });
    const intensity = new Float32Array(frames * m);
    await kernels.mediumFieldsAsync({ ...base, outRe: intensity });
    expect(intensity).toEqual(sync);

    const camera = {
      model: CAMERA_8BIT,
      intensity,
      frames,
      pixels,
      pixelResponse: new Float64Array(m).fill(1),
      firstFrameIndex: 9,
      powerFactors: new Float64Array(frames).fill(1),
    };
    const a = { ...camera, out: new Uint8Array(frames * m), saturated: new Uint32Array(frames) };
    const b = { ...camera, out: new Uint8Array(frames * m), saturated: new Uint32Array(frames) };
    kernels.cameraExpose(a);
    await kernels.cameraExposeAsync(b);
    expect(b.out).toEqual(a.out);
    expect(b.saturated).toEqual(a.saturated);
  });

  it('validates before going off-thread: bad input rejects with a typed error', async () => {
    await expect(
      kernels.sgemmAsync(2, 2, 2, new Float32Array(3), new Float32Array(4), new Float32Array(4)),
    ).rejects.toThrow(/^A: /);
  });
});
