import { DeviceError, DeviceStateError, TimeoutError } from 'opu-core';
import {
  type AcquisitionSettings,
  decodeAcquireDone,
  decodeAcquireStarted,
  decodeCameraChunk,
  decodeCameraFrames,
  deviceRefusal,
  encodeAcquire,
  encodeCredit,
  encodeResendChunk,
  type Frame,
  type FrameReport,
  MessageType,
  ProtocolError,
  type ProtocolLink,
} from 'opu-protocol';
import { SilenceClock } from './silence.js';

/**
 * On a line that delivers damaged frames (the device talks, the line garbles it) an acquisition waits up to this many
 * times `timeoutMs` for intact ones before it gives up: the re-requests get through sooner or later. A line that
 * delivers nothing at all still fails after `timeoutMs`.
 */
const NOISY_LINE_PATIENCE = 4;

export interface IncomingAcquisitionInit {
  link: ProtocolLink;
  count: number;
  /** What the host set: the device must announce exactly these, and every frame must report this exposure. */
  settings: AcquisitionSettings;
  bytesPerFrame: number;
  framesCrc: number;
  /** Chunks the device may send ahead (the host's credits). */
  credits: number;
  /** Silence after which the host re-requests what it misses. */
  stallMs: number;
  /** Silence after which the acquisition fails. */
  timeoutMs: number;
}

/**
 * The device acquired with other settings than the host set (another party changed them, or the device did not
 * apply them): its frames are not what the host would normalize them as, so none is used.
 */
export class SettingsMismatchError extends DeviceStateError {}

/** The fields of `actual` that differ from `expected`, as `name expected → actual`; empty when they agree. */
export function settingsDifferences(expected: AcquisitionSettings, actual: AcquisitionSettings): string[] {
  return (Object.keys(expected) as (keyof AcquisitionSettings)[])
    .filter((key) => JSON.stringify(expected[key]) !== JSON.stringify(actual[key]))
    .map((key) => `${key} ${JSON.stringify(expected[key])} → ${JSON.stringify(actual[key])}`);
}

export interface ReceivedAcquisition {
  data: Uint8Array | Uint16Array;
  reports: FrameReport[];
  retries: number;
}

/**
 * The host side of one ACQUIRE: collects the camera chunks streamed under its request id into one buffer, grants
 * credits as it consumes them, and re-requests what is missing (a chunk, the report, the ACQUIRE itself) whenever
 * the device falls silent. It resolves only when every chunk of every frame and the report are in.
 */
export class IncomingAcquisition {
  readonly #init: IncomingAcquisitionInit;
  readonly #id: number;
  readonly #data: Uint8Array | Uint16Array;
  readonly #bytes: Uint8Array;
  readonly #frameBytes: number;
  #chunks = 0;
  /** One flag per chunk, frame-major, once the layout is known. */
  #have: Uint8Array | undefined;
  #missing = 0;
  #highestOrdinal = -1;
  #reports: FrameReport[];
  #deviceDone = false;
  #heard = false;
  #received = 0;
  #creditedAt = 0;
  #retries = 0;
  #reportRequestedMs = Number.NEGATIVE_INFINITY;
  /** Time without a frame of this acquisition: re-requests follow it. */
  readonly #silence: SilenceClock;
  /** Time without a frame of this acquisition or a damaged frame: a noisy line is not a silent device. */
  readonly #lineSilence: SilenceClock;
  #damagedSeen: number;
  #settle!: { resolve: (r: ReceivedAcquisition) => void; reject: (e: Error) => void };
  #finished = false;

  constructor(init: IncomingAcquisitionInit) {
    this.#init = init;
    this.#id = init.link.allocateRequestId();
    const { bitDepth, outputRoi } = init.settings;
    const wide = bitDepth > 8;
    const pixelsPerFrame = outputRoi.width * outputRoi.height;
    this.#data = wide ? new Uint16Array(init.count * pixelsPerFrame) : new Uint8Array(init.count * pixelsPerFrame);
    this.#bytes = new Uint8Array(this.#data.buffer);
    this.#frameBytes = pixelsPerFrame * (wide ? 2 : 1);
    this.#reports = new Array<FrameReport>(init.count);
    this.#silence = new SilenceClock(init.stallMs);
    this.#lineSilence = new SilenceClock(init.stallMs);
    this.#damagedSeen = init.link.decoder.damagedFrames;
  }

  run(): Promise<ReceivedAcquisition> {
    const { link } = this.#init;
    const done = new Promise<ReceivedAcquisition>((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    const unsubscribe = link.subscribe(this.#id, (frame) => this.#guard(() => this.#receive(frame)));
    const unwatch = link.onFailure((error) => this.#fail(error));
    const tick = setInterval(() => this.#guard(() => this.#checkProgress()), this.#init.stallMs);
    this.#sendAcquire();
    return done.finally(() => {
      clearInterval(tick);
      unsubscribe();
      unwatch();
    });
  }

  #sendAcquire(): void {
    const { count, bytesPerFrame, framesCrc } = this.#init;
    this.#send(MessageType.acquire, encodeAcquire({ count, bytesPerFrame, trigger: 1, framesCrc }));
  }

  #send(type: number, payload: Uint8Array): void {
    this.#init.link.send(type, payload, this.#id).catch((error: Error) => this.#fail(error));
  }

  #guard(step: () => void): void {
    if (this.#finished) return;
    try {
      step();
    } catch (error) {
      this.#fail(error as Error);
    }
  }

  #receive(frame: Frame): void {
    this.#heard = true;
    this.#silence.heard();
    this.#lineSilence.heard();
    switch (frame.type) {
      case MessageType.acquireStarted: {
        const started = decodeAcquireStarted(frame.payload);
        this.#checkSettings(started.settings);
        this.#layout(Math.max(1, Math.ceil(this.#frameBytes / started.chunkBytes)));
        break;
      }
      case MessageType.cameraChunk:
        this.#chunk(frame.payload);
        break;
      case MessageType.cameraFrames:
        this.#pack(frame.payload);
        break;
      case MessageType.acquireDone: {
        const frames = decodeAcquireDone(frame.payload);
        if (frames !== this.#init.count) {
          throw new ProtocolError(`the device acquired ${frames} frames of ${this.#init.count}`, {
            field: 'ACQUIRE_DONE.frames',
          });
        }
        this.#deviceDone = true;
        this.#requestGaps(true);
        break;
      }
      case MessageType.error:
        throw deviceRefusal(frame);
      default:
        throw new ProtocolError(`unexpected message 0x${frame.type.toString(16)} during an acquisition`, {
          field: 'type',
          fix: 'update the SDK or the device firmware so that both speak the same protocol version',
        });
    }
    this.#complete();
  }

  #checkSettings(announced: AcquisitionSettings): void {
    const differences = settingsDifferences(this.#init.settings, announced);
    if (differences.length > 0) {
      throw new SettingsMismatchError(
        `the device acquires with other settings than this host set (${differences.join(', ')})`,
        { field: 'settings', fix: 'another program may share the port: give this one exclusive access' },
      );
    }
  }

  /** A frame's report must carry the exposure the host set: the host normalizes by it. */
  #checkReport(frame: number, report: FrameReport): void {
    const { exposureUs } = this.#init.settings;
    if (report.exposureUs !== exposureUs) {
      throw new SettingsMismatchError(
        `camera frame ${frame} was exposed ${report.exposureUs} µs; this host set ${exposureUs} µs`,
        { field: 'exposureUs', fix: 'another program may share the port: give this one exclusive access' },
      );
    }
  }

  /**
   * A copy of data already received (a resend, or a replay) must be identical: which copy is right cannot be told,
   * so a conflict fails the acquisition rather than overwrite or keep either.
   */
  #checkDuplicate(frame: number, offset: number, pixels: Uint8Array, report: FrameReport): void {
    const start = frame * this.#frameBytes + offset;
    const held = this.#reports[frame]!;
    const samePixels = Buffer.compare(this.#bytes.subarray(start, start + pixels.length), pixels) === 0;
    if (!samePixels || JSON.stringify(held) !== JSON.stringify(report)) {
      throw new ProtocolError(`two different copies of camera frame ${frame} arrived; nothing is returned`, {
        field: 'CAMERA_CHUNK',
        fix: 'another program may write to the port: give this one exclusive access, then call again',
      });
    }
  }

  #layout(chunks: number): void {
    if (this.#have) {
      if (chunks !== this.#chunks) {
        throw new ProtocolError(`chunks per frame changed from ${this.#chunks} to ${chunks}`, {
          field: 'CAMERA_CHUNK.chunks',
        });
      }
      return;
    }
    this.#chunks = chunks;
    this.#have = new Uint8Array(this.#init.count * chunks);
    this.#missing = this.#have.length;
  }

  #chunk(payload: Uint8Array): void {
    const chunk = decodeCameraChunk(payload);
    this.#layout(chunk.chunks);
    const end = chunk.offset + chunk.pixels.length;
    if (chunk.frame >= this.#init.count || end > this.#frameBytes) {
      throw new ProtocolError(`chunk of frame ${chunk.frame} ends at byte ${end}, past the frame or the batch`, {
        field: 'CAMERA_CHUNK',
      });
    }
    const ordinal = chunk.frame * this.#chunks + chunk.chunk;
    this.#checkReport(chunk.frame, chunk.report);
    if (this.#have![ordinal]) this.#checkDuplicate(chunk.frame, chunk.offset, chunk.pixels, chunk.report);
    else {
      this.#bytes.set(chunk.pixels, chunk.frame * this.#frameBytes + chunk.offset);
      this.#have![ordinal] = 1;
      this.#reports[chunk.frame] = chunk.report;
      this.#missing--;
    }
    this.#consumed(ordinal);
  }

  /** Several whole frames in one message (small ROIs). */
  #pack(payload: Uint8Array): void {
    const { firstFrame, reports, pixels } = decodeCameraFrames(payload);
    this.#layout(1);
    const end = firstFrame + reports.length;
    if (end > this.#init.count || pixels.length !== reports.length * this.#frameBytes) {
      throw new ProtocolError(`frames ${firstFrame}–${end - 1} of ${pixels.length} bytes do not fit the batch`, {
        field: 'CAMERA_FRAMES',
      });
    }
    for (let f = firstFrame; f < end; f++) {
      const report = reports[f - firstFrame]!;
      const framePixels = pixels.subarray((f - firstFrame) * this.#frameBytes, (f - firstFrame + 1) * this.#frameBytes);
      this.#checkReport(f, report);
      if (this.#have![f]) this.#checkDuplicate(f, 0, framePixels, report);
      else {
        this.#bytes.set(framePixels, f * this.#frameBytes);
        this.#have![f] = 1;
        this.#missing--;
        this.#reports[f] = report;
      }
    }
    this.#consumed(end - 1);
  }

  /** Bookkeeping after a message of the stream: gaps before it are lost, and credit is due now and then. */
  #consumed(ordinal: number): void {
    this.#received++;
    if (ordinal > this.#highestOrdinal) {
      // What the device skipped over is lost: it sends in order.
      for (let o = this.#highestOrdinal + 1; o < ordinal; o++) if (!this.#have![o]) this.#resend(o);
      this.#highestOrdinal = ordinal;
    }
    if (this.#received - this.#creditedAt >= Math.ceil(this.#init.credits / 2)) this.#grantCredit();
  }

  #grantCredit(): void {
    this.#creditedAt = this.#received;
    this.#send(MessageType.credit, encodeCredit(this.#received + this.#init.credits));
  }

  #resend(ordinal: number): void {
    this.#retries++;
    const frame = Math.floor(ordinal / this.#chunks);
    this.#send(MessageType.resendChunk, encodeResendChunk({ frame, chunk: ordinal - frame * this.#chunks }));
  }

  /** Re-requests lost chunks: those before the newest one seen, or all that are missing once the device is done. */
  #requestGaps(deviceDone: boolean): void {
    if (!this.#have) return;
    const end = deviceDone ? this.#have.length : this.#highestOrdinal;
    let budget = this.#init.credits;
    for (let o = 0; o < end && budget > 0; o++) {
      if (!this.#have[o]) {
        this.#resend(o);
        budget--;
      }
    }
  }

  #checkProgress(): void {
    const damaged = this.#init.link.decoder.damagedFrames;
    if (damaged !== this.#damagedSeen) {
      this.#damagedSeen = damaged;
      this.#lineSilence.heard();
    }
    const silentMs = this.#silence.tick();
    const lineSilentMs = this.#lineSilence.tick();
    const { timeoutMs } = this.#init;
    if (lineSilentMs >= timeoutMs || silentMs >= NOISY_LINE_PATIENCE * timeoutMs) {
      const have = this.#have ? this.#have.length - this.#missing : 0;
      const what =
        lineSilentMs >= timeoutMs
          ? `fell silent for ${Math.round(lineSilentMs)} ms`
          : `sent nothing intact for ${Math.round(silentMs)} ms, only damaged frames`;
      const error = new TimeoutError(
        `the device ${what} during an acquisition of ${this.#init.count} frames ` +
          `(${have} of ${this.#have?.length ?? '?'} chunks in); nothing is returned`,
        { field: 'timeoutMs', fix: 'check the cable and the device; the next call reconnects' },
      );
      this.#fail(error);
      // A device silent this long is in an unknown state: the link is dropped so that the next call reconnects.
      this.#init.link.fail(error);
      return;
    }
    // Two periods: the first tick after this process was busy comes before the input that waited (see SilenceClock).
    if (silentMs < 2 * this.#init.stallMs) return;
    if (!this.#heard) {
      // The ACQUIRE itself may be lost; the device shows an acquisition id only once, so repeating it is safe.
      this.#retries++;
      this.#sendAcquire();
      return;
    }
    this.#grantCredit();
    if (this.#deviceDone) this.#requestGaps(true);
    else {
      this.#requestGaps(false);
      // The device answers GET_REPORT with ACQUIRE_DONE once it has finished: ask again only when that is overdue.
      if (performance.now() - this.#reportRequestedMs >= this.#init.timeoutMs / 2) {
        this.#reportRequestedMs = performance.now();
        this.#send(MessageType.getReport, new Uint8Array(0));
      }
    }
  }

  #complete(): void {
    if (this.#missing > 0 || !this.#have) return;
    this.#finished = true;
    this.#settle.resolve({ data: this.#data, reports: this.#reports, retries: this.#retries });
  }

  #fail(error: Error): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#settle.reject(
      error instanceof DeviceError
        ? error
        : new DeviceError(`acquisition failed: ${error.message}`, { cause: error, field: 'acquire()' }),
    );
  }
}
