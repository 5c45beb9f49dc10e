/** The shape of a kernel's declaration (signatures.ts): parameters, kinds, options, documentation. */

export type ScalarKind = 'bool' | 'i32' | 'u32' | 'f32' | 'f64';

/** The typed arrays a kernel takes, by the name a declaration gives them. */
export interface ArrayKinds {
  Float32Array: Float32Array;
  Float64Array: Float64Array;
  Int32Array: Int32Array;
  Uint8Array: Uint8Array;
  Uint32Array: Uint32Array;
  'Uint8Array|Uint16Array': Uint8Array | Uint16Array;
}
export type ArrayKind = keyof ArrayKinds;

export interface ParamOptions {
  readonly out?: boolean;
  readonly label?: string;
  readonly min?: number;
  readonly max?: number;
}

export interface StructKind {
  readonly struct: string;
  readonly fields: readonly (readonly [name: string, kind: ScalarKind, options?: ParamOptions])[];
}

export type ParamKind = ScalarKind | ArrayKind | StructKind;
export type ParamDeclaration = readonly [name: string, kind: ParamKind, options?: ParamOptions];

export interface KernelDeclaration {
  /** What it computes (the docs' tables). */
  readonly doc: string;
  /** How the TypeScript and the C++ implementations go about it (the docs' tables). */
  readonly typescript: string;
  readonly native: string;
  /** The C++ header that declares it, from addon/src. */
  readonly header: string;
  readonly call: string;
  readonly params: readonly ParamDeclaration[];
  readonly returns?: 'bool';
  /** The addon also exports `<name>Async`, run on the addon's runner thread (runtime/runner.h). */
  readonly async?: boolean;
}
