/**
 * `npm run bench`: measures the simulator and the facade on this machine, with numpy (Debian, OpenBLAS) as the
 * baseline in the same run where it is installed, and writes docs/benchmarks.md atomically.
 */

import { execFileSync, spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Opu, packDmdFrames, seededUniform, writeFileAtomic } from 'opu-core';
import { type Kernels, kernels, typescriptKernels } from 'opu-native';
import { plot } from 'opu-report';
import { expectedProjectionMatrix, IDEAL_CAMERA, type SimOptions, SimulatedOpuDevice } from 'opu-sim';
import { inputBatch, matmulTransposed, relativeError } from '../test/helpers.js';
import { calibrationBenchmark } from './calibration.js';
import { averagesBenchmark, sparsityBenchmark } from './fidelity.js';
import { mediumQuantizationError } from './medium-quantization.js';
import { mnistBenchmark } from './mnist.js';
import { baselineEnv, describeTorch, numpyBlas, python, type TorchEpochs } from './python-baseline.js';
import { randnlaBenchmark } from './randnla.js';
import { serialBenchmark } from './serial.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const lines: string[] = [];
const log = (line: string) => {
  console.log(line);
  lines.push(line);
};

/** C (m × n) = op(A)·op(B), op(A) m × k. */
interface GemmShape {
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
}

const shapeKey = (s: GemmShape) => `${s.m}×${s.n}×${s.k}${s.transA ? ' Aᵀ' : ''}${s.transB ? ' Bᵀ' : ''}`;

/** numpy's GFLOP/s per shape (best of 7), none when Python and numpy are missing. */
function numpySgemm(shapes: GemmShape[]): Map<string, number> {
  const results = new Map<string, number>();
  const py = python();
  if (!py) return results;
  const out = execFileSync(py, [`${root}bench/numpy_sgemm.py`, JSON.stringify(shapes)], {
    encoding: 'utf8',
    env: baselineEnv,
  });
  for (const line of out.trim().split('\n')) {
    const r = JSON.parse(line);
    results.set(shapeKey(r), r.gflops);
  }
  return results;
}

/** Best of `repeats` timings of `run`, in seconds. */
function best(run: () => void, repeats: number): number {
  run();
  let fastest = Number.POSITIVE_INFINITY;
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    run();
    fastest = Math.min(fastest, (performance.now() - t) / 1e3);
  }
  return fastest;
}

function sgemmGflops(k: Kernels, shape: GemmShape): number {
  const { m, n, k: depth, transA, transB } = shape;
  const u = seededUniform(m + n + depth);
  const A = Float32Array.from({ length: m * depth }, () => u() - 0.5);
  const B = Float32Array.from({ length: depth * n }, () => u() - 0.5);
  const C = new Float32Array(m * n);
  const flops = 2 * m * n * depth;
  // Small products take microseconds: repeat them within one timing, as numpy_sgemm.py does.
  const inner = Math.max(1, Math.floor(2e8 / flops));
  const run = () => {
    for (let r = 0; r < inner; r++) k.sgemm(m, n, depth, A, B, C, { transA, transB });
  };
  return (flops * inner) / best(run, k.backend === 'native' ? 7 : 1) / 1e9;
}

/** The simulator's kernels on one problem: matrix generation, fused |R x|², camera; seconds for each. */
function kernelSeconds(k: Kernels, n: number, m: number, frames: number) {
  const pixels = Int32Array.from({ length: m }, (_, i) => i);
  const mirrors = Int32Array.from({ length: n }, (_, i) => i);
  const re = new Float32Array(n * m);
  const im = new Float32Array(n * m);
  const repeats = k.backend === 'native' ? BEST_OF : 1;
  const fill = best(() => k.fillMediumTile(1, 0, pixels, 0, m, mirrors, 0, n, re, im), repeats);
  const u = seededUniform(2);
  const packed = Uint8Array.from({ length: (frames * n) / 8 }, () => Math.floor(u() * 256));
  const intensity = new Float32Array(frames * m);
  const request = { seed: 1, epoch: 0, pixels, mirrors, packed, frames, cached: { re, im }, outRe: intensity };
  const project = best(() => k.mediumFields(request), repeats);
  const camera = best(
    () =>
      k.cameraExpose({
        model: {
          seed: 1,
          electronsPerIntensity: 4,
          darkElectrons: 0.05,
          fullWellE: 13_500,
          readNoiseE: 13,
          aduPerElectron: 255 / 13_500,
          biasAdu: 3,
          maxAdu: 255,
          shotNoise: true,
        },
        intensity,
        frames,
        pixels,
        pixelResponse: new Float64Array(m).fill(1),
        firstFrameIndex: 0,
        powerFactors: new Float64Array(frames).fill(1),
        out: new Uint8Array(frames * m),
        saturated: new Uint32Array(frames),
      }),
    repeats,
  );
  return { fill, project, camera };
}

function numpyBaseline(shapes: number[][]): Map<string, number> {
  const results = new Map<string, number>();
  const py = python();
  if (!py) {
    console.log('numpy baseline skipped: no python3 with numpy (apt-get install python3-numpy libopenblas0-pthread)');
    return results;
  }
  const out = execFileSync(py, [`${root}bench/numpy_projection.py`, JSON.stringify(shapes)], {
    encoding: 'utf8',
    env: baselineEnv,
  });
  for (const line of out.trim().split('\n')) {
    const r = JSON.parse(line);
    results.set(`${r.inputs}x${r.outputs}x${r.batch}`, r.seconds);
  }
  return results;
}

async function simulatedFramesPerSecond(inputs: number, outputs: number, batch: number, cacheMb: number) {
  const device = new SimulatedOpuDevice({
    options: {
      seed: 1,
      matrixCacheMb: cacheMb,
      inputRegion: { left: 0, top: 0, width: 512, height: inputs / 512 },
      outputRoi: { left: 0, top: 0, width: 1024, height: outputs / 1024 },
    },
  });
  await device.open();
  const u = seededUniform(3);
  const frames = packDmdFrames(
    Array.from({ length: batch * inputs }, () => (u() < 0.5 ? 1 : 0)),
    batch,
    inputs,
  );
  await device.acquire(frames); // warm-up; fills the matrix cache when it fits
  const started = performance.now();
  const shot = await device.acquire(frames);
  const seconds = (performance.now() - started) / 1e3;
  const modelled = 1e6 / shot.meta.frameTimeUs;
  await device.close();
  return { seconds, framesPerSecond: batch / seconds, modelled };
}

const scatter: { truth: number[]; measured: number[] } = { truth: [], measured: [] };

/** Relative error of project() for each input kind, 256 → 512, on a device with the given options. */
async function errorsByKind(options: SimOptions): Promise<string[]> {
  await using opu = await Opu.open(new SimulatedOpuDevice({ options: { seed: 3, ...options } }), {
    inputs: 256,
    outputs: 512,
  });
  const B = expectedProjectionMatrix(opu.device as SimulatedOpuDevice, opu.layout, opu.calibration!);
  const cells: string[] = [];
  for (const kind of ['ternary', 'binary', 'gaussian'] as const) {
    const e = inputBatch(kind, 16, opu.inputs, 11);
    const truth = matmulTransposed(e, B, opu.inputs, opu.outputs);
    cells.push(`${(100 * relativeError(truth, (await opu.project(e)).data)).toFixed(1)}%`);
  }
  return cells;
}

async function projectionFidelity(camera: SimOptions, label: string, keepScatter = false) {
  await using opu = await Opu.open(new SimulatedOpuDevice({ options: { seed: 5, ...camera } }), {
    inputs: 1024,
    outputs: 2048,
  });
  const B = expectedProjectionMatrix(opu.device as SimulatedOpuDevice, opu.layout, opu.calibration!);
  const row: string[] = [label];
  for (const [kind, rows] of [
    ['ternary', 32],
    ['gaussian', 8],
  ] as const) {
    const e = inputBatch(kind, rows, opu.inputs, 6);
    const truth = matmulTransposed(e, B, opu.inputs, opu.outputs);
    const { data, meta } = await opu.project(e);
    if (keepScatter && kind === 'ternary') {
      scatter.truth.push(...truth.subarray(0, 2 * opu.outputs));
      scatter.measured.push(...data.subarray(0, 2 * opu.outputs));
    }
    row.push(
      `${(100 * relativeError(truth, data)).toFixed(2)}%`,
      `${(meta.frames / rows).toFixed(1)}`,
      `${meta.vectorsPerDeviceSecond.toFixed(0)}`,
      `${(rows / (meta.wallTimeMs / 1e3)).toFixed(1)}`,
    );
  }
  return `| ${row.join(' | ')} |`;
}

/** PyTorch's epoch at 1 and at 2 threads, each the best of 5 after a warm-up one, and its BLAS and threads. */
function torchEpochSeconds(sizes: number[], rows: number, batch: number): TorchEpochs | undefined {
  const py = python();
  if (!py) return undefined;
  const probe = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8', env: baselineEnv });
  if (probe.status !== 0) {
    console.log('PyTorch baseline skipped: no python3-torch (apt-get install python3-torch)');
    return undefined;
  }
  const out = execFileSync(
    py,
    [`${root}bench/torch_mlp.py`, JSON.stringify(sizes), String(rows), String(batch), String(BEST_OF)],
    { encoding: 'utf8', env: baselineEnv },
  );
  const result: TorchEpochs = JSON.parse(out.trim().split('\n').at(-1)!);
  console.log(`PyTorch: ${JSON.stringify(result.all)} s per epoch; ${describeTorch(result)}`);
  return result;
}

/** Writes a file of the repository (docs/…) with the SDK's one atomic writer. */
function writeAtomically(relative: string, text: string): Promise<void> {
  return writeFileAtomic(`${root}${relative}`, text);
}

async function speckleSurvival() {
  await using device = new SimulatedOpuDevice({
    options: {
      seed: 9,
      ...{ camera: { ...IDEAL_CAMERA }, laser: { powerFluctuationRms: 0 } },
      inputRegion: { left: 0, top: 0, width: 32, height: 32 },
      outputRoi: { left: 0, top: 0, width: 256, height: 128 },
      exposureUs: 150,
    },
  });
  await device.open();
  const u = seededUniform(10);
  const frames = 16;
  const bits = new Uint8Array(frames * 1024);
  for (let f = 0; f < frames; f++) {
    const order = Array.from({ length: 1024 }, (_, j) => j).sort(() => u() - 0.5);
    for (const j of order.slice(0, 512)) bits[f * 1024 + j] = 1;
  }
  const shot = await device.acquire(packDmdFrames(bits, frames, 1024));
  const values = Float64Array.from(shot.data);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  const sorted = values.map((v) => v / mean).sort();
  const t = Array.from({ length: 61 }, (_, k) => k * 0.2);
  const survival = t.map((x) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    return (sorted.length - lo) / sorted.length;
  });
  return { t, survival, contrast: Math.sqrt(variance) / mean, samples: values.length };
}

/** The random-features benchmark in its own process, so that the peak RSS it reports is its own. */
function randomFeaturesInItsOwnProcess(): { lines: string[]; svgs: [string, string][] } {
  const child = spawnSync(process.execPath, ['--import', 'tsx', `${root}bench/random-features-process.ts`], {
    encoding: 'utf8',
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 26,
  });
  if (child.status !== 0) throw new Error('random-features run failed (its output is above)');
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!);
}

function peakMemory() {
  const child = spawnSync(process.execPath, ['--import', 'tsx', `${root}bench/peak-memory.ts`], {
    encoding: 'utf8',
    cwd: root,
  });
  if (child.status !== 0) throw new Error(`peak-memory run failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!);
}

/** Every figure a ratio is taken of, ours and the baselines', is the best of at least this many runs. */
const BEST_OF = 5;

const shapes = [
  [1024, 2048, 256, 10],
  [4096, 8192, 1024, 3],
];
const started = new Date();
console.log('numpy baseline …');
const numpy = numpyBaseline(shapes);
log(`## Kernels (opu-native: ${kernels.backend}, ${kernels.simd}, ${kernels.threads} threads)`);
log('');
log('### sgemm, row-major, C = op(A)·op(B): square, and the shapes training uses');
log('');
console.log('sgemm …');
const square = [512, 1024, 2048].map((n) => ({ m: n, n, k: n, transA: false, transB: false }));
// The products of a 784-800-800-10 training step at batch 128: forward x·W1ᵀ and h1·W2ᵀ, BP's δ2·W2, and the weight
// gradients δᵀ·h (which training runs fused with the SGD step: sgemmSgdStep, same driver).
const training: GemmShape[] = [
  { m: 128, n: 800, k: 784, transA: false, transB: true },
  { m: 128, n: 800, k: 800, transA: false, transB: true },
  { m: 128, n: 800, k: 800, transA: false, transB: false },
  { m: 800, n: 784, k: 128, transA: true, transB: false },
  { m: 800, n: 800, k: 128, transA: true, transB: false },
];
const numpyGemm = numpySgemm([...square, ...training]);
log(
  '| m × n × k (op) | opu-native GFLOP/s | numpy (OpenBLAS) GFLOP/s | native / numpy | TypeScript GFLOP/s | native / TypeScript |',
);
log('|---|---|---|---|---|---|');
for (const shape of [...square, ...training]) {
  const native = sgemmGflops(kernels, shape);
  const numpyRate = numpyGemm.get(shapeKey(shape));
  const ts = shape.m * shape.n * shape.k <= 1024 ** 3 ? sgemmGflops(typescriptKernels, shape) : undefined;
  log(
    `| ${shapeKey(shape)} | ${native.toFixed(0)} | ${numpyRate ? numpyRate.toFixed(0) : 'skipped'} | ` +
      `${numpyRate ? (native / numpyRate).toFixed(2) : '–'} | ${ts ? ts.toFixed(2) : 'not run (minutes)'} | ` +
      `${ts ? (native / ts).toFixed(0) : '–'} |`,
  );
}
log('');
log(
  'The first three rows are square products; the last five the shapes of a 784-800-800-10 training step at batch ' +
    '128 (random, dense operands: MNIST’s blank first-layer depths, which the packing skips, would flatter us).',
);
log('');
log(
  'What limits it: the micro-kernel keeps a 12×32 block of C in AVX-512 registers (6×16 with AVX2) and reaches about ' +
    'three quarters of the two cores’ FMA peak; packing A and B and the C updates take the rest. `OPU_NATIVE_SIMD=avx2` ' +
    'or `=portable` caps the instruction set; `OPU_NATIVE_THREADS` sizes the pool.',
);
log('');
log('### Simulated projection |R·x|² of binary frames: the fused kernel against numpy’s one-GEMM formulation');
log('');
log('Matrix cached (generated once); frames half-lit; numpy: one float32 GEMM on [Re | Im] and a sum of squares.');
log('');
log(
  '| inputs → outputs, batch | opu-native frames/s | numpy frames/s | native / numpy | TypeScript frames/s | native / TypeScript |',
);
log('|---|---|---|---|---|---|');
const kernelTimes: string[] = [];
for (const [n, m, batch] of shapes) {
  console.log(`kernels ${n}→${m} × ${batch} …`);
  const native = kernelSeconds(kernels, n!, m!, batch!);
  const ts = n! <= 1024 ? kernelSeconds(typescriptKernels, n!, m!, batch!) : undefined;
  const base = numpy.get(`${n}x${m}x${batch}`);
  log(
    `| ${n} → ${m}, ${batch} | ${(batch! / native.project).toFixed(0)} | ${base ? (batch! / base).toFixed(0) : 'skipped'} | ` +
      `${base ? (base / native.project).toFixed(2) : '–'} | ${ts ? (batch! / ts.project).toFixed(0) : 'not run'} | ` +
      `${ts ? (ts.project / native.project).toFixed(0) : '–'} |`,
  );
  kernelTimes.push(
    `| ${n} → ${m}, ${batch} | matrix generation (${((n! * m!) / 1e6).toFixed(1)} M entries) | ` +
      `${(native.fill * 1e3).toFixed(1)} | ${ts ? (ts.fill * 1e3).toFixed(0) : '–'} | ${ts ? (ts.fill / native.fill).toFixed(0) : '–'} |`,
    `| ${n} → ${m}, ${batch} | camera model (${((batch! * m!) / 1e6).toFixed(1)} M pixels) | ` +
      `${(native.camera * 1e3).toFixed(1)} | ${ts ? (ts.camera * 1e3).toFixed(0) : '–'} | ${ts ? (ts.camera / native.camera).toFixed(0) : '–'} |`,
  );
}
log('');
log(
  'What limits it: the quantized entries (q/4096, q of 16 bits) make the sums exact 32-bit integer arithmetic, so ' +
    'with AVX-512 VNNI the kernel is an int16 GEMM: vpdpwssd adds the products of 2 mirrors for 16 pixels per ' +
    'instruction (twice float FMA’s multiply-adds), on an int16 copy of the matrix packed once and kept across calls, ' +
    'with 6 frames × 32 pixels (re and im) of sums in registers; its rate bounds it. Without VNNI, 16-entry tables of ' +
    'the subset sums of every 4 mirrors (method of four Russians), bound by the loads of the tables.',
);
const quantization = mediumQuantizationError();
log('');
log(
  `Quantization of the medium: against the unquantized CN(0, 1) matrix, relative error ${quantization.field.toExponential(1)} ` +
    `of the fields and ${quantization.intensity.toExponential(1)} of the intensities (1024 mirrors → 512 pixels, 64 ` +
    'half-lit frames): far below the camera’s noise (a few %).',
);
log('');
log('### The other simulator kernels');
log('');
log('| problem | kernel | opu-native ms | TypeScript ms | native / TypeScript |');
log('|---|---|---|---|---|');
for (const line of kernelTimes) log(line);
log('');
log('## Simulated projection |R·x|² (device.acquire: medium, camera noise and ADC included)');
log('');
log(
  'End to end, the camera model (a Philox block, a Poisson or normal draw and read noise for every pixel) costs more ' +
    'than the optics at 1024 → 2048; numpy’s figure has no noise model.',
);
log('');
log(
  '| inputs → outputs, batch | opu-sim frames/s | numpy frames/s (no noise model) | opu-sim / numpy | modelled hardware frames/s |',
);
log('|---|---|---|---|---|');
for (const [n, m, batch] of shapes) {
  console.log(`simulating ${n}→${m} × ${batch} …`);
  const sim = await simulatedFramesPerSecond(n!, m!, batch!, 1024);
  const base = numpy.get(`${n}x${m}x${batch}`);
  const numpyFps = base ? batch! / base : undefined;
  log(
    `| ${n} → ${m}, ${batch} | ${sim.framesPerSecond.toFixed(0)} | ${numpyFps ? numpyFps.toFixed(0) : 'skipped'} | ` +
      `${numpyFps ? (sim.framesPerSecond / numpyFps).toFixed(3) : '–'} | ${sim.modelled.toFixed(0)} |`,
  );
}
log('');
log('## Error budget of project(): one noise source at a time, 256 → 512, 3 references');
log('');
log(
  'Relative error ‖project(e) − e·Bᵀ‖ / ‖e·Bᵀ‖ over 16 rows (ternary: 40% non-zero; binary: half-lit; real: Gaussian).',
);
log('');
log('| noise source alone | ternary | binary | real (8-bit planes) |');
log('|---|---|---|---|');
const silent = { readNoiseE: 0, prnuRms: 0, biasAdu: 0, darkCurrentEPerS: 0, shotNoise: false };
const steady = { powerFluctuationRms: 0 };
for (const [label, options] of [
  ['8-bit quantization', { camera: { ...silent }, laser: steady }],
  ['shot noise (12-bit ADC)', { camera: { ...silent, bitDepth: 12, shotNoise: true }, laser: steady }],
  ['read noise 13 e⁻ (12-bit)', { camera: { ...silent, bitDepth: 12, readNoiseE: 13, biasAdu: 41 }, laser: steady }],
  ['laser fluctuation 0.3%', { camera: { ...silent, bitDepth: 12 } }],
  ['PRNU 1%', { camera: { ...silent, bitDepth: 12, prnuRms: 0.01 }, laser: steady }],
  ['**all (default realistic camera)**', {}],
  ['none (ideal 12-bit camera)', { camera: { ...IDEAL_CAMERA }, laser: steady }],
] as [string, SimOptions][]) {
  console.log(`error budget: ${label} …`);
  log(`| ${label} | ${(await errorsByKind(options)).join(' | ')} |`);
}
log('');
log('## project(): fidelity against the true matrix and throughput, 1024 → 2048');
log('');
log('Ternary rows: 2 signs × (1 + 3 references) frames. Real rows: 8-bit separated bit planes, up to 16 × 4 frames.');
log('"device vectors/s" uses the modelled frame times; "simulated vectors/s" is this CPU running the simulator.');
log('');
log(
  '| camera | ternary error | frames/vector | device vectors/s | simulated vectors/s | real error | frames/vector | device vectors/s | simulated vectors/s |',
);
log('|---|---|---|---|---|---|---|---|---|');
const ideal = { camera: { ...IDEAL_CAMERA }, laser: { powerFluctuationRms: 0 } };
for (const [label, options, keep] of [
  ['ideal, 12-bit', ideal],
  ['realistic 8-bit (default)', {}, true],
  ['realistic 10-bit', { camera: { bitDepth: 10 } }],
  ['realistic 12-bit', { camera: { bitDepth: 12 } }],
] as [string, SimOptions, boolean?][]) {
  console.log(`project() with ${label} …`);
  log(await projectionFidelity(options, label, keep));
}
log('');
await writeAtomically(
  'docs/projection-fidelity.svg',
  plot(
    [
      { label: 'project() vs e·Bᵀ', color: '#1f77b4', x: scatter.truth, y: scatter.measured, style: 'dots' },
      { label: 'y = x', color: '#d62728', x: [-40, 40], y: [-40, 40], style: 'line' },
    ],
    {
      title: 'Optical linear projection, realistic 8-bit camera (1024 → 2048, ternary rows)',
      xLabel: 'true (e·Bᵀ)_i',
      yLabel: 'measured from intensities',
    },
  ),
);
log('![project() against the true matrix](projection-fidelity.svg)');
log('');
for (const section of [sparsityBenchmark, averagesBenchmark]) {
  const { lines: sectionLines, svgs } = await section();
  for (const line of sectionLines) log(line);
  for (const [path, svg] of svgs) await writeAtomically(path, svg);
}
console.log('speckle statistics …');
const speckle = await speckleSurvival();
await writeAtomically(
  'docs/speckle-statistics.svg',
  plot(
    [
      { label: 'simulated camera, ideal 12-bit', color: '#1f77b4', x: speckle.t, y: speckle.survival, style: 'steps' },
      {
        label: 'exponential law e^−t',
        color: '#d62728',
        x: speckle.t,
        y: speckle.t.map((t) => Math.exp(-t)),
        style: 'line',
      },
    ],
    { title: 'Speckle intensity statistics', xLabel: 't = I / ⟨I⟩', yLabel: 'P(I > t·⟨I⟩)', logY: true },
  ),
);
log('## Speckle statistics');
log('');
log(
  `${speckle.samples} pixel values from frames with 512 of 1024 mirrors on: contrast std/mean = ${speckle.contrast.toFixed(4)} (theory 1).`,
);
log('');
log('![speckle survival function against the exponential law](speckle-statistics.svg)');
log('');
console.log('peak memory of a 20 000 × 40 000 device …');
const memory = peakMemory();
const torch = torchEpochSeconds([784, 800, 800, 10], 60_000, 128);
const mnist = await mnistBenchmark({
  epochs: 45,
  opuEpochs: { '784-800-800-10': 10, '784-7×240-10': 5 },
  torchSeconds: torch,
});
for (const line of mnist.lines) log(line);
for (const [path, svg] of mnist.svgs) await writeAtomically(path, svg);
for (const line of await calibrationBenchmark()) log(line);
console.log('optical random features on MNIST …');
const randomFeatures = randomFeaturesInItsOwnProcess();
for (const line of randomFeatures.lines) log(line);
for (const [path, svg] of randomFeatures.svgs) await writeAtomically(path, svg);
console.log('randomized linear algebra …');
const randnla = await randnlaBenchmark();
for (const line of randnla.lines) log(line);
for (const [path, svg] of randnla.svgs) await writeAtomically(path, svg);
console.log('serial link …');
for (const line of await serialBenchmark()) log(line);
log('## Peak memory of a large device');
log('');
log(
  `A ${memory.inputs}-input × ${memory.outputs}-output device (its matrix would take ` +
    `${((memory.inputs * memory.outputs * 8) / 2 ** 30).toFixed(1)} GiB as complex64) acquiring ${memory.frames} ` +
    `half-lit frames: peak RSS **${memory.peakRssMb.toFixed(0)} MB**, ${memory.seconds.toFixed(1)} s ` +
    '(the matrix is regenerated tile by tile from the counter-based RNG).',
);

const cpu = cpus()[0]?.model ?? 'unknown CPU';
const baselinePython = python();
const baselineBlas = baselinePython ? numpyBlas(baselinePython) : 'no numpy';
const header = [
  '# Benchmarks',
  '',
  `Measured ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npm run bench\` on ${cpu}, ` +
    `${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}. ` +
    'Baselines, measured side by side in the same run, each figure (ours and theirs) the best of at least ' +
    `${BEST_OF} runs: numpy from Debian (python3-numpy) without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE in its ` +
    `environment, on **${baselineBlas}**; for projections its best formulation, one float32 GEMM on [Re | Im] ` +
    'followed by a sum of squares (reference §9). ' +
    (torch ? `PyTorch: ${describeTorch(torch)}. ` : '') +
    'The simulator runs on the opu-native kernels named below; `OPU_NATIVE=0 npm run bench` measures it on the ' +
    'TypeScript fallback.',
  '',
  'To reproduce the baselines: `apt-get install python3-numpy python3-torch libopenblas0-pthread ' +
    'python3-threadpoolctl` (OpenBLAS becomes the libblas.so.3 that both load; without it they run the netlib ' +
    'reference BLAS, which the line above then names; threadpoolctl names the kernel OpenBLAS picks).',
  '',
];
await writeAtomically('docs/benchmarks.md', `${[...header, ...lines].join('\n')}\n`);
console.log('wrote docs/benchmarks.md and its plots (docs/*.svg)');
