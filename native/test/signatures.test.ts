import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ParamDeclaration } from '../src/index.js';
import {
  KERNEL_NAMES,
  type KernelArgs,
  KernelArgumentError,
  type KernelName,
  Kernels,
  loadNative,
  SIGNATURES,
  typescriptKernels,
} from '../src/index.js';
import { CAMERA_8BIT } from './helpers.js';

const native = loadNative();
const implementations: [string, Kernels][] = [['typescript', typescriptKernels]];
if (native.implementation) implementations.push(['native', new Kernels('native', native.implementation)]);

const f32 = (n: number) => new Float32Array(n);
const f64 = (n: number) => new Float64Array(n);
const identity = (n: number) => Float64Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0));

/** A small valid call of every declared kernel (the type makes a new kernel need one). */
const VALID: { [N in KernelName]: () => KernelArgs<N> } = {
  sgemm: () => [false, true, 2, 3, 4, 1, f32(8), 4, f32(12), 4, 0, f32(6), 3],
  sgemmSgdStep: () => [true, false, 2, 3, 4, 1, f32(8), 2, f32(12), 3, f32(6), f32(6), 0.1, 0.9, 0],
  fillMediumTile: () => [1, 0, Int32Array.of(0, 1, 2), 0, 2, Int32Array.of(4, 5, 6), 1, 3, f32(4), f32(4)],
  mediumFields: () => [
    1,
    0,
    Int32Array.of(0, 1),
    Int32Array.of(0, 1, 2),
    Uint8Array.of(5, 2),
    2,
    f32(6),
    f32(6),
    1,
    f32(4),
    f32(4),
  ],
  cameraExpose: () => [
    CAMERA_8BIT,
    f32(6),
    2,
    Int32Array.of(0, 1, 2),
    f64(3).fill(1),
    0,
    f64(2).fill(1),
    new Uint8Array(6),
    new Uint32Array(2),
  ],
  darkSubtract: () => [new Uint8Array(8), 4, 2, f64(3), 10, Int32Array.of(1, -1), f32(6)],
  crossTerms: () => [
    2,
    f64(6),
    f64(3),
    f64(3),
    f32(12),
    Int32Array.of(0),
    Int32Array.of(1),
    f64(1),
    Int32Array.of(1),
    f64(6),
  ],
  sgdStep: () => [f32(4), f32(4), f32(4), 0.1, 0.9, 0],
  adamStep: () => [f32(4), f32(4), f32(4), f32(4), 0.1, 0.9, 0.999, 1e-8, 0.1, 0.001, 0],
  activate: () => [0, 0.01, f32(4), f32(4)],
  activationGradient: () => [1, 0.01, f32(8), 4, 1, f32(6), f32(6), f32(6), 2, 3],
  columnSums: () => [f32(6), 2, 3, f32(3)],
  dgemm: () => [true, false, 2, 3, 4, 1, f64(8), 2, f64(12), 3, 0.5, f64(6), 3],
  choleskyFactor: () => [identity(3), 3],
  choleskySolve: () => [identity(3), 3, f64(6), 2],
  thinQr: () => [Float64Array.of(1, 0, 0, 1, 1, 1), 3, 2, f64(6), f64(4)],
  symmetricEigen: () => [identity(3), 3, f64(3), f64(9)],
  svd: () => [Float64Array.of(1, 0, 0, 1, 1, 1), 2, 3, f64(4), f64(2), f64(6)],
};

/** A value of the wrong kind for a parameter. */
function wrongFor([, kind]: ParamDeclaration): unknown {
  if (typeof kind === 'object') return null;
  return { bool: 1, i32: 1.5, u32: -1, f32: Number.NaN, f64: Number.POSITIVE_INFINITY }[kind as string] ?? [0];
}

const label = ([name, , options]: ParamDeclaration) => options?.label ?? name;
const regexpText = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const params = (name: KernelName): readonly ParamDeclaration[] => SIGNATURES[name].params;
/** Calls a declared kernel with arguments the test built untyped. */
const callAny = (k: Kernels, name: KernelName, args: unknown[]) =>
  (k.call as (...a: unknown[]) => unknown)(name, ...args);

describe('the kernels’ one declaration', () => {
  it('the generated C++ bindings and the docs’ kernel tables are up to date with it', () => {
    const script = fileURLToPath(new URL('../scripts/generate-bindings.mjs', import.meta.url));
    // Throws (exit 1, naming the stale files) when they differ.
    execFileSync(process.execPath, [script, '--check'], { encoding: 'utf8', stdio: 'pipe' });
  });

  it('the loader uses only an addon built from the same declarations', () => {
    const dir = mkdtempSync(join(tmpdir(), 'opu-native-'));
    try {
      const stale = join(dir, 'stale.cjs');
      writeFileSync(stale, 'module.exports = { signature: "sgemm(bool)", simdPath: () => "portable" };');
      const load = loadNative({ OPU_NATIVE_ADDON: stale });
      expect(load.implementation).toBeUndefined();
      expect(load.reason).toMatch(/built from other kernel signatures.*npm run build:native/);
    } finally {
      rmSync(dir, { recursive: true });
    }
    if (native.implementation) expect(native.reason).toBeUndefined();
  });

  describe.each(implementations)('%s', (_backend, k) => {
    it.each(KERNEL_NAMES)('%s accepts its valid call', (name) => {
      expect(() => callAny(k, name, VALID[name]())).not.toThrow();
    });

    it.each(KERNEL_NAMES)('%s rejects a wrong argument count, naming the parameters', (name) => {
      const args = VALID[name]();
      const call = () => callAny(k, name, args.slice(0, -1));
      expect(call).toThrow(KernelArgumentError);
      expect(call).toThrow(new RegExp(`^${name}: takes ${args.length} arguments, got ${args.length - 1}`));
    });

    it.each(KERNEL_NAMES)('%s rejects each argument of the wrong kind, naming it', (name) => {
      params(name).forEach((param, i) => {
        const args: unknown[] = VALID[name]();
        args[i] = wrongFor(param);
        const call = () => callAny(k, name, args);
        expect(call, label(param)).toThrow(KernelArgumentError);
        expect(call, label(param)).toThrow(new RegExp(`^${regexpText(label(param))}: `));
        const kind = param[1];
        if (typeof kind === 'object') {
          for (const [field] of kind.fields) {
            const structArgs: unknown[] = VALID[name]();
            structArgs[i] = { ...(structArgs[i] as object), [field]: -1 };
            expect(() => callAny(k, name, structArgs)).toThrow(new RegExp(`^${regexpText(label(param))}\\.${field}: `));
          }
        }
      });
    });

    it.each(KERNEL_NAMES)('%s rejects each written array sharing memory with another array argument', (name) => {
      const declared = params(name);
      const views = VALID[name]().flatMap((value, i) => (ArrayBuffer.isView(value) ? [i] : []));
      let pairs = 0;
      for (const o of views.filter((i) => declared[i]![2]?.out)) {
        for (const j of views.filter((i) => i !== o)) {
          const args: unknown[] = VALID[name]();
          const [a, b] = [args[o] as Float32Array, args[j] as Float32Array];
          if (a.length === 0 || b.length === 0) continue;
          // Both views start at byte 0 of one buffer, with their own types and lengths.
          const buffer = new ArrayBuffer(Math.max(a.byteLength, b.byteLength));
          const at = (view: Float32Array) =>
            new (view.constructor as Float32ArrayConstructor)(buffer, 0, view.length) as Float32Array;
          args[o] = at(a);
          args[j] = at(b);
          const names = [label(declared[o]!), label(declared[j]!)].map(regexpText).join('|');
          expect(() => callAny(k, name, args), `${label(declared[o]!)} ~ ${label(declared[j]!)}`).toThrow(
            new RegExp(`^(${names}): overlaps (${names}) in memory`),
          );
          pairs++;
        }
      }
      // Every kernel with a written array and another array argument has pairs to check (choleskyFactor has none).
      expect(pairs > 0).toBe(views.length > 1);
    });
  });
});
