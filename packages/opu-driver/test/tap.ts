import { closeSync } from 'node:fs';
import { openPseudoTerminal } from 'opu-native';
import { decodeFrame, type Frame, type Transport, ttyTransport } from 'opu-protocol';
import { openSerialTransport } from '../src/index.js';

export type Direction = 'toDevice' | 'toHost';

/** One frame that crossed the tapped line. */
export interface TappedFrame {
  direction: Direction;
  /** The frame as it crossed the line, both delimiters included: writing it again repeats it byte for byte. */
  wire: Uint8Array;
  /** Its header and payload, or undefined when it does not decode (garbage, damage). */
  frame: Frame | undefined;
}

/** Largest payload the tap decodes: larger than anything the SDK negotiates. */
const DECODE_LIMIT_BYTES = 64 * 2 ** 20;

/**
 * A third party on a serial line, as an attacker or a faulty hub would be: it holds the device's port, offers hosts a
 * pseudo-terminal of its own, passes every byte both ways, records every frame, and writes bytes of its own in either
 * direction. It uses nothing of the host or the device but their ports.
 */
export class LineTap {
  /** The port a host opens to talk to the device through the tap. */
  readonly path: string;
  readonly frames: TappedFrame[] = [];
  /** While false, what the device sends is dropped instead of passed on (no host reads the tap's port). */
  forwardToHost = true;
  /** Frames for which this returns true are taken off the line, as a program reading the port would take them. */
  steal: ((tapped: TappedFrame) => boolean) | undefined;
  readonly #device: Transport;
  readonly #host: Transport;
  readonly #slaveFd: number;
  readonly #listeners = new Set<(tapped: TappedFrame) => void>();
  /** Writes toward each side, chained: passed-on bytes and injected ones reach the line in the order given. */
  readonly #writing: Record<Direction, Promise<void>> = { toDevice: Promise.resolve(), toHost: Promise.resolve() };

  private constructor(device: Transport, pty: { masterFd: number; slaveFd: number; path: string }) {
    this.#device = device;
    this.#host = ttyTransport(pty.masterFd);
    this.#slaveFd = pty.slaveFd;
    this.path = pty.path;
    this.#relay(this.#host, 'toDevice');
    this.#relay(this.#device, 'toHost');
  }

  /** Opens the device's port and a pseudo-terminal for hosts. */
  static async open(devicePath: string): Promise<LineTap> {
    return new LineTap(await openSerialTransport(devicePath), openPseudoTerminal());
  }

  /** Calls `listener` with each frame once it has been passed on (or stolen), before the bytes after it. */
  onFrame(listener: (tapped: TappedFrame) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Writes bytes of the tap's own toward the device or the host, after what was passed on so far. */
  inject(direction: Direction, bytes: Uint8Array): Promise<void> {
    return this.#write(direction, bytes.slice());
  }

  /** The recorded frames that decoded, in one direction, optionally of one message type. */
  decoded(direction: Direction, type?: number): (TappedFrame & { frame: Frame })[] {
    return this.frames.filter(
      (t): t is TappedFrame & { frame: Frame } =>
        t.direction === direction && t.frame !== undefined && (type === undefined || t.frame.type === type),
    );
  }

  async close(): Promise<void> {
    await this.#device.close();
    await this.#host.close();
    closeSync(this.#slaveFd);
  }

  /**
   * Passes `from`'s bytes on frame by frame, once each frame's closing delimiter has come: a frame can be stolen
   * whole (see `steal`), and a listener's injection lands between two frames rather than inside one.
   */
  #relay(from: Transport, direction: Direction): void {
    let partial: Uint8Array[] = [];
    from.onData((chunk) => {
      let start = 0;
      for (let zero = chunk.indexOf(0); zero !== -1; zero = chunk.indexOf(0, start)) {
        partial.push(chunk.subarray(start, zero).slice());
        const encoded = Buffer.concat(partial);
        partial = [];
        start = zero + 1;
        if (encoded.length > 0) this.#pass(direction, encoded);
      }
      if (start < chunk.length) partial.push(chunk.subarray(start).slice());
    });
  }

  #pass(direction: Direction, encoded: Uint8Array): void {
    const wire = new Uint8Array(encoded.length + 2);
    wire.set(encoded, 1);
    const decoded = decodeFrame(encoded, DECODE_LIMIT_BYTES);
    const tapped = { direction, wire, frame: typeof decoded === 'string' ? undefined : decoded };
    this.frames.push(tapped);
    const forward = direction === 'toDevice' || this.forwardToHost;
    if (forward && !this.steal?.(tapped)) void this.#write(direction, wire);
    for (const listener of this.#listeners) listener(tapped);
  }

  #write(direction: Direction, bytes: Uint8Array): Promise<void> {
    const to = direction === 'toDevice' ? this.#device : this.#host;
    const written = this.#writing[direction].then(() => to.write(bytes));
    this.#writing[direction] = written.catch(() => undefined);
    return written;
  }
}
