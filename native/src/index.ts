import { createRequire } from 'node:module';
import { locateAddon, PACKAGE_ROOT, rebuildCommand } from './addon-file.js';
import { Kernels } from './kernels/kernels.js';
import { KERNEL_NAMES, type KernelImplementation, signatureKey } from './kernels/signatures.js';
import { typescriptImplementation } from './kernels/typescript.js';

export { KernelArgumentError, NativeError, type NativeErrorDetails, NativeUnavailableError } from './errors.js';
export type { KernelDeclaration, ParamDeclaration, ParamKind } from './kernels/declaration.js';
export {
  type CameraExposeRequest,
  Kernels,
  type MediumFieldsRequest,
  type SgemmOptions,
} from './kernels/kernels.js';
export {
  type AsyncKernelName,
  KERNEL_NAMES,
  type KernelArgs,
  type KernelImplementation,
  type KernelName,
  type KernelRecord,
  type KernelResult,
  SIGNATURES,
} from './kernels/signatures.js';
export { type CameraModel, POISSON_NORMAL_ABOVE } from './optics/camera.js';
export { MEDIUM_SCALE } from './optics/medium.js';
export { ACTIVATION_KINDS, type ActivationKind } from './training/elementwise.js';

import { loadCobs, type NativeCobs } from './io/cobs.js';
import { type FdWrite, loadFdWrite, openPseudoTerminal as openPty, type PseudoTerminal } from './io/pty.js';

export type { NativeCobs } from './io/cobs.js';
export type { FdWrite, PseudoTerminal } from './io/pty.js';
export {
  CounterRng,
  complexNormal,
  expNegative,
  lnUniform,
  philox4x32,
  Stream,
  standardNormal,
  standardNormalPairFloat32,
  turnCosSin,
  uniform01,
} from './optics/random.js';

export interface NativeLoad {
  implementation: KernelImplementation | undefined;
  /** The addon file loaded, or the one that was tried. */
  path: string | undefined;
  /** Why the TypeScript kernels run instead, when they do. */
  reason: string | undefined;
}

/**
 * The addon file this process loads (undefined when there is none): the file OPU_NATIVE_ADDON names (e.g. the no-SIMD
 * build, build-nosimd/build/Release/opu_native.node, which CI tests this way), else what node-gyp-build resolves in
 * this package: build/Release (compiled here), then prebuilds/<platform>-<arch>/ (shipped).
 */
export function addonPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return locateAddon(PACKAGE_ROOT, env).path;
}

/** Loads the C++ addon unless OPU_NATIVE=0, and only one built from this package's kernel signatures; never throws. */
export function loadNative(env: NodeJS.ProcessEnv = process.env): NativeLoad {
  if (env.OPU_NATIVE === '0') return { implementation: undefined, path: undefined, reason: 'OPU_NATIVE=0' };
  const { path, reason } = locateAddon(PACKAGE_ROOT, env);
  if (path === undefined) return { implementation: undefined, path, reason: `${reason}; ${rebuildCommand()}` };
  let addon: KernelImplementation;
  try {
    addon = createRequire(import.meta.url)(path) as KernelImplementation;
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return { implementation: undefined, path, reason: `${message}; ${rebuildCommand()}` };
  }
  if (addon.signature !== signatureKey() || KERNEL_NAMES.some((name) => typeof addon[name] !== 'function')) {
    return {
      implementation: undefined,
      path,
      reason: `${path} was built from other kernel signatures than these; ${rebuildCommand()}`,
    };
  }
  return { implementation: addon, path, reason: undefined };
}

function chooseKernels(): Kernels {
  const { implementation, reason } = loadNative();
  if (implementation) return new Kernels('native', implementation);
  console.warn(`opu-native: using the TypeScript kernels (${reason})`);
  return new Kernels('typescript', typescriptImplementation);
}

/** The kernels of this process: native when the addon loads, TypeScript otherwise (one line on stderr says why). */
export const kernels: Kernels = chooseKernels();

/** The TypeScript kernels, always available: the fallback, and the reference the native ones are tested against. */
export const typescriptKernels = new Kernels('typescript', typescriptImplementation);

/**
 * The addon's waiting write for non-blocking descriptors; undefined without the addon or with OPU_NATIVE=0 (callers
 * fall back to fs.writev, which that setting lets the test suite exercise).
 */
export const nativeFdWrite: FdWrite | undefined = process.env.OPU_NATIVE === '0' ? undefined : loadFdWrite(addonPath());

/** The addon's COBS codec; undefined without the addon or with OPU_NATIVE=0 (opu-driver's TypeScript one runs). */
export const nativeCobs: NativeCobs | undefined = process.env.OPU_NATIVE === '0' ? undefined : loadCobs(addonPath());

/** A raw-mode pseudo-terminal pair from the addon (for the device emulator); NativeUnavailableError when it is not built. */
export function openPseudoTerminal(): PseudoTerminal {
  return openPty(addonPath());
}
