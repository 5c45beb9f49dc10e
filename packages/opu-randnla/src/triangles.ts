import type { LinearProjection } from 'opu-core';
import { kernels } from 'opu-native';
import { type Estimate, meanOfTerms } from './estimate.js';
import { checkShape, checkSketchInputs, type SketchOptions, sketchRows } from './sketch.js';

/**
 * Triangles of an undirected graph, tr(A³)/6, by Hutchinson's estimator on A³ with one projection: C = A·Ω
 * (= project(A), A symmetric), then each term cᵢᵀ·A·cᵢ = ωᵢᵀ·A³·ωᵢ from one digital product A·C.
 */
export async function countTriangles(
  adjacency: Float32Array,
  n: number,
  sketch: LinearProjection,
  options: SketchOptions = {},
): Promise<Estimate> {
  checkShape(adjacency, n, n, 'adjacency');
  checkSketchInputs(sketch, n, 'adjacency');
  const p = sketch.outputs;
  const c = await sketchRows(sketch, adjacency, options);
  const ac = new Float32Array(n * p);
  kernels.sgemm(n, p, n, adjacency, c, ac);
  const terms = new Float64Array(p);
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) terms[j]! += c[i * p + j]! * ac[i * p + j]!;
  return meanOfTerms(terms, 1 / 6);
}

/** The exact count, Σᵢⱼ (A²)ᵢⱼ·Aᵢⱼ / 6: one n³ product (integers below 2²⁴ stay exact in single precision). */
export function exactTriangles(adjacency: Float32Array, n: number): number {
  checkShape(adjacency, n, n, 'adjacency');
  const a2 = new Float32Array(n * n);
  kernels.sgemm(n, n, n, adjacency, adjacency, a2);
  let sum = 0;
  for (let i = 0; i < n * n; i++) sum += a2[i]! * adjacency[i]!;
  return sum / 6;
}
