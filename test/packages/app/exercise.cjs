// What a user's app does with the installed packages, whichever way it loaded them: the modules come in as
// arguments, from `import` (esm.mjs), from `require` (cjs.cjs) or from both (mixed.mjs). Prints one JSON line.
const assert = require('node:assert/strict');

exports.exercise = async function exercise({ native, core, sim, dfa }) {
  const expected = process.env.EXPECT_KERNELS ?? 'native';
  assert.equal(native.kernels.backend, expected, `the ${expected} kernels should run`);
  assert.deepEqual(
    core.registeredBackends().map((backend) => backend.scheme),
    ['sim'],
    'opu-sim registered sim:// in the one registry',
  );

  const inputs = 64;
  const outputs = 128;
  const rows = 8;
  const opu = await core.openOpu(`sim://?inputs=${inputs}&outputs=${outputs}&seed=7`);
  let projectionError;
  try {
    const random = core.seededUniform(1);
    const e = Float32Array.from({ length: rows * inputs }, () => 2 * random() - 1);
    const projected = await opu.project(e);
    assert.equal(projected.data.length, rows * outputs);
    projectionError = sim.projectionErrorAgainstTruth(opu, e, projected.data);
    assert.ok(projectionError < 0.15, `project() is within 15% of the simulator's true matrix (${projectionError})`);
    const x = Uint8Array.from({ length: rows * inputs }, () => (random() < 0.5 ? 1 : 0));
    const features = await opu.transform(x);
    assert.equal(features.data.length, rows * outputs);
    // Dark-subtracted intensities: finite, noise may take a faint one below 0, their mean is a positive power.
    assert.ok(features.data.every(Number.isFinite), 'finite intensities');
    assert.ok(features.data.reduce((sum, value) => sum + value, 0) > 0, 'a positive mean intensity');
  } finally {
    await opu.close();
  }

  // A small DFA network on MNIST, its feedback projected by the simulated OPU.
  const hidden = [64];
  const train = dfa.loadMnist('train', 1000);
  const test = dfa.loadMnist('test', 500);
  const feedback = await core.openOpu(`sim://?inputs=10&outputs=${hidden[0]}&seed=3`);
  let state;
  try {
    const model = new dfa.Mlp({ sizes: [784, ...hidden, 10], activation: 'tanh', hiddenInit: 'zero', seed: 1 });
    const trainer = new dfa.Trainer(model, {
      algorithm: 'dfa',
      projector: new dfa.TernarizedProjection(feedback, 0.1),
      optimizer: { name: 'sgd', learningRate: 0.3, momentum: 0.9 },
      seed: 1,
    });
    state = await dfa.runTraining(trainer, { train, test, epochs: 1, batchSize: 50 });
  } finally {
    await feedback.close();
  }
  const testError = state.history.at(-1).testError;
  assert.ok(testError < 0.5, `DFA through the simulated OPU learns (test error ${testError} < 0.5)`);

  let refused;
  try {
    await core.openOpu('sim://?inputs=0');
  } catch (error) {
    refused = error;
  }
  assert.ok(refused instanceof core.OpuError, 'a typed error, instanceof the OpuError the app loaded');

  console.log(JSON.stringify({ kernels: native.kernels.backend, projectionError, testError }));
};
