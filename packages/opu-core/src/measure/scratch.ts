import { bytesPerFrame, type DmdFrames } from '../device/frames.js';

/**
 * Work arrays reused from call to call, by name, so that measuring batch after batch (a training loop) allocates
 * nothing per batch and leaves the garbage collector idle. Each buffer grows to the largest request and stays, so its
 * owner bounds the requests (the facade's measurement budget). A view is valid until the next request of its name;
 * its contents are whatever the last user left, except `frames`, which are cleared.
 */
export class ScratchArrays {
  readonly #buffers = new Map<string, ArrayBuffer>();

  float32(name: string, length: number): Float32Array {
    return new Float32Array(this.#buffer(name, length * 4), 0, length);
  }

  float64(name: string, length: number): Float64Array {
    return new Float64Array(this.#buffer(name, length * 8), 0, length);
  }

  uint32(name: string, length: number): Uint32Array {
    return new Uint32Array(this.#buffer(name, length * 4), 0, length);
  }

  /** `count` blank frames of `mirrorsPerFrame` mirrors. */
  frames(name: string, count: number, mirrorsPerFrame: number): DmdFrames {
    const bytes = count * bytesPerFrame(mirrorsPerFrame);
    const data = new Uint8Array(this.#buffer(name, bytes), 0, bytes);
    data.fill(0);
    return { count, mirrorsPerFrame, data };
  }

  #buffer(name: string, bytes: number): ArrayBuffer {
    const held = this.#buffers.get(name);
    if (held && held.byteLength >= bytes) return held;
    const buffer = new ArrayBuffer(bytes);
    this.#buffers.set(name, buffer);
    return buffer;
  }
}
