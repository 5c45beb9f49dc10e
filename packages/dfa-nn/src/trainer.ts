import { ArgumentError, type CostTally, GaussianOperator, type LinearProjection, seededNormal } from 'opu-core';
import { kernels } from 'opu-native';
import { type Dataset, permutation, subset } from './dataset.js';
import { computeLoss, type LossName } from './losses.js';
import type { ForwardPass, Mlp } from './model.js';
import { Optimizer, type OptimizerOptions, type Schedule } from './optimizers.js';
import { FRESH, Workspace } from './workspace.js';

/** The training algorithms, for command lines and configuration files. */
export const ALGORITHMS = ['bp', 'fa', 'dfa', 'ifa', 'shallow'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];
/**
 * How the projection e·Bᵀ (B i.i.d. N(0, 1)) becomes each hidden layer's feedback (reference §6):
 * - 'nokland': a separate block of B per layer, scaled to variance 1/(3·n_l) (Nøkland's U[−1/√n_l, 1/√n_l]);
 * - 'tinydfa': one shared block of max n_l rows, each layer takes its first n_l, variance 1/(3·max n_l);
 * - 'principled-dfa': one shared block, variance 1/(classes · n_l) (Launay et al.: N(0, 1)/√(max n_l · classes),
 *   rescaled per layer by √(max n_l / n_l)).
 */
export const FEEDBACK_SCALES = ['nokland', 'tinydfa', 'principled-dfa'] as const;
export type FeedbackScale = (typeof FEEDBACK_SCALES)[number];

export interface TrainerOptions {
  algorithm: Algorithm;
  loss?: LossName;
  optimizer: OptimizerOptions;
  schedule?: Schedule;
  /** 'mean' gives δ_L = e / batch (PyTorch's default); 'sum' gives e (Nøkland's code). Learning rates differ. */
  reduction?: 'mean' | 'sum';
  /**
   * DFA and IFA: the feedback projection e·Bᵀ, from the classes to (at least) the rows the feedback needs: an `Opu`,
   * a `GaussianOperator`, a `TernarizedProjection` of either, any `LinearProjection`. Default
   * `new GaussianOperator(classes, rows, seed + 1)`.
   */
  projector?: LinearProjection;
  /** DFA and IFA: every projection's cost (frames, device and wall time, retries) is added to this tally. */
  cost?: CostTally;
  feedbackScale?: FeedbackScale;
  /**
   * DFA and IFA: a factor on every hidden layer's feedback after the scaling (default 1). With SGD it sets how fast
   * the hidden layers learn against the output layer, which gets the true gradient (docs/dfa-nn.md has a sweep);
   * Adam normalizes it away.
   */
  feedbackGain?: number;
  /** FA: the feedback matrix of each layer l ≥ 1 (shape of W_l), replacing W_lᵀ; default seeded Gaussian. */
  faMatrices?: Float32Array[];
  /**
   * DFA and IFA, opt-in: in trainEpoch, the feedback projection of batch t runs while batch t + 1's forward pass is
   * computed, so a slow projector (an OPU) overlaps with the CPU. Batch t + 1 then sees the weights from before
   * batch t's update: a one-step delay, which changes the numbers but not what DFA converges to.
   */
  overlapProjection?: boolean;
  seed?: number;
}

export interface BatchResult {
  loss: number;
  errors: number;
}

export interface LayerAlignment {
  /** Mean and standard deviation over samples of cos(δ_l of the algorithm, δ_l of backpropagation). */
  meanCosine: number;
  stdCosine: number;
  angleDeg: number;
}

/** A batch whose forward pass is done and whose feedback projection is in flight. */
interface InFlightBatch {
  pass: ForwardPass;
  deltas: (Float32Array | undefined)[];
  projection: Promise<Float32Array>;
  workspace: Workspace;
  result: BatchResult;
}

/** Trains an Mlp with one of the algorithms; the same model trains under any of them. */
export class Trainer {
  readonly model: Mlp;
  readonly algorithm: Algorithm;
  readonly loss: LossName;
  readonly reduction: 'mean' | 'sum';
  readonly optimizer: Optimizer;
  readonly schedule: Schedule | undefined;
  readonly projector: LinearProjection | undefined;
  /** The tally given in the options, to which every projection's cost is added. */
  readonly cost: CostTally | undefined;
  readonly feedbackScale: FeedbackScale;
  readonly feedbackGain: number;
  readonly faMatrices: Float32Array[];
  readonly overlapProjection: boolean;
  readonly seed: number;
  /** Row offset of each hidden layer's slice of the projection. */
  readonly #offsets: number[];
  /** Re-measurements the projector reported (an OPU whose medium drifted): its B changed that many times. */
  #recalibrations = 0;
  /** trainBatch's arrays, reused from batch to batch; the overlapped loop alternates between two. */
  readonly #workspaces = [new Workspace(), new Workspace()];

  constructor(model: Mlp, options: TrainerOptions) {
    if (!ALGORITHMS.includes(options.algorithm)) {
      throw new ArgumentError(`'${options.algorithm}' is not a training algorithm`, {
        field: 'algorithm',
        fix: `use one of ${ALGORITHMS.join(', ')}`,
      });
    }
    this.model = model;
    this.algorithm = options.algorithm;
    this.loss = options.loss ?? 'softmax-cross-entropy';
    this.reduction = options.reduction ?? 'mean';
    this.optimizer = new Optimizer(options.optimizer);
    this.schedule = options.schedule;
    this.feedbackScale = options.feedbackScale ?? 'nokland';
    this.feedbackGain = options.feedbackGain ?? 1;
    if (!(this.feedbackGain > 0 && Number.isFinite(this.feedbackGain))) {
      throw new ArgumentError(`${options.feedbackGain} is not a positive gain`, {
        field: 'feedbackGain',
        fix: 'pass a positive number, e.g. 1 or 3',
      });
    }
    if (!FEEDBACK_SCALES.includes(this.feedbackScale)) {
      throw new ArgumentError(`'${this.feedbackScale}' is not a feedback scaling`, {
        field: 'feedbackScale',
        fix: `use one of ${FEEDBACK_SCALES.join(', ')}`,
      });
    }
    this.seed = options.seed ?? 0;
    const hidden = model.layers.slice(0, -1).map((l) => l.outputs);
    const classes = model.layers.at(-1)!.outputs;
    const projected = this.algorithm === 'ifa' ? hidden.slice(0, 1) : hidden;
    this.#offsets = [];
    let rows = 0;
    const shared = this.feedbackScale !== 'nokland';
    for (const width of projected) {
      this.#offsets.push(shared ? 0 : rows);
      rows = shared ? Math.max(rows, width) : rows + width;
    }
    if (this.algorithm === 'dfa' || this.algorithm === 'ifa') {
      this.projector = options.projector ?? new GaussianOperator(classes, rows, this.seed + 1);
      if (this.projector.inputs !== classes || this.projector.outputs < rows) {
        throw new ArgumentError(
          `projects ${this.projector.inputs} → ${this.projector.outputs}, the network needs ${classes} → ${rows}`,
          { field: 'projector', fix: `open the OPU with inputs=${classes} and outputs=${rows}` },
        );
      }
    }
    this.cost = options.cost;
    this.faMatrices = this.algorithm === 'fa' ? (options.faMatrices ?? this.#randomFaMatrices()) : [];
    this.overlapProjection = options.overlapProjection ?? false;
    if (this.overlapProjection && !this.projector) {
      throw new ArgumentError(`'${this.algorithm}' has no feedback projection to overlap`, {
        field: 'overlapProjection',
        fix: "use it with algorithm 'dfa' or 'ifa', or leave it off",
      });
    }
  }

  /** One optimization step on a batch; returns its summed loss and misclassifications. */
  async trainBatch(x: Float32Array, labels: Uint8Array, epoch = 0): Promise<BatchResult> {
    const workspace = this.#workspaces[0]!;
    const { pass, logits, total, error } = this.#forwardLoss(x, labels, workspace);
    this.#update(pass, await this.#deltas(pass, error, workspace), workspace, epoch);
    return { loss: total, errors: misclassified(logits, labels) };
  }

  /** Steps every layer with a δ along δ_lᵀ·h_{l−1} and Σ δ_l (the optimizer takes the weights' product as is). */
  #update(pass: ForwardPass, deltas: (Float32Array | undefined)[], workspace: Workspace, epoch: number): void {
    const rate = this.schedule ? this.schedule(epoch) : this.optimizer.options.learningRate;
    this.model.layers.forEach((layer, l) => {
      const delta = deltas[l];
      if (!delta) return;
      const scratch = workspace.get(`gradW${l}`, layer.weights.length);
      this.optimizer.stepWeights(layer.weights, { rows: pass.rows, delta, input: pass.post[l]! }, scratch, rate);
      const bias = workspace.get(`gradB${l}`, layer.outputs);
      kernels.columnSums(delta, pass.rows, layer.outputs, bias);
      this.optimizer.step(layer.bias, bias, rate, false);
    });
  }

  /**
   * The update direction of every layer that learns under this algorithm (δ_lᵀ·h_{l−1} and Σ δ_l), with the
   * batch's summed loss and logits. For 'bp' these are the exact gradients of the reduced loss.
   */
  gradients(
    x: Float32Array,
    labels: Uint8Array,
  ): Promise<{
    gradients: ({ weights: Float32Array; bias: Float32Array } | undefined)[];
    loss: number;
    logits: Float32Array;
  }> {
    return this.#gradients(x, labels, FRESH);
  }

  async #gradients(x: Float32Array, labels: Uint8Array, workspace: Pick<Workspace, 'get'>) {
    const { pass, logits, total, error } = this.#forwardLoss(x, labels, workspace);
    const deltas = await this.#deltas(pass, error, workspace);
    return { gradients: this.#weightGradients(pass, deltas, workspace), loss: total, logits };
  }

  /** The forward pass, its logits, and the batch's summed loss and per-sample output error. */
  #forwardLoss(x: Float32Array, labels: Uint8Array, workspace: Pick<Workspace, 'get'>) {
    const pass = this.model.forward(x, labels.length, workspace);
    const logits = pass.pre.at(-1)!;
    const { total, error } = computeLoss(this.loss, logits, labels, this.model.layers.at(-1)!.outputs);
    return { pass, logits, total, error };
  }

  /** The feedback projection of the output deltas (rows × projector.outputs), its cost added to the tally. */
  async #project(outputDelta: Float32Array): Promise<Float32Array> {
    const { data, meta } = await this.projector!.project(outputDelta);
    this.cost?.add(meta);
    this.#recalibrations += meta.recalibrations ?? 0;
    return data;
  }

  /** δ_lᵀ·h_{l−1} and Σ δ_l for every layer with a δ. */
  #weightGradients(pass: ForwardPass, deltas: (Float32Array | undefined)[], workspace: Pick<Workspace, 'get'>) {
    return this.model.layers.map((layer, l) => {
      const delta = deltas[l];
      if (!delta) return undefined;
      const weights = workspace.get(`gradW${l}`, layer.weights.length);
      kernels.sgemm(layer.outputs, layer.inputs, pass.rows, delta, pass.post[l]!, weights, { transA: true });
      const bias = workspace.get(`gradB${l}`, layer.outputs);
      kernels.columnSums(delta, pass.rows, layer.outputs, bias);
      return { weights, bias };
    });
  }

  /**
   * δ_l for every layer that learns (undefined for those that do not): the output layer gets the true gradient,
   * hidden layers what the algorithm prescribes.
   */
  deltas(pass: ForwardPass, error: Float32Array): Promise<(Float32Array | undefined)[]> {
    return this.#deltas(pass, error, FRESH);
  }

  async #deltas(
    pass: ForwardPass,
    error: Float32Array,
    workspace: Pick<Workspace, 'get'>,
  ): Promise<(Float32Array | undefined)[]> {
    const layers = this.model.layers;
    const L = layers.length;
    const rows = pass.rows;
    const out = this.#outputDelta(error, L, rows);
    if (this.algorithm === 'shallow') return out;
    if (this.algorithm === 'bp' || this.algorithm === 'fa') {
      for (let l = L - 2; l >= 0; l--) {
        const next = layers[l + 1]!;
        const feedback = this.algorithm === 'bp' ? next.weights : this.faMatrices[l + 1]!;
        const g = workspace.get(`incoming${l}`, rows * layers[l]!.outputs);
        kernels.sgemm(rows, next.inputs, next.outputs, out[l + 1]!, feedback, g);
        out[l] = this.#throughActivation(pass, l, g, workspace);
      }
      return out;
    }
    this.#feedbackDeltas(pass, await this.#project(out[L - 1]!), out, workspace);
    return out;
  }

  /** δ_L = e, reduced over the batch as configured; the other layers' entries are filled in later. */
  #outputDelta(error: Float32Array, L: number, rows: number): (Float32Array | undefined)[] {
    const out = new Array<Float32Array | undefined>(L);
    const scale = this.reduction === 'mean' ? 1 / rows : 1;
    out[L - 1] = error.map((v) => v * scale);
    return out;
  }

  /** DFA and IFA: the hidden layers' δ from the projection e·Bᵀ of the output error. */
  #feedbackDeltas(
    pass: ForwardPass,
    projected: Float32Array,
    out: (Float32Array | undefined)[],
    workspace: Pick<Workspace, 'get'>,
  ): void {
    const layers = this.model.layers;
    const L = layers.length;
    const gStride = this.projector!.outputs;
    const layerCount = this.algorithm === 'ifa' ? 1 : L - 1;
    for (let l = 0; l < layerCount; l++) {
      const factor = this.#feedbackFactor(layers[l]!.outputs);
      out[l] = this.#throughActivation(pass, l, projected.subarray(this.#offsets[l]!), workspace, { gStride, factor });
    }
    // IFA: the first hidden layer's signal travels forward through the forward weights.
    for (let l = layerCount; l < L - 1; l++) {
      const layer = layers[l]!;
      const g = workspace.get(`incoming${l}`, pass.rows * layer.outputs);
      kernels.sgemm(pass.rows, layer.outputs, layer.inputs, out[l - 1]!, layer.weights, g, { transB: true });
      out[l] = this.#throughActivation(pass, l, g, workspace);
    }
  }

  /** δ_l = g ⊙ f'(a_l), g read with the given stride and scaled by the factor. */
  #throughActivation(
    pass: ForwardPass,
    l: number,
    g: Float32Array,
    workspace: Pick<Workspace, 'get'>,
    options: { gStride?: number; factor?: number } = {},
  ): Float32Array {
    const width = this.model.layers[l]!.outputs;
    const delta = workspace.get(`delta${l}`, pass.rows * width);
    kernels.activationGradient(this.model.activation, g, pass.pre[l]!, pass.post[l + 1]!, delta, {
      rows: pass.rows,
      width,
      ...options,
    });
    return delta;
  }

  /**
   * One pass over the data in seeded random order; returns mean loss and error rate, and how many times the
   * projector re-measured itself (its B changed) during the epoch.
   */
  async trainEpoch(
    data: Dataset,
    epoch: number,
    batchSize: number,
    onBatch?: (done: number, total: number) => void,
  ): Promise<{ loss: number; error: number; recalibrations: number }> {
    const recalibrationsBefore = this.#recalibrations;
    const order = permutation(data.rows, this.seed * 1_000_003 + epoch);
    let loss = 0;
    let errors = 0;
    const count = (result: BatchResult, done: number) => {
      loss += result.loss;
      errors += result.errors;
      onBatch?.(done, data.rows);
    };
    // Overlapped: batch t's projection is in flight while batch t + 1's forward pass runs.
    let inFlight: { batch: InFlightBatch; done: number } | undefined;
    for (let start = 0, index = 0; start < data.rows; start += batchSize, index++) {
      const end = Math.min(data.rows, start + batchSize);
      const batch = subset(data, order.subarray(start, end));
      if (!this.overlapProjection) {
        count(await this.trainBatch(batch.x, batch.labels, epoch), end);
        continue;
      }
      const next = this.#startBatch(batch.x, batch.labels, this.#workspaces[index % 2]!);
      if (inFlight) count(await this.#finishBatch(inFlight.batch, epoch), inFlight.done);
      inFlight = { batch: next, done: end };
    }
    if (inFlight) count(await this.#finishBatch(inFlight.batch, epoch), inFlight.done);
    return {
      loss: loss / data.rows,
      error: errors / data.rows,
      recalibrations: this.#recalibrations - recalibrationsBefore,
    };
  }

  /** Forward pass and loss of a batch, and its projection started (not awaited). */
  #startBatch(x: Float32Array, labels: Uint8Array, workspace: Workspace): InFlightBatch {
    const { pass, logits, total, error } = this.#forwardLoss(x, labels, workspace);
    const deltas = this.#outputDelta(error, this.model.layers.length, pass.rows);
    const projection = this.#project(deltas.at(-1)!);
    // Awaited only after the next forward pass: a failure must not count as unhandled meanwhile.
    projection.catch(() => {});
    return { pass, deltas, projection, workspace, result: { loss: total, errors: misclassified(logits, labels) } };
  }

  async #finishBatch(batch: InFlightBatch, epoch: number): Promise<BatchResult> {
    this.#feedbackDeltas(batch.pass, await batch.projection, batch.deltas, batch.workspace);
    this.#update(batch.pass, batch.deltas, batch.workspace, epoch);
    return batch.result;
  }

  evaluate(data: Dataset, batchSize = 1000): { loss: number; error: number } {
    let loss = 0;
    let errors = 0;
    for (let start = 0; start < data.rows; start += batchSize) {
      const rows = Math.min(batchSize, data.rows - start);
      const x = data.x.subarray(start * data.features, (start + rows) * data.features);
      const labels = data.labels.subarray(start, start + rows);
      const logits = this.model.predict(x, rows);
      loss += computeLoss(this.loss, logits, labels, data.classes).total;
      errors += misclassified(logits, labels);
    }
    return { loss: loss / data.rows, error: errors / data.rows };
  }

  /** Per hidden layer: how well the algorithm's δ_l aligns with backpropagation's, per sample. */
  async alignment(x: Float32Array, labels: Uint8Array): Promise<LayerAlignment[]> {
    const rows = labels.length;
    const { pass, error } = this.#forwardLoss(x, labels, FRESH);
    const mine = await this.deltas(pass, error);
    const bp = await new Trainer(this.model, {
      algorithm: 'bp',
      loss: this.loss,
      reduction: this.reduction,
      optimizer: this.optimizer.options,
    }).deltas(pass, error);
    return this.model.layers.slice(0, -1).map((layer, l) => {
      const cosines: number[] = [];
      for (let r = 0; r < rows; r++) {
        let dot = 0;
        let a2 = 0;
        let b2 = 0;
        for (let j = r * layer.outputs; j < (r + 1) * layer.outputs; j++) {
          const a = mine[l]?.[j] ?? 0;
          const b = bp[l]![j]!;
          dot += a * b;
          a2 += a * a;
          b2 += b * b;
        }
        if (a2 > 0 && b2 > 0) cosines.push(dot / Math.sqrt(a2 * b2));
      }
      const mean = cosines.reduce((s, c) => s + c, 0) / Math.max(1, cosines.length);
      const std = Math.sqrt(cosines.reduce((s, c) => s + (c - mean) ** 2, 0) / Math.max(1, cosines.length));
      return {
        meanCosine: mean,
        stdCosine: std,
        angleDeg: (Math.acos(Math.max(-1, Math.min(1, mean))) * 180) / Math.PI,
      };
    });
  }

  /** The factor that turns N(0, 1) feedback into this layer's: the feedback scaling times the gain. */
  #feedbackFactor(width: number): number {
    switch (this.feedbackScale) {
      case 'nokland':
        return this.feedbackGain / Math.sqrt(3 * width);
      case 'tinydfa':
        return this.feedbackGain / Math.sqrt(3 * this.#maxHidden());
      case 'principled-dfa':
        return this.feedbackGain / Math.sqrt(this.model.layers.at(-1)!.outputs * width);
    }
  }

  #maxHidden(): number {
    return Math.max(...this.model.layers.slice(0, -1).map((l) => l.outputs));
  }

  #randomFaMatrices(): Float32Array[] {
    const normal = seededNormal(this.seed + 2);
    return this.model.layers.map((layer) => {
      const std = 1 / Math.sqrt(layer.outputs);
      return Float32Array.from({ length: layer.weights.length }, () => std * normal());
    });
  }
}

function misclassified(logits: Float32Array, labels: Uint8Array): number {
  const classes = logits.length / labels.length;
  let wrong = 0;
  for (let r = 0; r < labels.length; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[r * classes + c]! > logits[r * classes + best]!) best = c;
    if (best !== labels[r]) wrong++;
  }
  return wrong;
}
