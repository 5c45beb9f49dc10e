/**
 * Eigenvalues (the returned matrix's diagonal) and eigenvectors (columns of `v`) of a small symmetric matrix
 * (row-major k × k), by cyclic Jacobi rotations: exact to rounding for the reference fields' Gram matrices (up to 8
 * references, per output).
 *
 * Why not opu-native's symmetricEigen (which the anchor geometry uses): the vector's sign is the sign of the
 * output's row of B. These rotations fix it as 0.1 did, so the same seed gives the same projection and the same
 * training run; the kernel's convention (largest component positive) negates about 3% of the rows. A k ≤ 8 problem
 * per output costs less here than a kernel call.
 */
function jacobiEigen(matrix: Float64Array, k: number): { a: Float64Array; v: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(k * k);
  for (let i = 0; i < k; i++) v[i * k + i] = 1;
  for (let sweep = 0; sweep < 32; sweep++) {
    let off = 0;
    for (let p = 0; p < k; p++) for (let q = p + 1; q < k; q++) off += a[p * k + q]! ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < k; p++) {
      for (let q = p + 1; q < k; q++) {
        const apq = a[p * k + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * k + q]! - a[p * k + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < k; r++) {
          const arp = a[r * k + p]!;
          const arq = a[r * k + q]!;
          a[r * k + p] = c * arp - s * arq;
          a[r * k + q] = s * arp + c * arq;
        }
        for (let r = 0; r < k; r++) {
          const apr = a[p * k + r]!;
          const aqr = a[q * k + r]!;
          a[p * k + r] = c * apr - s * aqr;
          a[q * k + r] = s * apr + c * aqr;
        }
        for (let r = 0; r < k; r++) {
          const vrp = v[r * k + p]!;
          const vrq = v[r * k + q]!;
          v[r * k + p] = c * vrp - s * vrq;
          v[r * k + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  return { a, v };
}

/** Largest eigenvalue and its unit eigenvector of a small symmetric matrix (row-major k × k). */
export function topEigenpair(matrix: Float64Array, k: number, vector: Float64Array): number {
  const { a, v } = jacobiEigen(matrix, k);
  let best = 0;
  for (let i = 1; i < k; i++) if (a[i * k + i]! > a[best * k + best]!) best = i;
  for (let r = 0; r < k; r++) vector[r] = v[r * k + best]!;
  return a[best * k + best]!;
}

/**
 * Points in the plane whose pairwise dot products best fit a Gram matrix of rank 2 (classical multidimensional
 * scaling): point r is (√λ₁·v₁[r], √λ₂·v₂[r]) from the two largest eigenpairs, written to `points` as k (x, y) pairs.
 * Complex numbers are such points (Re(b̄_k·b_l) is their dot product), so the reference fields of one output are
 * placed up to a rotation and a reflection. The first axis is the top eigenvector's: the facade's u direction.
 * A negative eigenvalue (noise on a rank-2 matrix) counts as 0.
 */
export function planeCoordinates(gram: Float64Array, k: number, points: Float64Array): void {
  const { a, v } = jacobiEigen(gram, k);
  const order = Array.from({ length: k }, (_, i) => i).sort((i, j) => a[j * k + j]! - a[i * k + i]!);
  const [first, second] = [order[0]!, order[1] ?? -1];
  const x = Math.sqrt(Math.max(0, a[first * k + first]!));
  const y = second >= 0 ? Math.sqrt(Math.max(0, a[second * k + second]!)) : 0;
  for (let r = 0; r < k; r++) {
    points[2 * r] = x * v[r * k + first]!;
    points[2 * r + 1] = second >= 0 ? y * v[r * k + second]! : 0;
  }
}
