import { ArgumentError } from 'opu-core';
import { kernels } from 'opu-native';
import type { CentredGram } from './feature-gram.js';
import { countArg, matrixArg, nonNegativeArg } from './matrix-args.js';

export interface RidgeFit {
  /** features × targets, row-major. */
  weights: Float32Array;
  /** One intercept per target. */
  bias: Float32Array;
  features: number;
  targets: number;
  /** How the system was solved; absent on fits built by hand. */
  diagnostics?: RidgeDiagnostics;
}

export interface RidgeDiagnostics {
  /** 'primal': Cholesky of XᵀX + λI; 'dual': Cholesky of XXᵀ + λI (fewer rows than features); 'cg': iterative. */
  solver: 'primal' | 'dual' | 'cg';
  /** Conjugate-gradient iterations run (0 for the direct solvers). */
  iterations: number;
  /** Largest ‖(XᵀX + λI)w − Xᵀy‖ / ‖Xᵀy‖ over the targets when CG stopped (0 for the direct solvers). */
  relativeResidual: number;
}

export interface RidgeOptions {
  /** Conjugate-gradient iterations cap when features are too many for a direct solve. Default 300. */
  maxIterations?: number;
  /**
   * CG stops when every target's relative residual is at most this. Default 1e-3: on MNIST random features the test
   * error stops changing near 1e-2.
   */
  tolerance?: number;
  /**
   * 'direct' factors the smaller of the two Gram matrices (features² or rows²); 'cg' never forms one; 'auto' (default)
   * is direct when min(rows, features) ≤ DIRECT_SOLVE_LIMIT.
   */
  solver?: 'auto' | 'direct' | 'cg';
}

/**
 * Above this many features and rows, CG is used. Factoring a 2048² Gram with opu-native's `choleskyFactor` takes
 * ~0.2 s in C++ (4096²: ~1 s) and ~1.8 s in its TypeScript fallback, which the limit keeps to seconds.
 */
export const DIRECT_SOLVE_LIMIT = 2048;

/** Centred row or column blocks are staged in buffers of about this many floats (16 MiB). */
const BLOCK_FLOATS = 1 << 22;

/**
 * Minimizes ‖X·W + 1·bᵀ − Y‖² + λ‖W‖² (features centred so the bias is not penalized). `x` is rows × features and
 * `y` rows × targets, both row-major.
 */
export function fitRidge(
  x: Float32Array,
  rows: number,
  features: number,
  y: Float32Array,
  targets: number,
  lambda: number,
  options: RidgeOptions = {},
): RidgeFit {
  countArg(rows, 'rows');
  countArg(features, 'features');
  countArg(targets, 'targets');
  matrixArg(x, rows, features, 'x');
  matrixArg(y, rows, targets, 'y');
  nonNegativeArg(lambda, 'lambda');
  const maxIterations = countArg(options.maxIterations ?? 300, 'options.maxIterations');
  const tolerance = nonNegativeArg(options.tolerance ?? 1e-3, 'options.tolerance');
  const solver = solverArg(options.solver);
  const xMeans = columnMeans(x, rows, features, 'x');
  const yMeans = columnMeans(y, rows, targets, 'y');
  const direct = solver === 'direct' || (solver === 'auto' && Math.min(rows, features) <= DIRECT_SOLVE_LIMIT);
  let weights: Float32Array;
  let diagnostics: RidgeDiagnostics;
  if (direct && features <= rows) {
    weights = solvePrimal(x, rows, features, xMeans, y, targets, lambda);
    diagnostics = { solver: 'primal', iterations: 0, relativeResidual: 0 };
  } else if (direct) {
    weights = solveDual(x, rows, features, xMeans, y, targets, yMeans, lambda);
    diagnostics = { solver: 'dual', iterations: 0, relativeResidual: 0 };
  } else {
    const cg = solveConjugateGradient(x, rows, features, xMeans, y, targets, yMeans, lambda, maxIterations, tolerance);
    weights = cg.weights;
    diagnostics = { solver: 'cg', iterations: cg.iterations, relativeResidual: cg.relativeResidual };
  }
  // The intercept makes the centred fit pass through the means: b = ȳ − Wᵀx̄.
  const bias = new Float32Array(targets);
  for (let c = 0; c < targets; c++) {
    let s = yMeans[c]!;
    for (let j = 0; j < features; j++) s -= weights[j * targets + c]! * xMeans[j]!;
    bias[c] = s;
  }
  return { weights, bias, features, targets, diagnostics };
}

/** X·W + 1·bᵀ, rows × targets. */
export function predictRidge(fit: RidgeFit, x: Float32Array, rows: number): Float32Array {
  countArg(rows, 'rows', 0);
  matrixArg(fit.weights, fit.features, fit.targets, 'fit.weights');
  matrixArg(fit.bias, 1, fit.targets, 'fit.bias');
  matrixArg(x, rows, fit.features, 'x');
  const out = new Float32Array(rows * fit.targets);
  for (let r = 0; r < rows; r++) out.set(fit.bias, r * fit.targets);
  if (rows > 0) kernels.sgemm(rows, fit.targets, fit.features, x, fit.weights, out, { beta: 1 });
  return out;
}

/**
 * rows × classes targets in {0, 1}. With an unpenalized bias, {−1, +1} targets (2Y − 1) would give weights scaled by 2
 * and the same argmax, so the simpler coding loses nothing.
 */
export function oneHot(labels: Uint8Array, classes: number): Float32Array {
  countArg(classes, 'classes');
  const out = new Float32Array(labels.length * classes);
  for (let r = 0; r < labels.length; r++) {
    const label = labels[r]!;
    if (label >= classes) {
      throw new ArgumentError(`label ${label} is not below ${classes} classes`, {
        field: `labels[${r}]`,
        fix: 'use labels 0 … classes − 1',
      });
    }
    out[r * classes + label] = 1;
  }
  return out;
}

/** The fraction of rows whose highest score is not at their label's column. */
export function classificationError(scores: Float32Array, labels: Uint8Array, classes: number): number {
  matrixArg(scores, labels.length, classes, 'scores');
  let wrong = 0;
  for (let r = 0; r < labels.length; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (scores[r * classes + c]! > scores[r * classes + best]!) best = c;
    if (best !== labels[r]) wrong++;
  }
  return labels.length === 0 ? 0 : wrong / labels.length;
}

/** Column means; a NaN or infinity anywhere makes its column's mean non-finite, which is then located and named. */
function columnMeans(x: Float32Array, rows: number, cols: number, field: string): Float64Array {
  const means = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) means[j]! += x[r * cols + j]!;
  for (let j = 0; j < cols; j++) {
    means[j]! /= rows;
    if (Number.isFinite(means[j]!)) continue;
    let r = 0;
    while (r < rows - 1 && Number.isFinite(x[r * cols + j]!)) r++;
    throw new ArgumentError(`${x[r * cols + j]} is not finite`, {
      field: `${field}[${r}][${j}]`,
      fix: 'clean or impute the data before fitting',
    });
  }
  return means;
}

/**
 * Centring in float32 staging blocks rather than subtracting rows·x̄x̄ᵀ afterwards: optical features have means as large
 * as their spread, and the subtraction would cancel digits the float32 Gram does not have.
 */
function solvePrimal(
  x: Float32Array,
  rows: number,
  features: number,
  means: Float64Array,
  y: Float32Array,
  targets: number,
  lambda: number,
): Float32Array {
  const gram = new Float32Array(features * features);
  const xty = new Float32Array(features * targets);
  const blockRows = Math.max(1, Math.min(rows, Math.floor(BLOCK_FLOATS / features)));
  const block = new Float32Array(blockRows * features);
  for (let r0 = 0; r0 < rows; r0 += blockRows) {
    const b = Math.min(blockRows, rows - r0);
    for (let r = 0; r < b; r++) {
      for (let j = 0; j < features; j++) block[r * features + j] = x[(r0 + r) * features + j]! - means[j]!;
    }
    const beta = r0 === 0 ? 0 : 1;
    // Σ over centred rows of Y needs no centring of Y: the centred columns of X sum to zero.
    kernels.sgemm(features, features, b, block, block, gram, { transA: true, beta });
    kernels.sgemm(features, targets, b, block, y.subarray(r0 * targets, (r0 + b) * targets), xty, {
      transA: true,
      beta,
    });
  }
  const a = Float64Array.from(gram);
  for (let j = 0; j < features; j++) a[j * features + j]! += lambda;
  factorOrThrow(a, features);
  const w = Float64Array.from(xty);
  kernels.choleskySolve(a, features, w, targets);
  return Float32Array.from(w);
}

/** W = X̃ᵀ(X̃X̃ᵀ + λI)⁻¹Ỹ: the same minimizer, through a rows × rows system when features outnumber rows. */
function solveDual(
  x: Float32Array,
  rows: number,
  features: number,
  means: Float64Array,
  y: Float32Array,
  targets: number,
  yMeans: Float64Array,
  lambda: number,
): Float32Array {
  const blockCols = Math.max(1, Math.min(features, Math.floor(BLOCK_FLOATS / rows)));
  const block = new Float32Array(rows * blockCols);
  const fillBlock = (c0: number, w: number) => {
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < w; j++) block[r * w + j] = x[r * features + c0 + j]! - means[c0 + j]!;
    }
  };
  const gram = new Float32Array(rows * rows);
  for (let c0 = 0; c0 < features; c0 += blockCols) {
    const w = Math.min(blockCols, features - c0);
    fillBlock(c0, w);
    kernels.sgemm(rows, rows, w, block, block, gram, { transB: true, beta: c0 === 0 ? 0 : 1 });
  }
  const a = Float64Array.from(gram);
  for (let r = 0; r < rows; r++) a[r * rows + r]! += lambda;
  factorOrThrow(a, rows);
  const alpha = new Float64Array(rows * targets);
  for (let i = 0; i < alpha.length; i++) alpha[i] = y[i]! - yMeans[i % targets]!;
  kernels.choleskySolve(a, rows, alpha, targets);
  const alpha32 = Float32Array.from(alpha);
  const weights = new Float32Array(features * targets);
  for (let c0 = 0; c0 < features; c0 += blockCols) {
    const w = Math.min(blockCols, features - c0);
    fillBlock(c0, w);
    kernels.sgemm(w, targets, rows, block, alpha32, weights.subarray(c0 * targets, (c0 + w) * targets), {
      transA: true,
      lda: w,
    });
  }
  return weights;
}

function factorOrThrow(a: Float64Array, n: number): void {
  if (!kernels.choleskyFactor(a, n)) {
    throw new ArgumentError('the regularized Gram matrix is singular or not positive definite', {
      field: 'lambda',
      fix: 'pass a larger lambda (features that are constant or duplicated make XᵀX singular)',
    });
  }
}

/**
 * Jacobi-preconditioned conjugate gradient on (X̃ᵀX̃ + λI)W = X̃ᵀY, one independent recurrence per target but every
 * product for all targets in one native GEMM. X̃ = X − 1x̄ᵀ is never formed: X̃P = XP − 1(x̄ᵀP) and
 * X̃ᵀQ = XᵀQ − x̄(1ᵀQ). Memory beyond X: a few features × targets and rows × targets arrays.
 */
function solveConjugateGradient(
  x: Float32Array,
  rows: number,
  features: number,
  means: Float64Array,
  y: Float32Array,
  targets: number,
  yMeans: Float64Array,
  lambda: number,
  maxIterations: number,
  tolerance: number,
): { weights: Float32Array; iterations: number; relativeResidual: number } {
  const diagonal = new Float64Array(features).fill(lambda);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < features; j++) {
      const d = x[r * features + j]! - means[j]!;
      diagonal[j]! += d * d;
    }
  }
  // X̃ᵀY = XᵀỸ with Ỹ centred: centring Y (exactly, in double) keeps x̄'s large component out of the float32 product.
  const yCentred = new Float32Array(rows * targets);
  for (let i = 0; i < yCentred.length; i++) yCentred[i] = y[i]! - yMeans[i % targets]!;
  const rhs32 = new Float32Array(features * targets);
  kernels.sgemm(features, targets, rows, x, yCentred, rhs32, { transA: true });

  const direction32 = new Float32Array(features * targets);
  const q = new Float32Array(rows * targets);
  const product32 = new Float32Array(features * targets);
  const applyNormalOperator = (direction: Float64Array, product: Float64Array) => {
    direction32.set(direction);
    const meanDotP = new Float64Array(targets);
    for (let i = 0; i < direction.length; i++)
      meanDotP[i % targets]! += means[Math.floor(i / targets)]! * direction[i]!;
    kernels.sgemm(rows, targets, features, x, direction32, q);
    const qSums = new Float64Array(targets);
    for (let i = 0; i < q.length; i++) {
      const c = i % targets;
      q[i] = q[i]! - meanDotP[c]!;
      qSums[c]! += q[i]!;
    }
    kernels.sgemm(features, targets, rows, x, q, product32, { transA: true });
    for (let i = 0; i < product.length; i++) {
      const c = i % targets;
      product[i] = product32[i]! - means[Math.floor(i / targets)]! * qSums[c]! + lambda * direction[i]!;
    }
  };
  return conjugateGradient(Float64Array.from(rhs32), diagonal, targets, applyNormalOperator, maxIterations, tolerance);
}

/**
 * Jacobi-preconditioned CG on A·W = rhs (features × targets), one independent recurrence per target; `apply` writes
 * A·direction into product for all targets at once.
 */
function conjugateGradient(
  rhs: Float64Array,
  diagonal: Float64Array,
  targets: number,
  apply: (direction: Float64Array, product: Float64Array) => void,
  maxIterations: number,
  tolerance: number,
): { weights: Float32Array; iterations: number; relativeResidual: number } {
  const features = diagonal.length;
  for (let j = 0; j < features; j++) {
    if (!(diagonal[j]! > 0)) {
      throw new ArgumentError(`feature ${j} is constant and lambda is 0: the system is singular`, {
        field: 'lambda',
        fix: 'pass lambda > 0 or drop constant features',
      });
    }
  }
  const residual = rhs;
  const rhsNorms = columnNorms(residual, features, targets);
  const weights = new Float64Array(features * targets);
  const direction = new Float64Array(features * targets);
  const product = new Float64Array(features * targets);
  const rz = new Float64Array(targets);
  for (let i = 0; i < direction.length; i++) direction[i] = residual[i]! / diagonal[Math.floor(i / targets)]!;
  for (let i = 0; i < direction.length; i++) rz[i % targets]! += residual[i]! * direction[i]!;

  let relativeResidual = maxRatio(columnNorms(residual, features, targets), rhsNorms);
  let iterations = 0;
  while (iterations < maxIterations && relativeResidual > tolerance) {
    apply(direction, product);
    const pAp = new Float64Array(targets);
    for (let i = 0; i < product.length; i++) pAp[i % targets]! += direction[i]! * product[i]!;
    const step = Array.from(pAp, (d, c) => (d > 0 ? rz[c]! / d : 0));
    for (let i = 0; i < weights.length; i++) {
      const c = i % targets;
      weights[i]! += step[c]! * direction[i]!;
      residual[i]! -= step[c]! * product[i]!;
    }
    const rzNext = new Float64Array(targets);
    for (let i = 0; i < residual.length; i++) {
      rzNext[i % targets]! += (residual[i]! * residual[i]!) / diagonal[Math.floor(i / targets)]!;
    }
    for (let i = 0; i < direction.length; i++) {
      const c = i % targets;
      const beta = rz[c]! > 0 ? rzNext[c]! / rz[c]! : 0;
      direction[i] = residual[i]! / diagonal[Math.floor(i / targets)]! + beta * direction[i]!;
    }
    rz.set(rzNext);
    iterations++;
    relativeResidual = maxRatio(columnNorms(residual, features, targets), rhsNorms);
  }
  return { weights: Float32Array.from(weights), iterations, relativeResidual };
}

/**
 * Ridge on the first `features` features of a centred Gram (see FeatureGramAccumulator), without the feature matrix:
 * (X̃ᵀX̃ + λI)W = X̃ᵀỸ on the leading features × features block, by Cholesky when features ≤ DIRECT_SOLVE_LIMIT
 * (or `solver: 'direct'`), else by the same Jacobi-preconditioned CG as fitRidge, whose products are then
 * features² × targets instead of 2 × rows × features × targets.
 */
export function fitRidgeOnGram(g: CentredGram, features: number, lambda: number, options: RidgeOptions = {}): RidgeFit {
  countArg(features, 'features');
  if (features > g.features) {
    throw new ArgumentError(`${features} is more than the Gram's ${g.features} features`, {
      field: 'features',
      fix: 'accumulate the Gram over at least as many features as the largest fit',
    });
  }
  nonNegativeArg(lambda, 'lambda');
  const maxIterations = countArg(options.maxIterations ?? 300, 'options.maxIterations');
  const tolerance = nonNegativeArg(options.tolerance ?? 1e-3, 'options.tolerance');
  const solver = solverArg(options.solver);
  const stride = g.features;
  const targets = g.targets;
  const rhs = Float64Array.from(g.xty.subarray(0, features * targets));
  let weights: Float32Array;
  let diagnostics: RidgeDiagnostics;
  if (solver === 'direct' || (solver === 'auto' && features <= DIRECT_SOLVE_LIMIT)) {
    const a = new Float64Array(features * features);
    for (let i = 0; i < features; i++) {
      for (let j = 0; j < features; j++) a[i * features + j] = g.gram[i * stride + j]!;
      a[i * features + i]! += lambda;
    }
    factorOrThrow(a, features);
    kernels.choleskySolve(a, features, rhs, targets);
    weights = Float32Array.from(rhs);
    diagnostics = { solver: 'primal', iterations: 0, relativeResidual: 0 };
  } else {
    const diagonal = new Float64Array(features);
    for (let j = 0; j < features; j++) diagonal[j] = g.gram[j * stride + j]! + lambda;
    const direction32 = new Float32Array(features * targets);
    const product32 = new Float32Array(features * targets);
    const apply = (direction: Float64Array, product: Float64Array) => {
      direction32.set(direction);
      kernels.sgemm(features, targets, features, g.gram, direction32, product32, { lda: stride });
      for (let i = 0; i < product.length; i++) product[i] = product32[i]! + lambda * direction[i]!;
    };
    const cg = conjugateGradient(rhs, diagonal, targets, apply, maxIterations, tolerance);
    weights = cg.weights;
    diagnostics = { solver: 'cg', iterations: cg.iterations, relativeResidual: cg.relativeResidual };
  }
  const bias = new Float32Array(targets);
  for (let c = 0; c < targets; c++) {
    let s = g.yMeans[c]!;
    for (let j = 0; j < features; j++) s -= weights[j * targets + c]! * g.means[j]!;
    bias[c] = s;
  }
  return { weights, bias, features, targets, diagnostics };
}

function solverArg(solver: RidgeOptions['solver']): 'auto' | 'direct' | 'cg' {
  if (solver === undefined || solver === 'auto' || solver === 'direct' || solver === 'cg') return solver ?? 'auto';
  throw new ArgumentError(`${String(solver)} is not a solver`, {
    field: 'options.solver',
    fix: "pass 'auto', 'direct' or 'cg'",
  });
}

function columnNorms(m: Float64Array, rows: number, cols: number): Float64Array {
  const norms = new Float64Array(cols);
  for (let i = 0; i < rows * cols; i++) norms[i % cols]! += m[i]! * m[i]!;
  return norms.map(Math.sqrt);
}

function maxRatio(a: Float64Array, b: Float64Array): number {
  let worst = 0;
  for (let c = 0; c < a.length; c++) if (b[c]! > 0) worst = Math.max(worst, a[c]! / b[c]!);
  return worst;
}
