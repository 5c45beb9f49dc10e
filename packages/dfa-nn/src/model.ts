import { ArgumentError, seededNormal } from 'opu-core';
import { ACTIVATION_KINDS, type ActivationKind, kernels } from 'opu-native';
import { FRESH, type Workspace } from './workspace.js';

/** Hidden layers' activations; the output layer is linear and the loss applies its link. */
export const ACTIVATIONS = ACTIVATION_KINDS;
export type ActivationName = ActivationKind;

export const INITIALIZERS = ['xavier', 'he', 'zero'] as const;
export type Initializer = (typeof INITIALIZERS)[number];

export interface DenseLayer {
  inputs: number;
  outputs: number;
  /** outputs × inputs, row-major. */
  weights: Float32Array;
  bias: Float32Array;
}

export interface MlpOptions {
  /** Layer widths from input to output, e.g. [784, 800, 800, 10]. */
  sizes: number[];
  activation?: ActivationName;
  /** Hidden layers' initialization; Nøkland starts them at zero for DFA with tanh or sigmoid. */
  hiddenInit?: Initializer;
  outputInit?: Initializer;
  seed?: number;
}

/** What a forward pass keeps for the backward pass: every pre-activation a_l and output h_l (h_0 = x). */
export interface ForwardPass {
  rows: number;
  pre: Float32Array[];
  post: Float32Array[];
}

/** A sequential multilayer perceptron of dense layers; the output layer is linear (the loss applies its link). */
export class Mlp {
  readonly layers: DenseLayer[];
  readonly activation: ActivationName;

  constructor(options: MlpOptions) {
    const { sizes } = options;
    if (!Array.isArray(sizes) || sizes.length < 2 || !sizes.every((s) => Number.isInteger(s) && s > 0)) {
      throw new ArgumentError(`${JSON.stringify(sizes)} is not a list of at least two positive widths`, {
        field: 'sizes',
        fix: 'e.g. [784, 800, 800, 10]',
      });
    }
    const activation = options.activation ?? 'tanh';
    if (!ACTIVATION_KINDS.includes(activation)) {
      throw new ArgumentError(`'${activation}' is not an activation`, {
        field: 'activation',
        fix: `use one of ${ACTIVATION_KINDS.join(', ')}`,
      });
    }
    this.activation = activation;
    const normal = seededNormal(options.seed ?? 0);
    this.layers = sizes.slice(1).map((outputs, l) => {
      const inputs = sizes[l]!;
      const last = l === sizes.length - 2;
      const init = last ? (options.outputInit ?? 'xavier') : (options.hiddenInit ?? 'xavier');
      const std = init === 'zero' ? 0 : init === 'he' ? Math.sqrt(2 / inputs) : Math.sqrt(2 / (inputs + outputs));
      const weights = Float32Array.from({ length: outputs * inputs }, () => (std === 0 ? 0 : std * normal()));
      return { inputs, outputs, weights, bias: new Float32Array(outputs) };
    });
  }

  get sizes(): number[] {
    return [this.layers[0]!.inputs, ...this.layers.map((l) => l.outputs)];
  }

  /**
   * a_l = h_{l−1}·W_lᵀ + b_l, h_l = f(a_l) for hidden layers; the last a_L is the output (logits). The arrays are
   * fresh unless a workspace is given (the trainer reuses its own from batch to batch).
   */
  forward(x: Float32Array, rows: number, workspace: Pick<Workspace, 'get'> = FRESH): ForwardPass {
    if (x.length !== rows * this.layers[0]!.inputs) {
      throw new ArgumentError(`has ${x.length} values, expected ${rows} × ${this.layers[0]!.inputs}`, {
        field: 'x',
        fix: 'pass rows × inputs values, row-major',
      });
    }
    const pre: Float32Array[] = [];
    const post: Float32Array[] = [x];
    this.layers.forEach((layer, l) => {
      const a = workspace.get(`pre${l}`, rows * layer.outputs);
      for (let r = 0; r < rows; r++) a.set(layer.bias, r * layer.outputs);
      kernels.sgemm(rows, layer.outputs, layer.inputs, post[l]!, layer.weights, a, { transB: true, beta: 1 });
      pre.push(a);
      if (l < this.layers.length - 1) {
        const h = workspace.get(`post${l + 1}`, a.length);
        kernels.activate(this.activation, a, h);
        post.push(h);
      }
    });
    return { rows, pre, post };
  }

  /** The output layer's pre-activation (logits) for x. */
  predict(x: Float32Array, rows: number): Float32Array {
    return this.forward(x, rows).pre.at(-1)!;
  }
}
