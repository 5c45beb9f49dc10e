import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { kernels, loadNative } from '../src/index.js';
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

  it('runs calls made together in order, each equal to its synchronous form, with sync calls in between', async () => {
    const sizes = [1, 7, 64, 130, 3, 256, 33];
    const cases = sizes.map((n, i) => {
      const A = filled(n * n, 10 + i);
      const B = filled(n * n, 20 + i);
      const sync = new Float32Array(n * n);
      kernels.sgemm(n, n, n, A, B, sync);
      return { n, A, B, sync, C: new Float32Array(n * n) };
    });
    const settled: number[] = [];
    const pending = cases.map(({ n, A, B, C }, i) => kernels.sgemmAsync(n, n, n, A, B, C).then(() => settled.push(i)));
    // The pool serves this thread's calls while the runner thread uses it too.
    const D = new Float32Array(96 * 96);
    kernels.sgemm(96, 96, 96, filled(96 * 96, 1), filled(96 * 96, 2), D);
    await Promise.all(pending);
    for (const { C, sync } of cases) expect(C).toEqual(sync);
    expect(settled).toEqual(sizes.map((_, i) => i));
  });

  // A call in flight holds the event loop open (else the process would end before its promise settles), and a settled
  // one lets it close (else the process would never end).
  it('keeps a process alive until its async calls settle, and no longer', () => {
    const { path, implementation } = loadNative();
    if (!implementation || !path) return expect(kernels.backend).toBe('typescript');
    const child = `
      const addon = require(process.argv[1]);
      const n = 300, A = new Float32Array(n * n).fill(1), C = new Float32Array(n * n);
      addon.sgemmAsync(false, false, n, n, n, 1, A, n, A, n, 0, C, n).then(() => console.log('settled', C[0]));
    `;
    const output = execFileSync(process.execPath, ['-e', child, path], { encoding: 'utf8', timeout: 20_000 });
    expect(output.trim()).toBe('settled 300');
  });

  it('validates before going off-thread: bad input rejects with a typed error', async () => {
    await expect(
      kernels.sgemmAsync(2, 2, 2, new Float32Array(3), new Float32Array(4), new Float32Array(4)),
    ).rejects.toThrow(/^A: /);
  });
});
