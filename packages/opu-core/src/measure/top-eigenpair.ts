/**
 * Largest eigenvalue and its unit eigenvector of a small symmetric matrix (row-major k × k), by cyclic Jacobi
 * rotations: exact to rounding for the reference fields' Gram matrix (up to 4 references, per output).
 *
 * Why not opu-native's symmetricEigen (which the anchor geometry uses): the vector's sign is the sign of the
 * output's row of B. These rotations fix it as 0.1 did, so the same seed gives the same projection and the same
 * training run; the kernel's convention (largest component positive) negates about 3% of the rows. A k ≤ 4 problem
 * per output costs less here than a kernel call.
 */
export function topEigenpair(matrix: Float64Array, k: number, vector: Float64Array): number {
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
  let best = 0;
  for (let i = 1; i < k; i++) if (a[i * k + i]! > a[best * k + best]!) best = i;
  for (let r = 0; r < k; r++) vector[r] = v[r * k + best]!;
  return a[best * k + best]!;
}
