/**
 * RandNLA on the simulated OPU at the sizes of lightonml's notebook: a 2000 × 2000 matrix, randomized SVD of rank 100
 * from ℓ = 1000 sketch columns with 0 or 2 power iterations, Hutchinson's trace with 200 probes, triangles of a
 * 2000-node graph with 200 probes; errors against the exact answers (planted spectra, exact trace, exact count) for
 * the ideal and the realistic camera and for a digital Gaussian sketch, with wall time and the modelled device time.
 */
import { spawnSync } from 'node:child_process';
import { CostTally, GaussianOperator, type LinearProjection, type OperatorResult, Opu } from 'opu-core';
import {
  countTriangles,
  exactTriangles,
  hutchinsonTrace,
  lowRankPlusNoise,
  randomizedSvd,
  stochasticBlockModel,
  symmetricPsd,
} from 'opu-randnla';
import { plot } from 'opu-report';
import { expectedProjectionMatrix, IDEAL_CAMERA, type SimOptions, SimulatedOpuDevice } from 'opu-sim';
import { baselineEnv, python } from './python-baseline.js';

const n = 2000;
const k = 100;
const l = 1000;
const probes = 200;
const cameras: [string, SimOptions][] = [
  ['ideal', { camera: { ...IDEAL_CAMERA }, laser: { powerFluctuationRms: 0 } }],
  ['realistic 8-bit', {}],
];
const pct = (x: number) => (Math.abs(x) < 1e-4 ? `${(100 * x).toExponential(1)}%` : `${(100 * x).toFixed(3)}%`);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function openSim(options: SimOptions, outputs: number): Promise<Opu> {
  return Opu.open(new SimulatedOpuDevice({ options: { ...options, seed: 11 } }), { inputs: n, outputs });
}

/**
 * One projection reused by every call with the same input, so that the rSVD runs for several q share Y = A·Ω;
 * `ms` keeps what it took, to charge it to each run.
 */
function reuseProjection(sketch: LinearProjection): LinearProjection & { ms: number } {
  let last: [Float32Array, Promise<OperatorResult>] | undefined;
  return {
    inputs: sketch.inputs,
    outputs: sketch.outputs,
    ms: 0,
    project(e) {
      if (last?.[0] !== e) {
        const started = performance.now();
        last = [e, sketch.project(e).finally(() => (this.ms = performance.now() - started))];
      }
      return last[1];
    },
  };
}

/** The matrix the OPU realizes, multiplied exactly: separates the sketch's randomness from the optics' errors. */
function exactProbes(opu: Opu): GaussianOperator {
  const sketch = new GaussianOperator(n, opu.outputs);
  sketch.matrix.set(expectedProjectionMatrix(opu.device as SimulatedOpuDevice, opu.layout, opu.calibration!));
  return sketch;
}

/** numpy's full SVD of a 2000 × 2000 float32 matrix (LAPACK gesdd on Debian's BLAS), the best of 5 (of fewer past a minute), in seconds; undefined without numpy. */
function numpySvdSeconds(): number | undefined {
  const code =
    'import time, numpy as np\n' +
    `a = np.random.default_rng(0).standard_normal((${n}, ${n}), dtype=np.float32)\n` +
    'best, started = float("inf"), time.perf_counter()\n' +
    'for _ in range(5):  # on the netlib reference BLAS one SVD takes minutes: stop after one\n' +
    '    t = time.perf_counter(); np.linalg.svd(a); best = min(best, time.perf_counter() - t)\n' +
    '    if time.perf_counter() - started > 60: break\n' +
    'print(best)';
  const py = python();
  if (!py) return undefined;
  const run = spawnSync(py, ['-c', code], { encoding: 'utf8', env: baselineEnv });
  return run.status === 0 ? Number(run.stdout.trim()) : undefined;
}

async function svdRows(errors: Map<string, number[]>): Promise<string[]> {
  const planted = Array.from({ length: k }, (_, i) => 100 * Math.exp(-i / 30));
  const { a, singularValues } = lowRankPlusNoise(n, n, planted, 0.02, 5);
  const relative = (s: Float64Array) => Array.from(s, (x, i) => Math.abs(x - singularValues[i]!) / singularValues[i]!);
  const rows: string[] = [];
  const run = async (label: string, sketch: LinearProjection) => {
    const shared = reuseProjection(sketch);
    for (const q of [0, 2]) {
      // Each run is charged one projection, of its own or reused, like its wall time.
      const cost = new CostTally();
      const started = performance.now();
      const { s } = await randomizedSvd(a, n, n, k, shared, { powerIterations: q, cost });
      // The q = 2 run reused the projection: charge it its time as if it had made it.
      const ms = performance.now() - started + (q === 0 ? 0 : shared.ms);
      const e = relative(s);
      errors.set(`${label}, q = ${q}`, e);
      const mean = e.reduce((sum, x) => sum + x, 0) / k;
      rows.push(
        `| rSVD top ${k}, q = ${q} | ${label} | ${pct(Math.max(...e))} max, ${pct(mean)} mean | ` +
          `${secs(ms)} | ${cost.frames === 0 ? '—' : secs(cost.deviceTimeUs / 1e3)} |`,
      );
    }
  };
  await run('digital', new GaussianOperator(n, l, 5));
  for (const [label, options] of cameras) {
    await using opu = await openSim(options, l);
    await run(`OPU ${label}`, opu);
  }
  const numpy = numpySvdSeconds();
  rows.push(
    `| SVD, exact | numpy full SVD | — | ${numpy === undefined ? 'numpy not installed' : secs(1e3 * numpy)} | — |`,
  );
  return rows;
}

async function traceRows(): Promise<string[]> {
  // Rank 500: its eigenvectors are the QR of a 2000 × 500 Gaussian matrix, its trace and ‖A‖_F known by construction.
  const eigenvalues = Array.from({ length: 500 }, (_, i) => Math.exp(-i / 100));
  const a = symmetricPsd(n, eigenvalues, 6);
  const trace = eigenvalues.reduce((s, x) => s + x, 0);
  const sigma = Math.sqrt((2 / probes) * eigenvalues.reduce((s, x) => s + x * x, 0));
  const row = (label: string, value: number, extra: string, ms: number, device: string) =>
    `| trace, ${probes} probes | ${label} | ${pct(Math.abs(value - trace) / trace)} ` +
    `(${(Math.abs(value - trace) / sigma).toFixed(2)}σ)${extra} | ${secs(ms)} | ${device} |`;
  let started = performance.now();
  const digital = await hutchinsonTrace(a, n, new GaussianOperator(n, probes, 6));
  const rows = [row('digital', digital.value, '', performance.now() - started, '—')];
  for (const [label, options] of cameras) {
    await using opu = await openSim(options, probes);
    const cost = new CostTally();
    started = performance.now();
    const optical = await hutchinsonTrace(a, n, opu, { cost });
    const ms = performance.now() - started;
    const same = await hutchinsonTrace(a, n, exactProbes(opu));
    const optics = `, optics ${pct((optical.value - same.value) / same.value)}`;
    rows.push(row(`OPU ${label}`, optical.value, optics, ms, secs(cost.deviceTimeUs / 1e3)));
  }
  return [
    ...rows,
    `| trace, exact | Σ diagonal | σ = ${pct(sigma / trace)} of the trace (Hutchinson, theory) | < 0.1 s | — |`,
  ];
}

async function triangleRows(): Promise<string[]> {
  const graph = stochasticBlockModel(n, 10, 0.1, 0.005, 7);
  let started = performance.now();
  const exact = exactTriangles(graph, n);
  const exactMs = performance.now() - started;
  const row = (label: string, value: number, se: number, ms: number, device: string) =>
    `| triangles, ${probes} probes | ${label} | ${pct(Math.abs(value - exact) / exact)} ` +
    `(± ${pct(se / exact)} standard error) | ${secs(ms)} | ${device} |`;
  started = performance.now();
  const digital = await countTriangles(graph, n, new GaussianOperator(n, probes, 7));
  const rows = [row('digital', digital.value, digital.standardError, performance.now() - started, '—')];
  for (const [label, options] of cameras) {
    await using opu = await openSim(options, probes);
    const cost = new CostTally();
    started = performance.now();
    const optical = await countTriangles(graph, n, opu, { cost });
    rows.push(
      row(
        `OPU ${label}`,
        optical.value,
        optical.standardError,
        performance.now() - started,
        secs(cost.deviceTimeUs / 1e3),
      ),
    );
  }
  return [...rows, `| triangles, exact (${exact}) | A²∘A, sgemm | — | ${secs(exactMs)} | — |`];
}

function errorPlot(errors: Map<string, number[]>): string {
  const colors = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];
  const index = Array.from({ length: k }, (_, i) => i + 1);
  return plot(
    [...errors].map(([label, e], i) => ({
      label,
      color: colors[i % colors.length]!,
      x: index,
      // Single-precision products put a floor near 1e-7 under any sketch.
      y: e.map((x) => Math.max(x, 1e-7)),
      style: 'line' as const,
      dashed: label.startsWith('digital'),
    })),
    {
      title: `Randomized SVD of a ${n} × ${n} matrix: error of each singular value`,
      xLabel: `index i (k = ${k}, ℓ = ${l})`,
      yLabel: '|σ̂ᵢ − σᵢ| / σᵢ (floored at 1e-7)',
      logY: true,
      legend: 'top-left',
    },
  );
}

export async function randnlaBenchmark(): Promise<{ lines: string[]; svgs: [string, string][] }> {
  const errors = new Map<string, number[]>();
  const rows = [...(await svdRows(errors)), ...(await traceRows()), ...(await triangleRows())];
  return {
    lines: [
      '## Randomized linear algebra (opu-randnla)',
      '',
      `Sizes of lightonml’s RandNLA notebook: ${n} × ${n} matrices, ${probes} probes. Randomized SVD: rank ${k} ` +
        `planted (σᵢ = 100·e^(−i/30)) over a noise floor, ℓ = ${l} as in the notebook (the QR and the SVD of the ` +
        `ℓ × ${n} sketch are opu-native’s float64 kernels), errors against the planted values. Trace: PSD of rank ` +
        '500 with eigenvalues e^(−i/100) (two projections; "optics" is the estimate against the same probes ' +
        'multiplied exactly). Triangles: 10-community stochastic block graph (0.1 within, 0.005 across). Wall ' +
        'time is this machine simulating; device time is the modelled OPU’s frames (real rows: 2 × 8 bit planes ' +
        '× (1 + references) frames each; binary adjacency rows take the 2-piece ternary path).',
      '',
      '| task | sketch | error vs exact | wall time | OPU device time |',
      '|---|---|---|---|---|',
      ...rows,
      '',
      '![randomized SVD error per singular value](randnla-svd-error.svg)',
      '',
    ],
    svgs: [['docs/randnla-svd-error.svg', errorPlot(errors)]],
  };
}
