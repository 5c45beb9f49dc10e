/** Elementwise training kernels, TypeScript implementation (addon/src/elementwise.cc is the C++ one). */

export function sgdStepTs(
  p: Float32Array,
  g: Float32Array,
  v: Float32Array,
  rate: number,
  momentum: number,
  decay: number,
): void {
  for (let i = 0; i < p.length; i++) {
    v[i] = momentum * v[i]! + (g[i]! + decay * p[i]!);
    p[i]! -= rate * v[i]!;
  }
}

export function adamStepTs(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  rate: number,
  beta1: number,
  beta2: number,
  epsilon: number,
  c1: number,
  c2: number,
  decay: number,
): void {
  for (let i = 0; i < p.length; i++) {
    const grad = g[i]! + decay * p[i]!;
    m[i] = beta1 * m[i]! + (1 - beta1) * grad;
    v[i] = beta2 * v[i]! + (1 - beta2) * grad * grad;
    p[i]! -= (rate * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + epsilon);
  }
}

export function tanhForwardTs(a: Float32Array, h: Float32Array): void {
  for (let i = 0; i < a.length; i++) h[i] = Math.tanh(a[i]!);
}
