/**
 * The one declaration of every kernel: its parameters in call order with their kinds, which arrays it writes, what
 * it computes, and, below in CHECKS, how its arguments constrain each other. Everything else is derived from here:
 * - the TypeScript type of the raw kernels (KernelImplementation, KernelArgs) — the mapped types below;
 * - validation: per kind (validate.ts), then the kernel's own check, then no written array may share memory with
 *   another array argument;
 * - dispatch: Kernels.call(name, ...args) validates, then calls the native or the TypeScript implementation;
 * - the C++ argument unpacking (addon/src/generated/bindings.h) and the kernel tables of native/README.md and
 *   docs/architecture.md, written by `node native/scripts/generate-bindings.mjs` (a test fails when they are stale;
 *   `npm run build:native` regenerates the bindings before compiling).
 *
 * The generator runs on plain Node (the install's build), so it reads the SIGNATURES literal as JavaScript: keep it
 * data only — object, array, string, number and boolean literals and comments, no types, no identifiers, no
 * functions — from `export const SIGNATURES = {` to the `} as const` at the start of a line.
 *
 * Parameter: [name, kind, options]. Kinds: 'bool'; 'i32' (a whole number in [min ?? 0, max ?? 2³¹ − 1]); 'u32';
 * 'f32' and 'f64' (finite; C++ float and double); typed arrays by class name ('Uint8Array|Uint16Array' is either;
 * C++ gets its bytes and `elementSize(x)`); { struct, fields } (an object, C++ the named struct, fields in its
 * order). Options: `out` (the kernel writes it), `label` (the name the Kernels method's caller knows it by, used in
 * errors), `min`, `max`. `call` is the C++ call, with `length(x)` (elements of array x), `orNull(x)` (nullptr when
 * x is empty) and `elementSize(x)`; a bare function name means all parameters in order.
 */
import { KernelArgumentError } from '../errors.js';
import type { ArrayKind, ArrayKinds, KernelDeclaration } from './declaration.js';
import {
  type ArrayLength,
  disjointArg,
  elementArg,
  lengthArg,
  matrixArg,
  rangeArg,
  sameLengthArgs,
} from './validate.js';

export const SIGNATURES = {
  sgemm: {
    doc: 'C = alpha·op(A)·op(B) + beta·C, row-major, views',
    typescript: 'row loop in float64',
    native:
      'BLIS-style packing, depths where a panel of A is all zero left out; 12×32 AVX-512, 6×16 AVX2-FMA or portable micro-kernel picked at run time; rows or columns split over the pool',
    header: 'linalg/sgemm.h',
    call: 'opu::sgemm',
    async: true,
    params: [
      ['transA', 'bool', { label: 'options.transA' }],
      ['transB', 'bool', { label: 'options.transB' }],
      ['m', 'i32'],
      ['n', 'i32'],
      ['k', 'i32'],
      ['alpha', 'f32', { label: 'options.alpha' }],
      ['A', 'Float32Array'],
      ['lda', 'i32', { label: 'options.lda', min: 1 }],
      ['B', 'Float32Array'],
      ['ldb', 'i32', { label: 'options.ldb', min: 1 }],
      ['beta', 'f32', { label: 'options.beta' }],
      ['C', 'Float32Array', { out: true }],
      ['ldc', 'i32', { label: 'options.ldc', min: 1 }],
    ],
  },
  sgemmSgdStep: {
    doc: 'sgdStep with g = alpha·op(A)·op(B) (a weight gradient δᵀ·h), g never stored',
    typescript: 'sgemm into a scratch G, then sgdStep',
    native: 'sgemm’s driver, the step in the micro-kernel’s epilogue: the bits of sgemm then sgdStep',
    header: 'linalg/sgemm.h',
    call: 'opu::sgemmSgdStep',
    params: [
      ['transA', 'bool', { label: 'product.transA' }],
      ['transB', 'bool', { label: 'product.transB' }],
      ['m', 'i32'],
      ['n', 'i32'],
      ['k', 'i32'],
      ['alpha', 'f32', { label: 'product.alpha' }],
      ['A', 'Float32Array'],
      ['lda', 'i32', { label: 'product.lda', min: 1 }],
      ['B', 'Float32Array'],
      ['ldb', 'i32', { label: 'product.ldb', min: 1 }],
      ['p', 'Float32Array', { out: true }],
      ['v', 'Float32Array', { out: true }],
      ['rate', 'f32'],
      ['momentum', 'f32'],
      ['decay', 'f32'],
    ],
  },
  fillMediumTile: {
    doc: 'tiles of the medium’s matrix from Philox, quantized to q/4096 (q of 16 bits)',
    typescript: 'Philox + deterministic ln, sincos',
    native: 'bit-identical to TypeScript (deterministic ln, sincos; `-ffp-contract=off`); columns in parallel',
    header: 'optics/medium.h',
    call: 'opu::fillMediumTile',
    params: [
      ['seed', 'u32'],
      ['epoch', 'u32'],
      ['pixels', 'Int32Array'],
      ['p0', 'i32'],
      ['p1', 'i32'],
      ['mirrors', 'Int32Array'],
      ['q0', 'i32'],
      ['q1', 'i32'],
      ['re', 'Float32Array', { out: true }],
      ['im', 'Float32Array', { out: true }],
    ],
  },
  mediumFields: {
    doc: 'Σ of matrix columns over each frame’s lit mirrors, exact in 32-bit integers, as fields or fused intensities',
    typescript: 'a column per lit mirror (lists)',
    native:
      'grouped (mirrors on or off together over the batch summed once, the groups and their sums kept across calls), int16 dot products with AVX-512 VNNI on a packed int16 matrix kept across calls, 16-entry subset tables of 4 mirrors (four Russians) with 32 pixels of a frame in registers, or lists; chosen per batch; lazy tiles or the cached matrix',
    header: 'optics/medium.h',
    call: 'opu::mediumFields(seed, epoch, pixels, length(pixels), mirrors, length(mirrors), packed, frames, orNull(cachedRe), orNull(cachedIm), kernel, outRe, orNull(outIm))',
    async: true,
    params: [
      ['seed', 'u32'],
      ['epoch', 'u32'],
      ['pixels', 'Int32Array'],
      ['mirrors', 'Int32Array'],
      ['packed', 'Uint8Array'],
      ['frames', 'i32'],
      // Empty: no cached matrix, tiles are generated.
      ['cachedRe', 'Float32Array', { label: 'cached.re' }],
      ['cachedIm', 'Float32Array', { label: 'cached.im' }],
      // FieldKernel: auto, lists, tables, grouped, dense.
      ['kernel', 'i32', { max: 4 }],
      ['outRe', 'Float32Array', { out: true }],
      // Empty: intensities into outRe.
      ['outIm', 'Float32Array', { out: true }],
    ],
  },
  cameraExpose: {
    doc: 'photo-electrons, shot noise, full well, read noise, gain, bias, ADC',
    typescript: 'per pixel and frame, noise keyed by (frame index, pixel)',
    native:
      'bit-identical to TypeScript; frames in parallel; one Philox block and one float32 Box–Muller pair per pixel, Philox 8 and the float32 arithmetic 16 pixels per AVX-512 vector, the Poisson inversions below 64 e⁻ gathered per frame, 32 pixels at a time',
    header: 'optics/camera.h',
    call: 'opu::cameraExpose(model, intensity, frames, pixels, length(pixels), pixelResponse, firstFrameIndex, powerFactors, out, elementSize(out), saturated)',
    async: true,
    params: [
      [
        'model',
        {
          struct: 'opu::CameraModel',
          fields: [
            ['seed', 'u32'],
            // Photo-electrons per unit of field intensity at nominal power: light × QE × exposure.
            ['electronsPerIntensity', 'f64', { min: 0 }],
            ['darkElectrons', 'f64', { min: 0 }],
            ['fullWellE', 'f64', { min: 0 }],
            ['readNoiseE', 'f64', { min: 0 }],
            ['aduPerElectron', 'f64', { min: 0 }],
            ['biasAdu', 'f64', { min: 0 }],
            ['maxAdu', 'f64', { min: 0 }],
            ['shotNoise', 'bool'],
          ],
        },
      ],
      // Field intensities (E|R|² = 1 units), frames × pixels.
      ['intensity', 'Float32Array'],
      ['frames', 'i32'],
      // Absolute sensor indices of the ROI's pixels: the noise is keyed by them.
      ['pixels', 'Int32Array'],
      // Fixed relative gain of each pixel (photo-response non-uniformity).
      ['pixelResponse', 'Float64Array'],
      // Frames shown since the device opened before this batch: the noise is keyed by the frame index.
      ['firstFrameIndex', 'u32'],
      // Laser power of each frame relative to nominal.
      ['powerFactors', 'Float64Array'],
      // frames × pixels digital numbers: Uint8Array for 8-bit ADCs, Uint16Array otherwise.
      ['out', 'Uint8Array|Uint16Array', { out: true }],
      // Per frame, pixels clipped at full well or at the ADC maximum.
      ['saturated', 'Uint32Array', { out: true }],
    ],
  },
  darkSubtract: {
    doc: 'camera frames to dark-subtracted intensity per µs: out[destination[f]·m + i] = (adu[f·pixelsPerFrame + i] − dark[i]) / exposureUs, frames with destination ≥ 0',
    typescript: 'one loop per frame, in float64',
    native: 'the same float64 operations, vectorized over pixels (clones as sgdStep), on the calling thread',
    header: 'measure/cross-terms.h',
    call: 'opu::darkSubtract(adu, elementSize(adu), pixelsPerFrame, frames, dark, length(dark), exposureUs, destination, out)',
    params: [
      // Camera frames, frames × pixelsPerFrame; the first m = length(dark) pixels of each are the outputs.
      ['adu', 'Uint8Array|Uint16Array'],
      ['pixelsPerFrame', 'i32'],
      ['frames', 'i32'],
      // The dark level of each output pixel at this exposure, ADU.
      ['dark', 'Float64Array'],
      ['exposureUs', 'f64', { min: 0 }],
      // The row of `out` each frame goes to, or −1 to skip it (a saturated frame).
      ['destination', 'Int32Array'],
      ['out', 'Float32Array', { out: true }],
    ],
  },
  crossTerms: {
    doc: 'binary pieces’ projections from their frames’ cross terms: sums[row_p] += w_p·(Σ_k c_k·I(x + r_k) − s·mean I(x) − t)',
    typescript: 'per piece: the mean plain frame, then one multiply-add per reference frame and pixel, in float64',
    native:
      'the same float64 operations in the same order, vectorized over pixels (clones as sgdStep), on the calling thread',
    header: 'measure/cross-terms.h',
    call: 'opu::crossTerms(references, coefficients, plainCoefficient, offset, length(plainCoefficient), intensity, firstFrame, plainFrames, weights, sumRows, length(firstFrame), sums)',
    params: [
      ['references', 'i32', { min: 1 }],
      // c_ik, references × m (opu-core's crossTermCombination).
      ['coefficients', 'Float64Array'],
      // s_i = Σ_k c_ik, m.
      ['plainCoefficient', 'Float64Array'],
      // t_i = Σ_k c_ik·|b_ik|², m.
      ['offset', 'Float64Array'],
      // Intensities per µs, frames × m: piece p's plainFrames[p] frames of I(x) from firstFrame[p] (none: I(x) = 0),
      // then one frame of I(x + r_k) per reference.
      ['intensity', 'Float32Array'],
      ['firstFrame', 'Int32Array'],
      ['plainFrames', 'Int32Array'],
      ['weights', 'Float64Array'],
      // The row of `sums` (× m) each piece adds to.
      ['sumRows', 'Int32Array'],
      ['sums', 'Float64Array', { out: true }],
    ],
  },
  sgdStep: {
    doc: 'SGD with momentum, in place: v = momentum·v + (g + decay·p); p −= rate·v',
    typescript: 'one loop',
    native: 'vectorized (AVX-512, AVX2 or SSE clone picked at load); chunks over the pool',
    header: 'training/elementwise.h',
    call: 'opu::sgdStep(p, g, v, length(p), rate, momentum, decay)',
    params: [
      ['p', 'Float32Array', { out: true }],
      ['g', 'Float32Array'],
      ['v', 'Float32Array', { out: true }],
      ['rate', 'f32'],
      ['momentum', 'f32'],
      ['decay', 'f32'],
    ],
  },
  adamStep: {
    doc: 'Adam, in place, with the bias corrections c1 = 1 − β1^t and c2 = 1 − β2^t of the step',
    typescript: 'one loop',
    native: 'chunks over the pool',
    header: 'training/elementwise.h',
    call: 'opu::adamStep(p, g, m, v, length(p), rate, beta1, beta2, epsilon, c1, c2, decay)',
    params: [
      ['p', 'Float32Array', { out: true }],
      ['g', 'Float32Array'],
      ['m', 'Float32Array', { out: true }],
      ['v', 'Float32Array', { out: true }],
      ['rate', 'f32', { label: 'options.rate' }],
      ['beta1', 'f32', { label: 'options.beta1' }],
      ['beta2', 'f32', { label: 'options.beta2' }],
      ['epsilon', 'f32', { label: 'options.epsilon' }],
      ['c1', 'f32', { label: 'options.c1' }],
      ['c2', 'f32', { label: 'options.c2' }],
      ['decay', 'f32', { label: 'options.decay' }],
    ],
  },
  activate: {
    doc: 'h = f(a), elementwise: tanh, ReLU, leaky ReLU, sigmoid',
    typescript: 'Math.tanh, Math.exp',
    native:
      'branch-free tanh and sigmoid from one expm1 polynomial, vectorized (clones as sgdStep); chunks over the pool',
    header: 'training/elementwise.h',
    call: 'opu::activate(static_cast<opu::Activation>(kind), slope, a, h, length(a))',
    params: [
      // ACTIVATION_KINDS: tanh, relu, leaky-relu, sigmoid.
      ['kind', 'i32', { max: 3 }],
      ['slope', 'f32'],
      ['a', 'Float32Array'],
      ['h', 'Float32Array', { out: true }],
    ],
  },
  activationGradient: {
    doc: 'out = factor · g · f′(a), row by row, g read from a wider matrix (a DFA projection)',
    typescript: 'one loop per row',
    native: 'vectorized rows (clones as sgdStep); blocks of rows over the pool',
    header: 'training/elementwise.h',
    call: 'opu::activationGradient(static_cast<opu::Activation>(kind), slope, g, gStride, factor, a, h, out, rows, width)',
    params: [
      ['kind', 'i32', { max: 3 }],
      ['slope', 'f32', { label: 'shape.slope' }],
      ['g', 'Float32Array'],
      ['gStride', 'i32', { label: 'shape.gStride' }],
      ['factor', 'f32', { label: 'shape.factor' }],
      ['a', 'Float32Array'],
      ['h', 'Float32Array'],
      ['out', 'Float32Array', { out: true }],
      ['rows', 'i32', { label: 'shape.rows' }],
      ['width', 'i32', { label: 'shape.width' }],
    ],
  },
  columnSums: {
    doc: 'out[j] = Σ_r x[r·cols + j] (the bias gradient of a batch)',
    typescript: 'row by row',
    native: 'vectorized row additions (clones as sgdStep), on the calling thread',
    header: 'training/elementwise.h',
    call: 'opu::columnSums',
    params: [
      ['x', 'Float32Array'],
      ['rows', 'i32'],
      ['cols', 'i32'],
      ['out', 'Float32Array', { out: true }],
    ],
  },
  dgemm: {
    doc: 'C = alpha·op(A)·op(B) + beta·C in float64, row-major, views',
    typescript: 'row loop, four rows of op(B) per pass, blocked for L2',
    native: 'BLIS-style packing as sgemm: 12×16 AVX-512, 6×8 AVX2-FMA or 4×8 portable micro-kernel; over the pool',
    header: 'linalg/dense.h',
    call: 'opu::dense::dgemm',
    params: [
      ['transA', 'bool', { label: 'options.transA' }],
      ['transB', 'bool', { label: 'options.transB' }],
      ['m', 'i32'],
      ['n', 'i32'],
      ['k', 'i32'],
      ['alpha', 'f64', { label: 'options.alpha' }],
      ['A', 'Float64Array'],
      ['lda', 'i32', { label: 'options.lda', min: 1 }],
      ['B', 'Float64Array'],
      ['ldb', 'i32', { label: 'options.ldb', min: 1 }],
      ['beta', 'f64', { label: 'options.beta' }],
      ['C', 'Float64Array', { out: true }],
      ['ldc', 'i32', { label: 'options.ldc', min: 1 }],
    ],
  },
  choleskyFactor: {
    doc: 'A = L·Lᵀ of a symmetric n×n matrix: L into its lower triangle, in place; false when not positive definite',
    typescript: 'left-looking by blocks of 96 columns, updates by dgemm',
    native: 'the same blocks; panels solved 8 rows at a time in vectors, updates by dgemm over the pool',
    header: 'linalg/dense.h',
    call: 'opu::dense::choleskyFactor',
    returns: 'bool',
    params: [
      ['a', 'Float64Array', { out: true }],
      ['n', 'i32'],
    ],
  },
  choleskySolve: {
    doc: 'solves L·Lᵀ·X = B in place, B n × width, L from choleskyFactor',
    typescript: 'blocked substitutions, off-diagonal blocks by dgemm',
    native: 'the same, four rows per pass in vectors; column blocks over the pool',
    header: 'linalg/dense.h',
    call: 'opu::dense::choleskySolve',
    params: [
      ['factor', 'Float64Array'],
      ['n', 'i32'],
      ['b', 'Float64Array', { out: true }],
      ['width', 'i32'],
    ],
  },
  thinQr: {
    doc: 'A = Q·R of a rows × cols matrix (rows ≥ cols): Q orthonormal columns, R upper triangular, diagonal ≥ 0',
    typescript: 'blocked Householder (32-column panels, compact WY), updates by dgemm',
    native: 'the same method; vector loops per instruction set, updates by dgemm over the pool',
    header: 'linalg/dense.h',
    call: 'opu::dense::thinQr',
    params: [
      ['a', 'Float64Array'],
      ['rows', 'i32'],
      ['cols', 'i32'],
      ['q', 'Float64Array', { out: true }],
      ['r', 'Float64Array', { out: true }],
    ],
  },
  symmetricEigen: {
    doc: 'A = V·diag(λ)·Vᵀ of a symmetric n×n matrix: λ descending, V’s column j the unit eigenvector of λ_j',
    typescript: 'Householder tridiagonalization, then implicit QL',
    native: 'the same; QL rotations kept and applied to the vectors in batches, in vectors over the pool',
    header: 'linalg/dense.h',
    call: 'opu::dense::symmetricEigen',
    params: [
      ['a', 'Float64Array'],
      ['n', 'i32'],
      ['values', 'Float64Array', { out: true }],
      ['vectors', 'Float64Array', { out: true }],
    ],
  },
  svd: {
    doc: 'thin A = U·diag(s)·Vᵀ, r = min(rows, cols): U rows × r, s descending, V cols × r',
    typescript: 'Householder QR of A (or Aᵀ when wide), then one-sided Jacobi on R',
    native: 'the same method; Jacobi rotations in vectors',
    header: 'linalg/dense.h',
    call: 'opu::dense::svd',
    params: [
      ['a', 'Float64Array'],
      ['rows', 'i32'],
      ['cols', 'i32'],
      ['u', 'Float64Array', { out: true }],
      ['s', 'Float64Array', { out: true }],
      ['v', 'Float64Array', { out: true }],
    ],
  },
} as const satisfies Record<string, KernelDeclaration>;

/** Per kernel, what its arguments must satisfy together (shapes, ranges); run after every argument's own kind. */
export const CHECKS: { [N in KernelName]?: (...args: KernelArgs<N>) => void } = {
  sgemm: gemmShapes,
  sgemmSgdStep(transA, transB, m, n, k, alpha, A, lda, B, ldb, p, v) {
    gemmShapes(transA, transB, m, n, k, alpha, A, lda, B, ldb, 0, p, n);
    if (p.length !== m * n) {
      throw new KernelArgumentError(`has ${p.length} elements, the gradient is ${m} × ${n}`, {
        field: 'p',
        fix: 'pass the whole parameter matrix, m × n row-major',
      });
    }
    sameLengthArgs({ p, v });
  },
  fillMediumTile(_seed, _epoch, pixels, p0, p1, mirrors, q0, q1, re, im) {
    rangeArg(p0, p1, pixels.length, 'p0', 'p1');
    rangeArg(q0, q1, mirrors.length, 'q0', 'q1');
    lengthArg(re, (p1 - p0) * (q1 - q0), 're', 'the tile');
    lengthArg(im, (p1 - p0) * (q1 - q0), 'im', 'the tile');
  },
  mediumFields(_seed, _epoch, pixels, mirrors, packed, frames, cachedRe, cachedIm, _kernel, outRe, outIm) {
    const m = pixels.length;
    const n = mirrors.length;
    const needed = frames * ((n + 7) >> 3);
    if (packed.length < needed) {
      throw new KernelArgumentError(`has ${packed.length} bytes, ${frames} frames of ${n} mirrors need ${needed}`, {
        field: 'packed',
        fix: 'pack ⌈mirrors/8⌉ bytes per frame',
      });
    }
    for (const [array, field] of [
      [outRe, 'outRe'],
      [outIm, 'outIm'],
    ] as const) {
      if ((array.length > 0 || field === 'outRe') && array.length < frames * m) {
        throw new KernelArgumentError(`has ${array.length} elements, frames × pixels = ${frames * m}`, {
          field,
          fix: 'pass a larger array',
        });
      }
    }
    if ((cachedRe.length > 0 || cachedIm.length > 0) && (cachedRe.length !== n * m || cachedIm.length !== n * m)) {
      throw new KernelArgumentError(`holds ${cachedRe.length} entries, mirrors × pixels = ${n * m}`, {
        field: 'cached',
        fix: 'cache the whole matrix of these mirrors and pixels, column-major',
      });
    }
  },
  cameraExpose(model, intensity, frames, pixels, pixelResponse, _firstFrameIndex, powerFactors, out, saturated) {
    if (model.maxAdu > (out instanceof Uint8Array ? 255 : 65535)) {
      throw new KernelArgumentError(`cannot hold ${model.maxAdu}`, {
        field: 'out',
        fix: 'use a Uint16Array above 8 bits',
      });
    }
    const m = pixels.length;
    lengthArg(intensity, frames * m, 'intensity');
    lengthArg(pixelResponse, m, 'pixelResponse');
    lengthArg(powerFactors, frames, 'powerFactors');
    lengthArg(out, frames * m, 'out');
    lengthArg(saturated, frames, 'saturated');
  },
  darkSubtract(adu, pixelsPerFrame, frames, dark, _exposureUs, destination, out) {
    const m = dark.length;
    if (m > pixelsPerFrame) {
      throw new KernelArgumentError(`has ${m} pixels, more than the ${pixelsPerFrame} of a frame`, {
        field: 'dark',
        fix: 'pass one dark level per output pixel, at most pixelsPerFrame',
      });
    }
    if (adu.length < frames * pixelsPerFrame) {
      throw new KernelArgumentError(`has ${adu.length} pixels, fewer than ${frames} frames × ${pixelsPerFrame}`, {
        field: 'adu',
        fix: 'pass frames × pixelsPerFrame camera values',
      });
    }
    lengthArg(destination, frames, 'destination');
    const rows = m === 0 ? 0 : Math.floor(out.length / m);
    for (let f = 0; f < frames; f++) elementArg(destination, f, -1, rows - 1, 'destination');
  },
  crossTerms(
    references,
    coefficients,
    plainCoefficient,
    offset,
    intensity,
    firstFrame,
    plainFrames,
    weights,
    sumRows,
    sums,
  ) {
    const m = plainCoefficient.length;
    lengthArg(coefficients, references * m, 'coefficients');
    lengthArg(offset, m, 'offset');
    sameLengthArgs({ firstFrame, plainFrames, weights, sumRows });
    const frames = m === 0 ? 0 : Math.floor(intensity.length / m);
    const rows = m === 0 ? 0 : Math.floor(sums.length / m);
    for (let p = 0; p < firstFrame.length; p++) {
      elementArg(plainFrames, p, 0, frames, 'plainFrames');
      elementArg(firstFrame, p, 0, frames - plainFrames[p]! - references, 'firstFrame');
      elementArg(sumRows, p, 0, rows - 1, 'sumRows');
    }
  },
  sgdStep: (p, g, v) => sameLengthArgs({ p, g, v }),
  adamStep: (p, g, m, v) => sameLengthArgs({ p, g, m, v }),
  activate: (_kind, _slope, a, h) => sameLengthArgs({ a, h }),
  activationGradient(_kind, _slope, g, gStride, _factor, a, h, out, rows, width) {
    sameLengthArgs({ a, h, out });
    // Both are read; out may overlap neither (checked for every written array), and a and h not each other.
    disjointArg(a, h, 'a', 'h');
    if (out.length !== rows * width) {
      throw new KernelArgumentError(`has ${out.length} elements, expected ${rows} × ${width}`, {
        field: 'out',
        fix: 'pass rows × width values',
      });
    }
    matrixArg(g, rows, width, gStride, 'g');
  },
  columnSums(x, rows, cols, out) {
    matrixArg(x, rows, cols, cols, 'x');
    if (out.length !== cols) {
      throw new KernelArgumentError(`has ${out.length} elements, expected ${cols}`, {
        field: 'out',
        fix: 'pass cols values',
      });
    }
  },
  dgemm: gemmShapes,
  choleskyFactor: (a, n) => matrixArg(a, n, n, n, 'a'),
  choleskySolve(factor, n, b, width) {
    matrixArg(factor, n, n, n, 'factor');
    matrixArg(b, n, width, width, 'b');
  },
  thinQr(a, rows, cols, q, r) {
    if (rows < cols) {
      throw new KernelArgumentError(`${cols} columns exceed the ${rows} rows`, {
        field: 'cols',
        fix: 'factor the transpose, or use svd for a wide matrix',
      });
    }
    matrixArg(a, rows, cols, cols, 'a');
    matrixArg(q, rows, cols, cols, 'q');
    matrixArg(r, cols, cols, cols, 'r');
  },
  symmetricEigen(a, n, values, vectors) {
    matrixArg(a, n, n, n, 'a');
    lengthArg(values, n, 'values', 'n eigenvalues');
    matrixArg(vectors, n, n, n, 'vectors');
  },
  svd(a, rows, cols, u, s, v) {
    const r = Math.min(rows, cols);
    matrixArg(a, rows, cols, cols, 'a');
    matrixArg(u, rows, r, r, 'u');
    lengthArg(s, r, 's', 'min(rows, cols) singular values');
    matrixArg(v, cols, r, r, 'v');
  },
};

/** op(A) is m×k, op(B) k×n, C m×n, each stored row-major with its leading dimension. */
function gemmShapes(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  _alpha: number,
  A: ArrayLength,
  lda: number,
  B: ArrayLength,
  ldb: number,
  _beta: number,
  C: ArrayLength,
  ldc: number,
): void {
  matrixArg(A, transA ? k : m, transA ? m : k, lda, 'A');
  matrixArg(B, transB ? n : k, transB ? k : n, ldb, 'B');
  matrixArg(C, m, n, ldc, 'C');
}

type Table = typeof SIGNATURES;
export type KernelName = keyof Table;

type ValueOf<K> = K extends ArrayKind
  ? ArrayKinds[K]
  : K extends { readonly fields: infer F extends readonly (readonly unknown[])[] }
    ? { -readonly [E in F[number] as E[0] & string]: ValueOf<E[1]> }
    : K extends 'bool'
      ? boolean
      : number;

type ArgsOf<P> = {
  -readonly [I in keyof P]: P[I] extends readonly [string, infer K, ...unknown[]] ? ValueOf<K> : never;
};

/** The arguments of a kernel in call order, as the declaration types them. */
export type KernelArgs<N extends KernelName> = ArgsOf<Table[N]['params']>;

/** The arguments of a kernel by name. */
export type KernelRecord<N extends KernelName> = {
  -readonly [P in Table[N]['params'][number] as P[0]]: ValueOf<P[1]>;
};

/** What a kernel returns: void unless it declares a result. */
// biome-ignore lint/suspicious/noConfusingVoidType: this is a function type's return type, spelled out of line.
export type KernelResult<N extends KernelName> = Table[N] extends { readonly returns: 'bool' } ? boolean : void;
export type KernelFunction<N extends KernelName> = (...args: KernelArgs<N>) => KernelResult<N>;
export type AsyncKernelName = { [N in KernelName]: Table[N] extends { readonly async: true } ? N : never }[KernelName];

/** The raw kernels, native or TypeScript, as declared; arguments are already validated when they are called. */
export type KernelImplementation = { [N in KernelName]: KernelFunction<N> } & {
  /** Off the JavaScript thread, for implementations that can (the C++ addon): same arguments, a promise. */
  [N in AsyncKernelName as `${N}Async`]?: (...args: KernelArgs<N>) => Promise<KernelResult<N>>;
} & {
  setThreads(threads: number): number;
  threads(): number;
  simdPath(): string;
  /** The addon's copy of signatureKey() when it was built: a stale addon is not used. */
  signature?: string;
};

export const KERNEL_NAMES = Object.keys(SIGNATURES) as KernelName[];

/** The declaration of a kernel, typed for code that walks any of them. */
export function declarationOf(name: KernelName): KernelDeclaration {
  return SIGNATURES[name];
}

/**
 * Every kernel's name, parameter kinds and result in one line: the generated bindings hold the same string, so the
 * loader refuses an addon built from another table (scripts/generate-bindings.mjs computes it alike).
 */
export function signatureKey(): string {
  return KERNEL_NAMES.map((name) => {
    const { params, returns } = declarationOf(name);
    const kinds = params.map(([, kind]) =>
      typeof kind === 'string' ? kind : `${kind.struct}{${kind.fields.map(([, field]) => field).join(',')}}`,
    );
    return `${name}(${kinds.join(',')})${returns ?? ''}`;
  }).join(';');
}
