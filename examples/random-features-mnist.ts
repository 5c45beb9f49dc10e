/**
 * Optical random features on MNIST: binarized digits through the simulated OPU (|Rx|², default realistic camera),
 * a ridge classifier on those features for each feature count, against a linear ridge classifier on the pixels and
 * exact kernel ridge (the features' kernel 1 + cos²(x, x'), their limit as their number grows, and an RBF kernel) on
 * a subset.
 *
 *   npx tsx examples/random-features-mnist.ts
 *   npx tsx examples/random-features-mnist.ts --features 1000,5000,10000 --train 60000 --test 10000 --kernel-rows 3000
 */
import { parseArgs } from 'node:util';
import { loadMnist, subset } from 'dfa-nn';
import { Opu } from 'opu-core';
import { evaluateKernelRidge, evaluateLinearRidge, evaluateOpticalRandomFeatures } from 'opu-learn';
import { SimulatedOpuDevice } from 'opu-sim';

const usageError = (message: string): never => {
  console.error(`${message}; see --help`);
  process.exit(2);
};
const { values } = (() => {
  try {
    return parseArgs({
      options: {
        features: { type: 'string', default: '1000,2000,5000' },
        train: { type: 'string', default: '10000' },
        test: { type: 'string', default: '10000' },
        'kernel-rows': { type: 'string', default: '2000' },
        lambda: { type: 'string', default: '0.2' },
        seed: { type: 'string', default: '1' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    return usageError((error as Error).message.split('\n')[0]!);
  }
})();
if (values.help) {
  console.log(`usage: npx tsx examples/random-features-mnist.ts [options]
  --features 1000,2000,5000   feature counts (camera pixels) to fit
  --train 10000  --test 10000 MNIST images (at most 60000 and 10000)
  --kernel-rows 2000          training images of the exact kernel baselines, at most --train (cost ∝ rows³; 0 skips)
  --lambda 0.2                ridge λ per feature on standardized features
  --seed 1                    simulated medium`);
  process.exit(0);
}
const whole = (name: string, text: string, min: number, max: number): number => {
  const value = Number(text);
  return Number.isInteger(value) && value >= min && value <= max
    ? value
    : usageError(`--${name} ${text} is not a whole number in [${min}, ${max}]`);
};
const featureCounts = values.features.split(',').map((f) => whole('features', f, 1, 100_000));
const train = loadMnist('train', whole('train', values.train, 10, 60_000));
const test = loadMnist('test', whole('test', values.test, 1, 10_000));
const kernelRows = Math.min(train.rows, whole('kernel-rows', values['kernel-rows'], 0, 10_000));
const relativeLambda = Number(values.lambda);
if (!(relativeLambda >= 0)) usageError(`--lambda ${values.lambda} is not a number ≥ 0`);
const percent = (error: number) => `${(100 * error).toFixed(2)}%`.padStart(7);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

await using opu = await Opu.open(
  new SimulatedOpuDevice({ options: { seed: whole('seed', values.seed, 0, 2 ** 32 - 1) } }),
  { inputs: train.features, outputs: Math.max(...featureCounts) },
);
console.log(`MNIST: ${train.rows} training, ${test.rows} test images`);
const optical = await evaluateOpticalRandomFeatures({
  operator: opu,
  train,
  test,
  featureCounts,
  relativeLambda,
});
console.log(`optical features measured in ${seconds(optical.transformMs)}`);
for (const r of optical.results) {
  const d = r.diagnostics;
  const solver = d?.solver === 'cg' ? `CG ${d.iterations} iterations` : `${d?.solver} Cholesky`;
  console.log(
    `optical random features ${String(r.features).padStart(6)}: test error ${percent(r.testError)}` +
      ` (train ${percent(r.trainError)}, ${solver}, ${seconds(r.fitMs)})`,
  );
}
const linear = evaluateLinearRidge(train, test);
console.log(`linear ridge on pixels:          test error ${percent(linear.testError)} (${seconds(linear.fitMs)})`);
if (kernelRows > 0) {
  const small = subset(
    train,
    Array.from({ length: kernelRows }, (_, i) => i),
  );
  const exact = evaluateKernelRidge(small, test, 'optical-per-lit');
  const rbf = evaluateKernelRidge(small, test, 'rbf', { relativeLambda: 0.001 });
  console.log(
    `exact optical kernel, ${kernelRows} images: test error ${percent(exact.testError)} (${seconds(exact.fitMs)})`,
  );
  console.log(
    `exact RBF kernel, ${kernelRows} images:     test error ${percent(rbf.testError)} (${seconds(rbf.fitMs)})`,
  );
}
