/**
 * Named scratch arrays reused from one batch to the next: a training step would otherwise allocate (and zero) a few
 * megabytes per batch. Arrays handed out stay valid until the same name is asked for again.
 */
export class Workspace {
  readonly #arrays = new Map<string, Float32Array>();

  get(name: string, length: number): Float32Array {
    let array = this.#arrays.get(name);
    if (array?.length !== length) {
      array = new Float32Array(length);
      this.#arrays.set(name, array);
    }
    return array;
  }
}

/** Hands out a fresh array every time: for results returned to callers. */
export const FRESH: Pick<Workspace, 'get'> = { get: (_name, length) => new Float32Array(length) };
