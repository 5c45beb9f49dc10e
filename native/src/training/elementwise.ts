/** Elementwise training kernels, TypeScript implementation (addon/src/training/elementwise.cc is the C++ one). */
import type { KernelFunction } from '../kernels/signatures.js';

export const sgdStepTs: KernelFunction<'sgdStep'> = (p, g, v, rate, momentum, decay) => {
  for (let i = 0; i < p.length; i++) {
    v[i] = momentum * v[i]! + (g[i]! + decay * p[i]!);
    p[i]! -= rate * v[i]!;
  }
};

export const adamStepTs: KernelFunction<'adamStep'> = (p, g, m, v, rate, beta1, beta2, epsilon, c1, c2, decay) => {
  for (let i = 0; i < p.length; i++) {
    const grad = g[i]! + decay * p[i]!;
    m[i] = beta1 * m[i]! + (1 - beta1) * grad;
    v[i] = beta2 * v[i]! + (1 - beta2) * grad * grad;
    p[i]! -= (rate * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + epsilon);
  }
};

/** The activations of dense layers; the index is the number the C++ kernels know them by. */
export const ACTIVATION_KINDS = ['tanh', 'relu', 'leaky-relu', 'sigmoid'] as const;
export type ActivationKind = (typeof ACTIVATION_KINDS)[number];

export const activateTs: KernelFunction<'activate'> = (kind, slope, a, h) => {
  const n = a.length;
  switch (ACTIVATION_KINDS[kind]) {
    case 'tanh':
      for (let i = 0; i < n; i++) h[i] = Math.tanh(a[i]!);
      return;
    case 'relu':
      for (let i = 0; i < n; i++) h[i] = Math.max(a[i]!, 0);
      return;
    case 'leaky-relu':
      for (let i = 0; i < n; i++) h[i] = a[i]! > 0 ? a[i]! : slope * a[i]!;
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) h[i] = 1 / (1 + Math.exp(-a[i]!));
      return;
  }
};

/** f'(a) from a and h = f(a), per activation, in ACTIVATION_KINDS order. */
const DERIVATIVES: ((a: number, h: number, slope: number) => number)[] = [
  (_a, h) => 1 - h * h,
  (a) => (a > 0 ? 1 : 0),
  (a, _h, slope) => (a > 0 ? 1 : slope),
  (_a, h) => h * (1 - h),
];

export const activationGradientTs: KernelFunction<'activationGradient'> = (
  kind,
  slope,
  g,
  gStride,
  factor,
  a,
  h,
  out,
  rows,
  width,
) => {
  const derivative = DERIVATIVES[kind]!;
  for (let r = 0; r < rows; r++) {
    for (let j = r * width, k = r * gStride; j < (r + 1) * width; j++, k++) {
      out[j] = factor * g[k]! * derivative(a[j]!, h[j]!, slope);
    }
  }
};

export const columnSumsTs: KernelFunction<'columnSums'> = (x, rows, cols, out) => {
  out.fill(0, 0, cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) out[j]! += x[r * cols + j]!;
};
