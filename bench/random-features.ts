/**
 * Optical random features on MNIST: test error of |Rx|² features (simulated OPU, default realistic camera) + ridge
 * for 1 000 to 20 000 features on the full 60 000/10 000 split, with the time of each step, against a linear ridge
 * classifier on the pixels and exact kernel ridge (the features' kernel, i.e. infinitely many features, and an RBF
 * kernel) on a training subset. About 6 minutes on 2 cores. Returns markdown lines and an SVG plot. Run it alone in
 * a process (bench/random-features-process.ts): the peak RSS it reports is the process's.
 */

import { type Dataset, loadMnist, subset } from 'dfa-nn';
import { Opu } from 'opu-core';
import { evaluateKernelRidge, evaluateLinearRidge, evaluateOpticalRandomFeatures } from 'opu-learn';
import { plot } from 'opu-report';
import { SimulatedOpuDevice } from 'opu-sim';
import { peakRssMb } from './peak-rss.js';

export interface RandomFeaturesBenchmarkOptions {
  trainRows: number;
  testRows: number;
  featureCounts: number[];
  /** Training rows of the exact kernel baselines: their cost grows as rows³ (3 000 rows: about 10 s). */
  kernelRows: number;
}

const FULL: RandomFeaturesBenchmarkOptions = {
  trainRows: 60_000,
  testRows: 10_000,
  featureCounts: [1000, 2000, 5000, 10_000, 20_000],
  kernelRows: 3000,
};

const percent = (error: number) => `${(100 * error).toFixed(2)}%`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export async function randomFeaturesBenchmark(
  options: RandomFeaturesBenchmarkOptions = FULL,
): Promise<{ lines: string[]; svgs: [string, string][] }> {
  const train = loadMnist('train', options.trainRows);
  const test = loadMnist('test', options.testRows);
  const largest = Math.max(...options.featureCounts);
  console.error(`random features: ${train.rows} training images, up to ${largest} features …`);
  await using opu = await Opu.open(new SimulatedOpuDevice({ options: { seed: 21 } }), {
    inputs: train.features,
    outputs: largest,
  });
  let lastReport = 0;
  const optical = await evaluateOpticalRandomFeatures({
    operator: opu,
    train,
    test,
    featureCounts: options.featureCounts,
    // The test error stops changing near a 1e-2 residual (docs/random-features.md); 1e-3 would double the CG time.
    ridge: { tolerance: 1e-2 },
    onProgress: (message) => {
      if (performance.now() - lastReport < 10_000 && !message.includes('features')) return;
      lastReport = performance.now();
      console.error(`  ${message}`);
    },
  });
  const linear = evaluateLinearRidge(train, test);
  const kernelTrain: Dataset = subset(
    train,
    Array.from({ length: Math.min(options.kernelRows, train.rows) }, (_, i) => i),
  );
  const perLitKernel = evaluateKernelRidge(kernelTrain, test, 'optical-per-lit');
  const opticalKernel = evaluateKernelRidge(kernelTrain, test, 'optical');
  const rbf = evaluateKernelRidge(kernelTrain, test, 'rbf', { relativeLambda: 0.001 });
  const opticalOnSubset = await evaluateOpticalRandomFeatures({
    operator: opu,
    train: kernelTrain,
    test,
    featureCounts: [largest],
    ridge: { tolerance: 1e-2 },
  });

  const peakMb = peakRssMb();
  const lines = [
    '## Optical random features on MNIST',
    '',
    `Binarized pixels (> 0.25) on a simulated OPU (default 8-bit camera), features |Rx|² divided by the lit count ` +
      `and standardized, ridge classifier with λ = 0.2 × features, CG to a 1e-2 residual (docs/random-features.md). ${train.rows} training and ` +
      `${test.rows} test images; measuring ${train.rows + test.rows} images × ${largest} features took ` +
      `${seconds(optical.transformMs)}; smaller counts are the first camera pixels of that measurement. The features ` +
      `are never stored whole: the training features stream into their ${largest}² Gram matrix ` +
      `(${seconds(optical.gramMs)}, shared by every fit), the test features into predictions; the train error is ` +
      `that of a second measurement of the training images. Peak RSS of the whole benchmark (its own process): ` +
      `**${(peakMb / 1024).toFixed(2)} GB**.`,
    '',
    '| features | test error | train error | solver | fit |',
    '|---:|---:|---:|---|---:|',
    ...optical.results.map((r) => {
      const d = r.diagnostics;
      const solver = d?.solver === 'cg' ? `CG, ${d.iterations} iterations` : `${d?.solver} Cholesky`;
      return `| ${r.features} | ${percent(r.testError)} | ${percent(r.trainError)} | ${solver} | ${seconds(r.fitMs)} |`;
    }),
    '',
    '| baseline | training rows | test error | fit |',
    '|---|---:|---:|---:|',
    `| linear ridge on pixels (λ = 1000) | ${train.rows} | ${percent(linear.testError)} | ${seconds(linear.fitMs)} |`,
    `| optical random features, ${largest} | ${kernelTrain.rows} | ` +
      `${percent(opticalOnSubset.results[0]!.testError)} | ${seconds(opticalOnSubset.results[0]!.fitMs)} |`,
    `| exact kernel of those features, 1 + cos²(x, x') | ${kernelTrain.rows} | ${percent(perLitKernel.testError)} | ` +
      `${seconds(perLitKernel.fitMs)} |`,
    `| exact optical kernel ‖x‖²‖x'‖² + ⟨x,x'⟩² (raw features) | ${kernelTrain.rows} | ` +
      `${percent(opticalKernel.testError)} | ${seconds(opticalKernel.fitMs)} |`,
    `| exact RBF kernel on pixels | ${kernelTrain.rows} | ${percent(rbf.testError)} | ${seconds(rbf.fitMs)} |`,
    '',
    '![MNIST test error against the number of optical random features](random-features-error.svg)',
    '',
  ];
  const svg = plot(
    [
      {
        label: `optical features + ridge (${train.rows} images)`,
        color: '#1f77b4',
        x: optical.results.map((r) => r.features),
        y: optical.results.map((r) => 100 * r.testError),
        style: 'line',
      },
    ],
    {
      title: 'MNIST: optical random features + ridge',
      xLabel: 'features (camera pixels)',
      yLabel: 'test error (%)',
      logX: true,
      legend: 'top-right',
      references: [
        { axis: 'y', value: 100 * linear.testError, label: 'linear on pixels', color: '#d62728' },
        {
          axis: 'y',
          value: 100 * perLitKernel.testError,
          label: `exact kernel, ${kernelTrain.rows} images`,
          color: '#2ca02c',
        },
      ],
    },
  );
  return { lines, svgs: [['docs/random-features-error.svg', svg]] };
}
