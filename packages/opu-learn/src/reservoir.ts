import { ArgumentError, type CostTally, type IntensityFeatures, ThermometerEncoder } from 'opu-core';
import { fitRidge, predictRidge } from './ridge.js';

export interface ReservoirOptions {
  /** Thermometer levels of the input: `levels − 1` bits, thresholds evenly spaced over the training range. */
  inputLevels?: number;
  /**
   * Copies of the input bits on the DMD. The state has as many bits as features, half of them lit; copies give the
   * input its share of the light, hence of the field (input scaling, in echo-state terms).
   */
  inputCopies?: number;
  /** Leak rate α: s_t = (1 − α)·s_{t−1} + α·f_t. 1 keeps no memory beyond what the feedback carries. */
  leak?: number;
  /** Every step's `transform()` cost (frames, device and wall time, retries) is added to this tally. */
  cost?: CostTally;
}

export interface RunOptions {
  /**
   * Independent pieces of the series run side by side, one DMD frame each per acquisition: the recurrence is
   * sequential in time, so this is what fills the OPU's batches.
   */
  chunks?: number;
  /** Steps each piece but the first runs before its start, so that it starts from a state that forgot its zero. */
  washout?: number;
}

/** DMD elements and camera features a reservoir needs: pass them to `Opu.open()` or `new GaussianOperator()`. */
export function reservoirShape(stateSize: number, options: ReservoirOptions = {}): { inputs: number; outputs: number } {
  const { inputLevels, inputCopies } = resolve(options);
  return { inputs: (inputLevels - 1) * inputCopies + stateSize, outputs: stateSize };
}

/**
 * A reservoir computer whose recurrent layer is a scattering medium (Rafayelyan, Dong, Gigan & Krzakala, Phys.
 * Rev. X 10, 041037, 2020): at each step the DMD shows [thermometer code of u_t, in copies ; binary code of s_{t−1}],
 * the camera reads f = |R x|², and the state is the leaky average s_t = (1 − α)·s_{t−1} + α·f/mean(f).
 *
 * Why these codes: the thermometer keeps nearby inputs on nearby frames (one bit per threshold crossed), so the
 * features vary smoothly with u. The state lights the features above its median: always half its elements, so the
 * light on the DMD (hence exposure and mean intensity) stays constant whatever the dynamics, and each bit carries as
 * much as one bit can. But one flipped bit adds a whole random column to every output, so with the state as bright
 * as the input the loop is chaotic: two runs of the same series from different states stay apart (30% relative
 * distance after 300 steps with 2 copies, no echo-state property). 16 copies of the 63 input bits against 256 state
 * bits make the input dominate the field: the runs come within 4% after 100 steps and 2% after 300 (the feedback
 * still flips a few bits), and the leak gives the memory back.
 * The readout (ridge regression) sees the real-valued states.
 */
export class OpticalReservoir {
  /**
   * The random map iterated: binary rows to |R x|² in units of one lit element's mean intensity, an `Opu` or its
   * digital twin `GaussianOperator` (a seeded complex Gaussian R, the same units, no camera noise).
   */
  readonly map: IntensityFeatures;
  readonly inputLevels: number;
  readonly inputCopies: number;
  readonly leak: number;
  /** The tally given in the options, to which every step's cost is added. */
  readonly cost: CostTally | undefined;
  readonly #encoder: ThermometerEncoder;
  #fitted = false;

  constructor(map: IntensityFeatures, options: ReservoirOptions = {}) {
    const resolved = resolve(options);
    const { inputs, outputs } = reservoirShape(map.outputs, resolved);
    if (map.inputs !== inputs || map.outputs !== outputs) {
      throw new ArgumentError(`has ${map.inputs} inputs, the reservoir needs ${inputs}`, {
        field: 'map.inputs',
        fix: 'open the OPU (or build the GaussianOperator) with reservoirShape(stateSize, options)',
      });
    }
    this.map = map;
    ({ inputLevels: this.inputLevels, inputCopies: this.inputCopies, leak: this.leak } = resolved);
    this.cost = options.cost;
    this.#encoder = new ThermometerEncoder({ levels: this.inputLevels });
  }

  get stateSize(): number {
    return this.map.outputs;
  }

  /** Learns the input thresholds from a training series. */
  fitInput(series: Float32Array): this {
    this.#encoder.fit(series, 1);
    this.#fitted = true;
    return this;
  }

  /**
   * The states s_t (`steps × stateSize`) driven by a scalar `series`, from a zero state. Pieces after the
   * first start `washout` steps early; the first piece's first `washout` states still remember the zero start, so
   * leave them out of the readout's training.
   */
  async run(series: Float32Array, options: RunOptions = {}): Promise<Float32Array> {
    if (!this.#fitted) {
      throw new ArgumentError('is not fitted', { field: 'OpticalReservoir', fix: 'call fitInput(trainingSeries)' });
    }
    const steps = series.length;
    const n = this.stateSize;
    const chunks = Math.min(options.chunks ?? 1, steps);
    const washout = options.washout ?? 0;
    const length = Math.ceil(steps / chunks);
    const pieces = Array.from({ length: chunks }, (_, c) => {
      const start = c * length;
      return { start, from: Math.max(0, start - washout), end: Math.min(steps, start + length) };
    }).filter((p) => p.start < p.end);
    const inputBits = this.map.inputs - n;
    const code = this.#encoder.encode(series, 1);
    const codeWidth = this.inputLevels - 1;
    const states = pieces.map(() => new Float32Array(n));
    const bits = pieces.map(() => new Uint8Array(n));
    const out = new Float32Array(steps * n);
    const longest = Math.max(...pieces.map((p) => p.end - p.from));
    for (let j = 0; j < longest; j++) {
      const active = pieces.flatMap((p, c) => (p.from + j < p.end ? [c] : []));
      const frames = new Uint8Array(active.length * this.map.inputs);
      active.forEach((c, row) => {
        const t = pieces[c]!.from + j;
        const frame = frames.subarray(row * this.map.inputs, (row + 1) * this.map.inputs);
        for (let k = 0; k < this.inputCopies; k++)
          frame.set(code.subarray(t * codeWidth, (t + 1) * codeWidth), k * codeWidth);
        frame.set(bits[c]!, inputBits);
      });
      const { data: f, meta } = await this.map.transform(frames);
      this.cost?.add(meta);
      active.forEach((c, row) => {
        const t = pieces[c]!.from + j;
        this.#update(states[c]!, f.subarray(row * n, (row + 1) * n));
        medianBits(states[c]!, bits[c]!);
        if (t >= pieces[c]!.start) out.set(states[c]!, t * n);
      });
    }
    return out;
  }

  /** s ← (1 − α)·s + α·f/mean(f): unit mean removes the laser's power and the lit count from the state. */
  #update(state: Float32Array, f: Float32Array) {
    let sum = 0;
    for (const v of f) sum += v;
    const scale = sum > 0 ? (this.leak * f.length) / sum : 0;
    for (let i = 0; i < state.length; i++) state[i] = (1 - this.leak) * state[i]! + scale * f[i]!;
  }
}

/** bits_i = s_i > median(s). */
function medianBits(state: Float32Array, bits: Uint8Array) {
  const sorted = Float32Array.from(state).sort();
  const median = sorted[sorted.length >> 1]!;
  for (let i = 0; i < state.length; i++) bits[i] = state[i]! > median ? 1 : 0;
}

function resolve(options: ReservoirOptions): Required<Omit<ReservoirOptions, 'cost'>> {
  const { inputLevels = 64, inputCopies = 16, leak = 0.1 } = options;
  for (const [field, value, min] of [
    ['inputLevels', inputLevels, 2],
    ['inputCopies', inputCopies, 1],
  ] as const) {
    if (!Number.isInteger(value) || value < min) {
      throw new ArgumentError(`${value} is not an integer ≥ ${min}`, {
        field: `options.${field}`,
        fix: `pass an integer ≥ ${min}`,
      });
    }
  }
  if (!(leak > 0 && leak <= 1)) {
    throw new ArgumentError(`${leak} is not in (0, 1]`, { field: 'options.leak', fix: 'pass a leak rate in (0, 1]' });
  }
  return { inputLevels, inputCopies, leak };
}

/** How a series is split for forecasting: the readout learns on [washout, train), is tested on [train, end − h). */
export interface ForecastSplit {
  /** Steps whose targets train the readout (the first `washout` excluded). */
  train: number;
  /** Leading steps left out of the readout's training, and the warm-up of each reservoir piece (`RunOptions`). */
  washout: number;
  /** Steps ahead predicted, one readout target each (direct forecasting: no prediction is fed back). */
  horizons: readonly number[];
}

/** Predictions of u_{t+h} for each test step t and horizon h, against the truth. */
export interface Forecast {
  horizons: readonly number[];
  /** Test steps: [train, length − max horizon). */
  rows: number;
  /** rows × horizons. */
  predictions: Float32Array;
  /** rows × horizons. */
  truth: Float32Array;
  /** Root-mean-square error over the truth's standard deviation, per horizon: 1 is predicting the mean. */
  nrmse: number[];
}

/**
 * Ridge readout from per-step features (`length × width`, row t known at time t) to u_{t+h} for every horizon:
 * the common last stage of the reservoir and the autoregressive baseline.
 */
export function forecastFromFeatures(
  features: Float32Array,
  width: number,
  series: Float32Array,
  split: ForecastSplit,
  lambda: number,
): Forecast {
  const { train, washout, horizons } = split;
  const longest = Math.max(...horizons);
  const rows = series.length - longest - train;
  if (!(washout < train && rows > 0)) {
    throw new ArgumentError(`leaves no training or test steps in ${series.length}`, {
      field: 'split',
      fix: 'make washout < train < length − the longest horizon',
    });
  }
  const targets = (from: number, to: number) => {
    const y = new Float32Array((to - from) * horizons.length);
    for (let t = from; t < to; t++) {
      horizons.forEach((h, k) => {
        y[(t - from) * horizons.length + k] = series[t + h]!;
      });
    }
    return y;
  };
  const fit = fitRidge(
    features.subarray(washout * width, train * width),
    train - washout,
    width,
    targets(washout, train),
    horizons.length,
    lambda,
  );
  const predictions = predictRidge(fit, features.subarray(train * width, (train + rows) * width), rows);
  return withNrmse(horizons, predictions, targets(train, train + rows));
}

/**
 * The reservoir's forecast: states over the whole series (in `chunks` pieces, each warmed up for `washout` steps),
 * and a ridge readout of [s_t ; u_t]: the input itself is a feature, as in echo-state networks, so the states need
 * only carry what u_t does not.
 */
export async function reservoirForecast(
  reservoir: OpticalReservoir,
  series: Float32Array,
  split: ForecastSplit & { lambda: number; chunks?: number },
): Promise<Forecast> {
  const states = await reservoir.run(series, { chunks: split.chunks, washout: split.washout });
  const n = reservoir.stateSize;
  const width = n + 1;
  const features = new Float32Array(series.length * width);
  for (let t = 0; t < series.length; t++) {
    features.set(states.subarray(t * n, (t + 1) * n), t * width);
    features[t * width + n] = series[t]!;
  }
  return forecastFromFeatures(features, width, series, split, split.lambda);
}

/** Linear autoregression: u_{t+h} from u_t … u_{t−lags+1} by ridge (the washout must cover the lags). */
export function autoregressiveForecast(series: Float32Array, lags: number, split: ForecastSplit, lambda: number) {
  const features = new Float32Array(series.length * lags);
  for (let t = 0; t < series.length; t++) {
    for (let k = 0; k < lags; k++) features[t * lags + k] = series[Math.max(0, t - k)]!;
  }
  return forecastFromFeatures(features, lags, series, split, lambda);
}

/** Persistence: u_{t+h} = u_t, the forecast any model must beat. */
export function persistenceForecast(series: Float32Array, split: ForecastSplit): Forecast {
  const { train, horizons } = split;
  const rows = series.length - Math.max(...horizons) - train;
  const predictions = new Float32Array(rows * horizons.length);
  const truth = new Float32Array(rows * horizons.length);
  for (let r = 0; r < rows; r++) {
    horizons.forEach((h, k) => {
      predictions[r * horizons.length + k] = series[train + r]!;
      truth[r * horizons.length + k] = series[train + r + h]!;
    });
  }
  return withNrmse(horizons, predictions, truth);
}

function withNrmse(horizons: readonly number[], predictions: Float32Array, truth: Float32Array): Forecast {
  const rows = truth.length / horizons.length;
  const nrmse = horizons.map((_, k) => {
    let mean = 0;
    for (let r = 0; r < rows; r++) mean += truth[r * horizons.length + k]!;
    mean /= rows;
    let error = 0;
    let variance = 0;
    for (let r = 0; r < rows; r++) {
      const y = truth[r * horizons.length + k]!;
      error += (predictions[r * horizons.length + k]! - y) ** 2;
      variance += (y - mean) ** 2;
    }
    return Math.sqrt(error / variance);
  });
  return { horizons, rows, predictions, truth, nrmse };
}
