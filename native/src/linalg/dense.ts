/**
 * Dense float64 linear algebra, row-major: the TypeScript twins of addon/src/linalg/dense.cc, with the same
 * signatures, semantics and methods (blocked Cholesky, blocked Householder QR, Householder tridiagonalization and
 * implicit QL, QR-preconditioned one-sided Jacobi SVD), on one thread. Every function writes into the outputs it is
 * given; only internal scratch is allocated. Norms are plain sums of squares: values beyond about 1e±150 are not
 * supported.
 */

const EPSILON = Number.EPSILON;

/**
 * Depth of a block of op(B) that the product walks for every row of C, and its width: 128 × 512 doubles (512 KB)
 * stay in L2 while the rows of C pass.
 */
const GEMM_DEPTH = 128;
const GEMM_WIDTH = 512;

/**
 * C = alpha·op(A)·op(B) + beta·C, op(X) = X or Xᵀ: op(A) is m×k, op(B) k×n, C m×n; lda, ldb, ldc are the elements
 * between consecutive stored rows. beta = 0 overwrites C, so NaN already in it does not leak through 0·C. Each row of
 * C takes four rows of op(B) per pass (op(B) packed when transposed), so that it is loaded and stored once per four
 * multiply-adds.
 */
export function dgemmTs(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  A: Float64Array,
  lda: number,
  B: Float64Array,
  ldb: number,
  beta: number,
  C: Float64Array,
  ldc: number,
): void {
  if (m <= 0 || n <= 0) return;
  for (let i = 0; i < m; i++) {
    const row = i * ldc;
    if (beta === 0) C.fill(0, row, row + n);
    else if (beta !== 1) for (let j = 0; j < n; j++) C[row + j]! *= beta;
  }
  if (k <= 0 || alpha === 0) return;
  const packed = transB ? new Float64Array(Math.min(k, GEMM_DEPTH) * Math.min(n, GEMM_WIDTH)) : undefined;
  for (let p0 = 0; p0 < k; p0 += GEMM_DEPTH) {
    const depth = Math.min(GEMM_DEPTH, k - p0);
    for (let j0 = 0; j0 < n; j0 += GEMM_WIDTH) {
      const width = Math.min(GEMM_WIDTH, n - j0);
      // Row p of the block is b[base + p·stride + j], j < width.
      let b = B;
      let base = p0 * ldb + j0;
      let stride = ldb;
      if (packed) {
        for (let j = 0; j < width; j++) {
          const from = (j0 + j) * ldb + p0;
          for (let p = 0; p < depth; p++) packed[p * width + j] = B[from + p]!;
        }
        b = packed;
        base = 0;
        stride = width;
      }
      for (let i = 0; i < m; i++) {
        const c = i * ldc + j0;
        // op(A)[i][p0 + p] = a[aBase + p·aStep]
        const aBase = transA ? p0 * lda + i : i * lda + p0;
        const aStep = transA ? lda : 1;
        let p = 0;
        for (; p + 4 <= depth; p += 4) {
          const a0 = alpha * A[aBase + p * aStep]!;
          const a1 = alpha * A[aBase + (p + 1) * aStep]!;
          const a2 = alpha * A[aBase + (p + 2) * aStep]!;
          const a3 = alpha * A[aBase + (p + 3) * aStep]!;
          const r0 = base + p * stride;
          const r1 = r0 + stride;
          const r2 = r1 + stride;
          const r3 = r2 + stride;
          for (let j = 0; j < width; j++) {
            C[c + j]! += a0 * b[r0 + j]! + a1 * b[r1 + j]! + a2 * b[r2 + j]! + a3 * b[r3 + j]!;
          }
        }
        for (; p < depth; p++) {
          const a = alpha * A[aBase + p * aStep]!;
          const r = base + p * stride;
          for (let j = 0; j < width; j++) C[c + j]! += a * b[r + j]!;
        }
      }
    }
  }
}

/** Block size of the Cholesky factorization and solve (as in C++). */
const CHOLESKY_BLOCK = 96;

/**
 * Cholesky factor of a symmetric n×n matrix: the lower triangle of a is overwritten by L (A = L·Lᵀ), the strict upper
 * triangle is neither read nor written. Returns false when A is not positive definite: a pivot a_jj − Σ_p l_jp² not
 * above 1e-9·|a_jj| (a_jj as given), e.g. the Gram matrix of two identical columns; the lower triangle is then partly
 * overwritten. Left-looking by blocks of columns: each is updated by dgemm from the finished ones left of it.
 */
export function choleskyFactorTs(a: Float64Array, n: number): boolean {
  const given = new Float64Array(n);
  for (let j = 0; j < n; j++) given[j] = a[j * n + j]!;
  const d = new Float64Array(CHOLESKY_BLOCK * CHOLESKY_BLOCK);
  for (let k0 = 0; k0 < n; k0 += CHOLESKY_BLOCK) {
    const nb = Math.min(CHOLESKY_BLOCK, n - k0);
    const k1 = k0 + nb;
    // The diagonal block in scratch, so that its update never writes the upper triangle.
    d.fill(0);
    for (let r = 0; r < nb; r++) {
      for (let c = 0; c <= r; c++) d[r * nb + c] = a[(k0 + r) * n + k0 + c]!;
    }
    dgemmTs(false, true, nb, nb, k0, -1, a.subarray(k0 * n), n, a.subarray(k0 * n), n, 1, d, nb);
    if (k1 < n) {
      const below = a.subarray(k1 * n);
      dgemmTs(false, true, n - k1, nb, k0, -1, below, n, a.subarray(k0 * n), n, 1, below.subarray(k0), n);
    }
    if (!factorDiagonalBlock(d, nb, given, k0)) return false;
    for (let r = 0; r < nb; r++) {
      for (let c = 0; c <= r; c++) a[(k0 + r) * n + k0 + c] = d[r * nb + c]!;
    }
    // The rows below: x ← x·L_d^{-T}.
    for (let r = k1; r < n; r++) {
      const x = r * n + k0;
      for (let j = 0; j < nb; j++) {
        let s = a[x + j]!;
        for (let p = 0; p < j; p++) s -= a[x + p]! * d[j * nb + p]!;
        a[x + j] = s / d[j * nb + j]!;
      }
    }
  }
  return true;
}

/** Factors the diagonal block d (nb×nb) in place, column by column; given[k0 + j] is a_jj as given. */
function factorDiagonalBlock(d: Float64Array, nb: number, given: Float64Array, k0: number): boolean {
  for (let j = 0; j < nb; j++) {
    let pivot = d[j * nb + j]!;
    for (let p = 0; p < j; p++) pivot -= d[j * nb + p]! * d[j * nb + p]!;
    if (!(pivot > 1e-9 * Math.abs(given[k0 + j]!))) return false;
    const diagonal = Math.sqrt(pivot);
    d[j * nb + j] = diagonal;
    for (let r = j + 1; r < nb; r++) {
      let s = d[r * nb + j]!;
      for (let p = 0; p < j; p++) s -= d[r * nb + p]! * d[j * nb + p]!;
      d[r * nb + j] = s / diagonal;
    }
  }
  return true;
}

/**
 * Solves L·Lᵀ·X = B in place: factor is choleskyFactorTs's output (only its lower triangle is read), b is n × width
 * (one column per right-hand side), overwritten by X. Blocked substitutions: the off-diagonal blocks are dgemm calls.
 */
export function choleskySolveTs(factor: Float64Array, n: number, b: Float64Array, width: number): void {
  if (n <= 0 || width <= 0) return;
  for (let k0 = 0; k0 < n; k0 += CHOLESKY_BLOCK) {
    const nb = Math.min(CHOLESKY_BLOCK, n - k0);
    dgemmTs(false, false, nb, width, k0, -1, factor.subarray(k0 * n), n, b, width, 1, b.subarray(k0 * width), width);
    solveDiagonalBlock(factor, n, k0, nb, b, width, false);
  }
  for (let k0 = Math.floor((n - 1) / CHOLESKY_BLOCK) * CHOLESKY_BLOCK; k0 >= 0; k0 -= CHOLESKY_BLOCK) {
    const nb = Math.min(CHOLESKY_BLOCK, n - k0);
    const k1 = k0 + nb;
    if (k1 < n) {
      // Minus L's block column below the diagonal block, transposed, times the rows already solved below.
      const column = factor.subarray(k1 * n + k0);
      const block = b.subarray(k0 * width);
      dgemmTs(true, false, nb, width, n - k1, -1, column, n, b.subarray(k1 * width), width, 1, block, width);
    }
    solveDiagonalBlock(factor, n, k0, nb, b, width, true);
  }
}

/**
 * Rows [k0, k0+nb) of b solved against the diagonal block of L at k0, the other blocks' contributions already
 * subtracted: forward (L_kk·X = B) or backward (L_kkᵀ·X = B), four solved rows subtracted per pass.
 */
function solveDiagonalBlock(
  factor: Float64Array,
  n: number,
  k0: number,
  nb: number,
  b: Float64Array,
  width: number,
  backward: boolean,
): void {
  for (let step = 0; step < nb; step++) {
    const j = backward ? nb - 1 - step : step;
    const to = (k0 + j) * width;
    const p0 = backward ? j + 1 : 0;
    const p1 = backward ? nb : j;
    // Coefficient of solved row p in row j: l_jp forward, l_pj backward.
    const coefficient = (p: number) => (backward ? factor[(k0 + p) * n + k0 + j]! : factor[(k0 + j) * n + k0 + p]!);
    let p = p0;
    for (; p + 4 <= p1; p += 4) {
      const a0 = coefficient(p);
      const a1 = coefficient(p + 1);
      const a2 = coefficient(p + 2);
      const a3 = coefficient(p + 3);
      const f0 = (k0 + p) * width;
      const f1 = f0 + width;
      const f2 = f1 + width;
      const f3 = f2 + width;
      for (let q = 0; q < width; q++) {
        b[to + q]! -= a0 * b[f0 + q]! + a1 * b[f1 + q]! + a2 * b[f2 + q]! + a3 * b[f3 + q]!;
      }
    }
    for (; p < p1; p++) {
      const a = coefficient(p);
      const from = (k0 + p) * width;
      for (let q = 0; q < width; q++) b[to + q]! -= a * b[from + q]!;
    }
    const scale = 1 / factor[(k0 + j) * n + k0 + j]!;
    for (let q = to; q < to + width; q++) b[q]! *= scale;
  }
}

/**
 * Reflectors H_g = I − tau_g·v_g·v_gᵀ, g = first .. first+count, on the rows ≥ first of a matrix; v_g is 0 above row g
 * and 1 at it. Stored explicitly (length × count) so that applying them together, H_first⋯H_last = I − V·T·Vᵀ (compact
 * WY form), is two products and a small one.
 */
interface ReflectorBlock {
  first: number;
  count: number;
  length: number;
  /** length × count */
  v: Float64Array;
  /** count × count, upper triangular */
  t: Float64Array;
}

/** T from V and the taus: T[0:c, c] = −tau_c·T[0:c, 0:c]·V[:, 0:c]ᵀ·v_c, T[c][c] = tau_c (LAPACK's dlarft). */
function formT(block: ReflectorBlock, tau: Float64Array): void {
  const { count, length, v, t } = block;
  const gram = new Float64Array(count * count);
  dgemmTs(true, false, count, count, length, 1, v, count, v, count, 0, gram, count);
  for (let c = 0; c < count; c++) {
    t[c * count + c] = tau[c]!;
    for (let i = 0; i < c; i++) {
      let s = 0;
      for (let l = i; l < c; l++) s += t[i * count + l]! * gram[l * count + c]!;
      t[i * count + c] = -tau[c]! * s;
    }
  }
}

/**
 * Columns [col0, col1) of c (ld) ← (I − V·T·Vᵀ)·c, the block's product (transposed: I − V·Tᵀ·Vᵀ, which is how a
 * factorization eliminates). Only rows ≥ first change.
 */
function applyBlock(
  block: ReflectorBlock,
  c: Float64Array,
  ld: number,
  col0: number,
  col1: number,
  transposed: boolean,
): void {
  const cols = col1 - col0;
  if (cols <= 0) return;
  const sub = c.subarray(block.first * ld + col0);
  const y = new Float64Array(block.count * cols);
  const ty = new Float64Array(y.length);
  dgemmTs(true, false, block.count, cols, block.length, 1, block.v, block.count, sub, ld, 0, y, cols);
  dgemmTs(transposed, false, block.count, cols, block.count, 1, block.t, block.count, y, cols, 0, ty, cols);
  dgemmTs(false, false, block.length, cols, block.count, -1, block.v, block.count, ty, cols, 1, sub, ld);
}

/** Columns per panel of the blocked Householder QR (as in C++). */
const PANEL_COLUMNS = 32;

/**
 * Unblocked Householder QR of a panel (length × width, row-major, in place), LAPACK's dgeqr2 with one change: a column
 * whose remainder (its part orthogonal to the previous reflectors) is not above dropBelow × columnNorms[j] makes no
 * reflector. Returns the reflectors made; madeBy[c] is the column of reflector c (which lives from row c down).
 */
function factorPanel(
  panel: Float64Array,
  length: number,
  width: number,
  columnNorms: Float64Array,
  norms0: number,
  dropBelow: number,
  tau: Float64Array,
  madeBy: Int32Array,
): number {
  const w = new Float64Array(width);
  let c = 0;
  for (let jl = 0; jl < width; jl++) {
    const x = c * width + jl;
    const below = length - c;
    const alpha = panel[x]!;
    let sigma = 0;
    for (let i = 1; i < below; i++) sigma += panel[x + i * width]! * panel[x + i * width]!;
    const norm = Math.sqrt(alpha * alpha + sigma);
    if (!(norm > dropBelow * columnNorms[norms0 + jl]!)) continue;
    let t = 0;
    if (sigma > 0) {
      const beta = alpha > 0 || Object.is(alpha, 0) ? -norm : norm;
      t = (beta - alpha) / beta;
      const scale = 1 / (alpha - beta);
      for (let i = 1; i < below; i++) panel[x + i * width]! *= scale;
      panel[x] = beta;
    }
    tau[c] = t;
    madeBy[c] = jl;
    const rest = width - jl - 1;
    if (t !== 0 && rest > 0) {
      // w = vᵀ·(the columns right of jl), then those columns −= t·v·w; v is 1 at row c, the column below it.
      const right = x + 1;
      for (let q = 0; q < rest; q++) w[q] = panel[right + q]!;
      for (let i = 1; i < below; i++) {
        const vi = panel[x + i * width]!;
        const row = right + i * width;
        for (let q = 0; q < rest; q++) w[q]! += vi * panel[row + q]!;
      }
      for (let q = 0; q < rest; q++) panel[right + q]! -= t * w[q]!;
      for (let i = 1; i < below; i++) {
        const tvi = t * panel[x + i * width]!;
        const row = right + i * width;
        for (let q = 0; q < rest; q++) panel[row + q]! -= tvi * w[q]!;
      }
    }
    c++;
  }
  return c;
}

interface Householder {
  blocks: ReflectorBlock[];
  /** column[g]: the column whose elimination made reflector g (increasing). */
  column: number[];
}

/**
 * Blocked Householder QR of w (rows × cols, ld cols, rows ≥ cols) in place: afterwards row g < reflectors holds, from
 * column column[g] on, row column[g] of R; the rest of w is scratch. Columns whose remainder is not above dropBelow ×
 * their norm make no reflector (dropBelow = 0 keeps every column with anything left).
 */
function householderQr(w: Float64Array, rows: number, cols: number, dropBelow: number): Householder {
  const columnNorms = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) columnNorms[j]! += w[i * cols + j]! * w[i * cols + j]!;
  }
  for (let j = 0; j < cols; j++) columnNorms[j] = Math.sqrt(columnNorms[j]!);
  const h: Householder = { blocks: [], column: [] };
  const tau = new Float64Array(PANEL_COLUMNS);
  const madeBy = new Int32Array(PANEL_COLUMNS);
  let g = 0;
  for (let j0 = 0; j0 < cols; j0 += PANEL_COLUMNS) {
    const width = Math.min(PANEL_COLUMNS, cols - j0);
    const length = rows - g;
    const panel = new Float64Array(length * width);
    for (let i = 0; i < length; i++) panel.set(w.subarray((g + i) * cols + j0, (g + i) * cols + j0 + width), i * width);
    const count = factorPanel(panel, length, width, columnNorms, j0, dropBelow, tau, madeBy);
    for (let i = 0; i < length; i++) w.set(panel.subarray(i * width, (i + 1) * width), (g + i) * cols + j0);
    if (count === 0) continue;
    const block: ReflectorBlock = {
      first: g,
      count,
      length,
      v: new Float64Array(length * count),
      t: new Float64Array(count * count),
    };
    for (let c = 0; c < count; c++) {
      block.v[c * count + c] = 1;
      for (let i = c + 1; i < length; i++) block.v[i * count + c] = panel[i * width + madeBy[c]!]!;
      h.column.push(j0 + madeBy[c]!);
    }
    formT(block, tau);
    applyBlock(block, w, cols, j0 + width, cols, true);
    h.blocks.push(block);
    g += count;
  }
  return h;
}

/**
 * Thin QR of a (rows × cols, rows ≥ cols) by blocked Householder: q (rows × cols) gets orthonormal columns, r (cols ×
 * cols) upper triangular with a nonnegative diagonal, A = Q·R. A column whose part orthogonal to the previous columns
 * is not above 1e-13 of its norm is numerically dependent: its column of q is zero and so is its row of r (its
 * coefficients on the previous columns stay in r).
 */
export function thinQrTs(a: Float64Array, rows: number, cols: number, q: Float64Array, r: Float64Array): void {
  q.set(a.subarray(0, rows * cols));
  const h = householderQr(q, rows, cols, 1e-13);
  const reflectors = h.column.length;
  r.fill(0, 0, cols * cols);
  for (let g = 0; g < reflectors; g++) {
    const j = h.column[g]!;
    r.set(q.subarray(g * cols + j, (g + 1) * cols), j * cols + j);
  }
  // Q's first `reflectors` columns: the blocks applied, last first, to the identity (LAPACK's dorgqr); a column left
  // of a block's first row is a unit vector above it, which the block leaves alone.
  q.fill(0, 0, rows * cols);
  for (let g = 0; g < reflectors; g++) q[g * cols + g] = 1;
  for (let b = h.blocks.length - 1; b >= 0; b--)
    applyBlock(h.blocks[b]!, q, cols, h.blocks[b]!.first, reflectors, false);
  // Then each to the column that made it (column[g] ≥ g, increasing: last first never overwrites), zero in between.
  for (let g = reflectors - 1; g >= 0; g--) {
    const j = h.column[g]!;
    if (j === g) continue;
    for (let i = 0; i < rows; i++) {
      q[i * cols + j] = q[i * cols + g]!;
      q[i * cols + g] = 0;
    }
  }
  // A nonnegative diagonal makes the factorization unique, the same as Gram–Schmidt's.
  for (let g = 0; g < reflectors; g++) {
    const j = h.column[g]!;
    if (!(r[j * cols + j]! < 0)) continue;
    for (let c = j; c < cols; c++) r[j * cols + c] = -r[j * cols + c]!;
    for (let i = 0; i < rows; i++) q[i * cols + j] = -q[i * cols + j]!;
  }
}

/**
 * Householder tridiagonalization of the symmetric matrix whose lower triangle is t (n×n, in place): diagonal d,
 * off-diagonal e (e[i] couples i and i+1). Reflector k (on rows k+1 ..) has tau[k] and its vector below row k+1 in
 * column k of t. Each step is the symmetric rank-2 update of LAPACK's dsytd2, over the lower triangle only.
 */
function tridiagonalize(t: Float64Array, n: number, d: Float64Array, e: Float64Array, tau: Float64Array): void {
  const v = new Float64Array(n);
  const p = new Float64Array(n);
  const w = new Float64Array(n);
  for (let k = 0; k + 2 < n; k++) {
    const length = n - k - 1;
    const base = (k + 1) * n + k + 1;
    const alpha = t[(k + 1) * n + k]!;
    let sigma = 0;
    for (let i = 1; i < length; i++) sigma += t[(k + 1 + i) * n + k]! * t[(k + 1 + i) * n + k]!;
    d[k] = t[k * n + k]!;
    tau[k] = 0;
    e[k] = alpha;
    if (sigma === 0) continue;
    const norm = Math.sqrt(alpha * alpha + sigma);
    const beta = alpha > 0 || Object.is(alpha, 0) ? -norm : norm;
    const tk = (beta - alpha) / beta;
    const scale = 1 / (alpha - beta);
    v[0] = 1;
    for (let i = 1; i < length; i++) {
      t[(k + 1 + i) * n + k]! *= scale;
      v[i] = t[(k + 1 + i) * n + k]!;
    }
    tau[k] = tk;
    e[k] = beta;
    // p = tk·T·v from the lower triangle: each row's part left of the diagonal serves its own entry and, transposed,
    // the entries of the rows above it.
    p.fill(0, 0, length);
    for (let i = 0; i < length; i++) {
      const row = base + i * n;
      const vi = v[i]!;
      let s = 0;
      for (let j = 0; j < i; j++) {
        s += t[row + j]! * v[j]!;
        p[j]! += vi * t[row + j]!;
      }
      p[i]! += s + t[row + i]! * vi;
    }
    let pv = 0;
    for (let i = 0; i < length; i++) {
      p[i]! *= tk;
      pv += p[i]! * v[i]!;
    }
    // w = p − (tk/2)(pᵀv)·v, and T −= v·wᵀ + w·vᵀ.
    const half = 0.5 * tk * pv;
    for (let i = 0; i < length; i++) w[i] = p[i]! - half * v[i]!;
    for (let i = 0; i < length; i++) {
      const row = base + i * n;
      const vi = v[i]!;
      const wi = w[i]!;
      for (let j = 0; j <= i; j++) t[row + j]! -= vi * w[j]! + wi * v[j]!;
    }
  }
  if (n >= 2) {
    d[n - 2] = t[(n - 2) * n + n - 2]!;
    e[n - 2] = t[(n - 1) * n + n - 2]!;
  }
  d[n - 1] = t[(n - 1) * n + n - 1]!;
  e[n - 1] = 0;
}

/**
 * z (n×n) ← Qᵀ for the Q = H_0⋯H_{n−3} of tridiagonalize: Q = diag(1, Q') with Q' formed blockwise, its blocks applied,
 * last first, to the identity (LAPACK's dorgqr).
 */
function tridiagonalBasis(t: Float64Array, n: number, tau: Float64Array, z: Float64Array): void {
  z.fill(0, 0, n * n);
  z[0] = 1;
  if (n <= 2) {
    if (n === 2) z[n + 1] = 1;
    return;
  }
  const m = n - 1;
  const reflectors = n - 2;
  const blocks: ReflectorBlock[] = [];
  for (let g0 = 0; g0 < reflectors; g0 += PANEL_COLUMNS) {
    const count = Math.min(PANEL_COLUMNS, reflectors - g0);
    const length = m - g0;
    const block: ReflectorBlock = {
      first: g0,
      count,
      length,
      v: new Float64Array(length * count),
      t: new Float64Array(count * count),
    };
    for (let c = 0; c < count; c++) {
      block.v[c * count + c] = 1;
      for (let i = c + 1; i < length; i++) block.v[i * count + c] = t[(1 + g0 + i) * n + g0 + c]!;
    }
    formT(block, tau.subarray(g0));
    blocks.push(block);
  }
  const q = new Float64Array(m * m);
  for (let i = 0; i < m; i++) q[i * m + i] = 1;
  // Columns left of a block's first row are still unit vectors above it, which the block leaves alone.
  for (let b = blocks.length - 1; b >= 0; b--) applyBlock(blocks[b]!, q, m, blocks[b]!.first, m, false);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) z[(i + 1) * n + j + 1] = q[j * m + i]!;
  }
}

/**
 * Eigenvalues of the tridiagonal (d, e) into d, by implicit QL with Wilkinson-type shifts (EISPACK's tql2, as in
 * JAMA); each sweep's rotations are applied to the rows of z, which then hold the eigenvectors.
 */
function tridiagonalQl(d: Float64Array, e: Float64Array, z: Float64Array, n: number): void {
  const cosine = new Float64Array(n);
  const sine = new Float64Array(n);
  let shift = 0;
  let scale = 0;
  for (let l = 0; l < n; l++) {
    scale = Math.max(scale, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n - 1 && !(Math.abs(e[m]!) <= EPSILON * scale)) m++;
    if (m > l) {
      do {
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = Math.sqrt(p * p + 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i]! -= h;
        shift += h;
        p = d[m]!;
        let c = 1;
        let c2 = 1;
        let c3 = 1;
        let s = 0;
        let s2 = 0;
        const el1 = e[l + 1]!;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.sqrt(p * p + e[i]! * e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          cosine[i] = c;
          sine[i] = s;
        }
        rotateRows(z, n, l, m, cosine, sine);
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]!) > EPSILON * scale);
    }
    d[l]! += shift;
    e[l] = 0;
  }
}

/** Rows i and i+1 of z rotated by (cosine[i], sine[i]), i from last − 1 down to first: one QL sweep. */
function rotateRows(
  z: Float64Array,
  n: number,
  first: number,
  last: number,
  cosine: Float64Array,
  sine: Float64Array,
): void {
  for (let i = last - 1; i >= first; i--) {
    const upper = i * n;
    const lower = upper + n;
    const c = cosine[i]!;
    const s = sine[i]!;
    for (let k = 0; k < n; k++) {
      const h = z[lower + k]!;
      z[lower + k] = s * z[upper + k]! + c * h;
      z[upper + k] = c * z[upper + k]! - s * h;
    }
  }
}

/**
 * Negates column k of x (rows × cols), and of other when given, wherever its largest-magnitude entry (the first of
 * equals) is negative: a deterministic sign, the same in every implementation.
 */
function signColumns(x: Float64Array, rows: number, cols: number, other?: Float64Array, otherRows = 0): void {
  for (let k = 0; k < cols; k++) {
    let best = 0;
    for (let i = 1; i < rows; i++) if (Math.abs(x[i * cols + k]!) > Math.abs(x[best * cols + k]!)) best = i;
    if (!(x[best * cols + k]! < 0)) continue;
    for (let i = 0; i < rows; i++) x[i * cols + k] = -x[i * cols + k]!;
    if (other) for (let i = 0; i < otherRows; i++) other[i * cols + k] = -other[i * cols + k]!;
  }
}

/** Indices of values in decreasing order (stable: equal values keep their order). */
function decreasingOrder(values: Float64Array, n: number): number[] {
  return Array.from({ length: n }, (_, i) => i).sort((x, y) => values[y]! - values[x]! || 0);
}

/**
 * All eigenpairs of a symmetric n×n matrix (its lower triangle is read): values in decreasing order, vectors n×n with
 * column j the unit eigenvector of values[j], signed so that its largest-magnitude entry (the first of equals) is
 * positive. Householder tridiagonalization, then implicit QL.
 */
export function symmetricEigenTs(a: Float64Array, n: number, values: Float64Array, vectors: Float64Array): void {
  if (n <= 0) return;
  const t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) t.set(a.subarray(i * n, i * n + i + 1), i * n);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const tau = new Float64Array(Math.max(n - 2, 0));
  tridiagonalize(t, n, d, e, tau);
  const z = new Float64Array(n * n);
  tridiagonalBasis(t, n, tau, z);
  tridiagonalQl(d, e, z, n);
  const order = decreasingOrder(d, n);
  for (let j = 0; j < n; j++) {
    values[j] = d[order[j]!]!;
    const vector = order[j]! * n;
    for (let i = 0; i < n; i++) vectors[i * n + j] = z[vector + i]!;
  }
  signColumns(vectors, n, n);
}

/** Columns per Jacobi block and the sweep limit (as in C++, so that both rotate the same pairs in the same order). */
const JACOBI_BLOCK_COLUMNS = 16;
const JACOBI_MAX_SWEEPS = 60;

/**
 * One-sided Jacobi on w (n columns of n, column-major) until every pair of columns is orthogonal to sqrt(n)·eps
 * (LAPACK's dgesvj default); v accumulates the rotations. Columns are cut into an even number of blocks, and each
 * sweep is a round-robin tournament of blocks: C++ runs a round's block pairs at once; here they run in turn.
 */
function oneSidedJacobi(w: Float64Array, v: Float64Array, n: number): void {
  const norms = new Float64Array(n);
  for (let j = 0; j < n; j++) norms[j] = dot(w, j * n, w, j * n, n);
  const tolerance = Math.sqrt(n) * EPSILON;
  let blocks = Math.max(2, Math.ceil(n / JACOBI_BLOCK_COLUMNS));
  blocks += blocks % 2;
  const start = (block: number) => Math.floor((block * n) / blocks);
  for (let sweep = 0; sweep < JACOBI_MAX_SWEEPS; sweep++) {
    let rotations = 0;
    for (let round = 0; round < blocks - 1; round++) {
      for (let task = 0; task < blocks / 2; task++) {
        // The circle method: block blocks−1 stays, the others turn one place per round.
        let x = task === 0 ? blocks - 1 : (round + task) % (blocks - 1);
        let y = task === 0 ? round : (round - task + blocks - 1) % (blocks - 1);
        if (x > y) [x, y] = [y, x];
        if (round === 0) {
          rotations += rotatePairs(w, v, norms, n, tolerance, start(x), start(x + 1), start(x), start(x + 1));
          rotations += rotatePairs(w, v, norms, n, tolerance, start(y), start(y + 1), start(y), start(y + 1));
        }
        rotations += rotatePairs(w, v, norms, n, tolerance, start(x), start(x + 1), start(y), start(y + 1));
      }
    }
    if (rotations === 0) break;
  }
}

/**
 * Rotates every pair (p, q), p ∈ [p0, p1), q ∈ [max(q0, p+1), q1), not yet orthogonal to tolerance: Hestenes' rotation
 * (Rutishauser's formulas) makes w_p ⟂ w_q, v follows, and the new norms are summed while rotating.
 */
function rotatePairs(
  w: Float64Array,
  v: Float64Array,
  norms: Float64Array,
  n: number,
  tolerance: number,
  p0: number,
  p1: number,
  q0: number,
  q1: number,
): number {
  let rotations = 0;
  for (let p = p0; p < p1; p++) {
    for (let q = Math.max(q0, p + 1); q < q1; q++) {
      const wp = p * n;
      const wq = q * n;
      const gamma = dot(w, wp, w, wq, n);
      const alpha = norms[p]!;
      const beta = norms[q]!;
      if (!(Math.abs(gamma) > tolerance * Math.sqrt(alpha) * Math.sqrt(beta))) continue;
      const zeta = (beta - alpha) / (2 * gamma);
      const t = (zeta < 0 || Object.is(zeta, -0) ? -1 : 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
      const c = 1 / Math.sqrt(1 + t * t);
      const s = c * t;
      let normP = 0;
      let normQ = 0;
      for (let i = 0; i < n; i++) {
        const x = w[wp + i]!;
        const y = w[wq + i]!;
        const xr = c * x - s * y;
        const yr = s * x + c * y;
        w[wp + i] = xr;
        w[wq + i] = yr;
        normP += xr * xr;
        normQ += yr * yr;
      }
      norms[p] = normP;
      norms[q] = normQ;
      for (let k = 0; k < n; k++) {
        const x = v[wp + k]!;
        const y = v[wq + k]!;
        v[wp + k] = c * x - s * y;
        v[wq + k] = s * x + c * y;
      }
      rotations++;
    }
  }
  return rotations;
}

function dot(x: Float64Array, xOffset: number, y: Float64Array, yOffset: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += x[xOffset + i]! * y[yOffset + i]!;
  return s;
}

/**
 * Thin SVD A = U·diag(s)·Vᵀ of a (rows × cols), r = min(rows, cols): u is rows × r, s has r values in decreasing order,
 * v is cols × r, both with orthonormal columns (a column of u is zero where s is exactly 0). Each column of v is signed
 * so that its largest-magnitude entry (the first of equals) is positive, u's column with it. Preconditioned one-sided
 * Jacobi (Drmač and Veselić): A·P = Q1·R1 with the columns by decreasing norm, R1ᵀ = Q2·R2, Jacobi on R2ᵀ. Small
 * singular values keep their relative accuracy when A's columns are badly scaled.
 */
export function svdTs(
  a: Float64Array,
  rows: number,
  cols: number,
  u: Float64Array,
  s: Float64Array,
  v: Float64Array,
): void {
  // The SVD of a wide A is that of Aᵀ with u and v swapped: factor the tall one, m × n, in the output it fills.
  const tall = rows >= cols;
  const m = tall ? rows : cols;
  const n = tall ? cols : rows;
  const left = tall ? u : v;
  const right = tall ? v : u;
  if (n === 0) return;
  const element = (i: number, j: number) => (tall ? a[i * cols + j]! : a[j * cols + i]!);
  const norms = new Float64Array(n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) norms[j]! += element(i, j) * element(i, j);
  const columns = decreasingOrder(norms, n);
  for (let i = 0; i < m; i++) for (let k = 0; k < n; k++) left[i * n + k] = element(i, columns[k]!);
  // Every column with anything left keeps its reflector: dropping would cost the small singular values.
  const h1 = householderQr(left, m, n, 0);
  const second = new Float64Array(n * n);
  for (let g = 0; g < h1.column.length; g++) {
    const row = h1.column[g]!;
    for (let j = row; j < n; j++) second[j * n + row] = left[g * n + j]!;
  }
  const h2 = householderQr(second, n, n, 0);
  // X = R2ᵀ into w, column-major (column j of X is row j of R2); Jacobi makes W = X·J with orthogonal columns.
  const w = new Float64Array(n * n);
  const rotations = new Float64Array(n * n);
  for (let g = 0; g < h2.column.length; g++) {
    const row = h2.column[g]!;
    w.set(second.subarray(g * n + row, (g + 1) * n), row * n + row);
  }
  for (let j = 0; j < n; j++) rotations[j * n + j] = 1;
  oneSidedJacobi(w, rotations, n);
  const sigma = new Float64Array(n);
  for (let j = 0; j < n; j++) sigma[j] = Math.sqrt(dot(w, j * n, w, j * n, n));
  const order = decreasingOrder(sigma, n);
  for (let k = 0; k < n; k++) s[k] = sigma[order[k]!]!;
  // A = (Q1·U_X)·Σ·(P·Q2·J)ᵀ. A Q with dropped columns times Y is its reflectors applied, last first, to the rows of Y
  // at the kept columns over zeros (LAPACK's dormqr).
  left.fill(0, 0, m * n);
  for (let g = 0; g < h1.column.length; g++) {
    const row = h1.column[g]!;
    for (let k = 0; k < n; k++) left[g * n + k] = s[k]! > 0 ? w[order[k]! * n + row]! / s[k]! : 0;
  }
  for (let b = h1.blocks.length - 1; b >= 0; b--) applyBlock(h1.blocks[b]!, left, n, 0, n, false);
  second.fill(0);
  for (let g = 0; g < h2.column.length; g++) {
    const row = h2.column[g]!;
    for (let k = 0; k < n; k++) second[g * n + k] = rotations[order[k]! * n + row]!;
  }
  for (let b = h2.blocks.length - 1; b >= 0; b--) applyBlock(h2.blocks[b]!, second, n, 0, n, false);
  for (let k = 0; k < n; k++) right.set(second.subarray(k * n, (k + 1) * n), columns[k]! * n);
  if (tall) signColumns(right, n, n, left, m);
  else signColumns(left, m, n, right, n);
}
