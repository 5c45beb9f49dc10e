/**
 * Randomized numerical linear algebra with the OPU's projection as the sketch (Hesslow et al. 2021): randomized
 * SVD, Hutchinson's trace and a triangle count on the simulated OPU, each against the exact answer and a digital
 * Gaussian sketch of the same size.
 *
 *   npx tsx examples/randnla.ts              # realistic 8-bit camera, seed 7
 *   npx tsx examples/randnla.ts ideal 3      # ideal camera, seed 3
 */
import { CostTally, GaussianOperator, openOpu } from 'opu-core';
import 'opu-sim';
import {
  countTriangles,
  type Estimate,
  exactTriangles,
  hutchinsonTrace,
  lowRankPlusNoise,
  randomizedSvd,
  stochasticBlockModel,
  symmetricPsd,
} from 'opu-randnla';

const camera = process.argv[2] ?? 'realistic';
const seed = Number(process.argv[3] ?? 7);
const n = 256;
const url = (outputs: number) => `sim://?inputs=${n}&outputs=${outputs}&seed=${seed}&camera=${camera}`;
const pct = (x: number) => `${(100 * x).toFixed(3)}%`;
const seconds = (started: number) => `${((performance.now() - started) / 1000).toFixed(2)} s`;

console.log(`opu-randnla on the simulated OPU: ${camera} camera, seed ${seed} (outputs = the sketch size)`);

// Randomized SVD: rank 10 planted over a noise floor, so the exact top singular values are known.
{
  const k = 10;
  const l = 40;
  const planted = Array.from({ length: k }, (_, i) => 100 * 0.8 ** i);
  const { a, singularValues } = lowRankPlusNoise(n, n, planted, 0.3, seed);
  await using opu = await openOpu(url(l));
  const started = performance.now();
  const optical = await randomizedSvd(a, n, n, k, opu, { powerIterations: 2, oversampling: l - k });
  const time = seconds(started);
  const digital = await randomizedSvd(a, n, n, k, new GaussianOperator(n, l, seed), { powerIterations: 2 });
  const worst = (s: Float64Array) =>
    Math.max(...Array.from(s, (x, i) => Math.abs(x - singularValues[i]!) / singularValues[i]!));
  console.log(`\nrandomized SVD of a ${n} × ${n} matrix, k = ${k}, ℓ = ${l}, 2 power iterations (${time})`);
  console.log('  i   exact      OPU        digital');
  for (let i = 0; i < k; i++) {
    const cells = [singularValues[i]!, optical.s[i]!, digital.s[i]!].map((x) => x.toFixed(4).padStart(9));
    console.log(`  ${String(i + 1).padStart(2)} ${cells.join('  ')}`);
  }
  console.log(`  rSVD: ${pct(worst(optical.s))} largest error with the OPU, ${pct(worst(digital.s))} digital`);
}

const p = 64;
await using opu = await openOpu(url(p));
const cost = new CostTally();
const report = (label: string, estimate: Estimate, exact: number, started: number) =>
  console.log(
    `  ${label}: ${estimate.value.toFixed(2)} ± ${estimate.standardError.toFixed(2)} against ${exact.toFixed(2)} ` +
      `exact, ${pct(Math.abs(estimate.value - exact) / exact)} off, ` +
      `${(Math.abs(estimate.value - exact) / estimate.standardError).toFixed(2)} standard errors (${seconds(started)})`,
  );

// Hutchinson: a PSD matrix with eigenvalues e^(−i/64), trace known by construction.
{
  const eigenvalues = Array.from({ length: n }, (_, i) => Math.exp(-i / 64));
  const a = symmetricPsd(n, eigenvalues, seed);
  const started = performance.now();
  const estimate = await hutchinsonTrace(a, n, opu, { cost });
  console.log(`\nHutchinson trace of a ${n} × ${n} PSD matrix, ${p} probes (two projections)`);
  report(
    'trace',
    estimate,
    eigenvalues.reduce((s, x) => s + x, 0),
    started,
  );
}

// Triangles: a stochastic block model (4 communities of 64), exact count by one n³ product.
{
  const graph = stochasticBlockModel(n, 4, 0.3, 0.05, seed);
  const started = performance.now();
  const estimate = await countTriangles(graph, n, opu, { cost });
  console.log(`\ntriangles of a ${n}-node stochastic block graph, ${p} probes (one projection)`);
  report('triangles', estimate, exactTriangles(graph, n), started);
}

console.log(
  `\nOPU cost of the trace and triangles: ${cost.frames} frames, ` +
    `${(cost.deviceTimeUs / 1e6).toFixed(1)} s of modelled device time`,
);
