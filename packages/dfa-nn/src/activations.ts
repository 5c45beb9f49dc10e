import { kernels } from 'opu-native';

/** Elementwise activations and their derivatives, expressed from the pre-activation a and the output h = f(a). */
export type ActivationName = 'tanh' | 'relu' | 'sigmoid' | 'leaky-relu';

export interface Activation {
  name: ActivationName;
  apply(a: Float32Array, h: Float32Array): void;
  /** out = f'(a), given a and h = f(a). */
  derivative(a: Float32Array, h: Float32Array, out: Float32Array): void;
}

const LEAK = 0.01;

export const activations: Record<ActivationName, Activation> = {
  tanh: {
    name: 'tanh',
    apply: (a, h) => kernels.tanh(a, h),
    derivative: (_a, h, out) => {
      for (let i = 0; i < h.length; i++) out[i] = 1 - h[i]! * h[i]!;
    },
  },
  relu: {
    name: 'relu',
    apply: (a, h) => {
      for (let i = 0; i < a.length; i++) h[i] = Math.max(a[i]!, 0);
    },
    derivative: (a, _h, out) => {
      for (let i = 0; i < a.length; i++) out[i] = a[i]! > 0 ? 1 : 0;
    },
  },
  'leaky-relu': {
    name: 'leaky-relu',
    apply: (a, h) => {
      for (let i = 0; i < a.length; i++) h[i] = a[i]! > 0 ? a[i]! : LEAK * a[i]!;
    },
    derivative: (a, _h, out) => {
      for (let i = 0; i < a.length; i++) out[i] = a[i]! > 0 ? 1 : LEAK;
    },
  },
  sigmoid: {
    name: 'sigmoid',
    apply: (a, h) => {
      for (let i = 0; i < a.length; i++) h[i] = 1 / (1 + Math.exp(-a[i]!));
    },
    derivative: (_a, h, out) => {
      for (let i = 0; i < h.length; i++) out[i] = h[i]! * (1 - h[i]!);
    },
  },
};
