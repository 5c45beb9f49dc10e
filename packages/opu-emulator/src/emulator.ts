import { crc32 } from 'node:zlib';
import { ArgumentError, allocateDmdFrames, bytesPerFrame, type CameraFrames, type OpuDevice } from 'opu-core';
import {
  acquisitionSettings,
  CAMERA_CHUNK_HEADER_BYTES,
  Capability,
  DEFAULT_MAX_PAYLOAD_BYTES,
  decodeAcquire,
  decodeCredit,
  decodeHello,
  decodeJson,
  decodeResendChunk,
  decodeUploadFrames,
  ErrorCode,
  encodeAcquireDone,
  encodeAcquireStarted,
  encodeCameraChunk,
  encodeCameraFrames,
  encodeError,
  encodeHelloReply,
  encodeJson,
  type Frame,
  type FrameReport,
  type LinkStats,
  MessageType,
  PROTOCOL_VERSION,
  ProtocolError,
  ProtocolLink,
  SETTINGS_SCHEMA_HASH,
  type Transport,
} from 'opu-protocol';
import { type EmulatorFaults, type EmulatorFaultsInput, faultSchema, faultyTransport } from './faults.js';

/** Camera bytes per CAMERA_CHUNK at most: large enough for throughput, small enough to resend cheaply. */
export const CHUNK_BYTES = 64 * 1024;
/** UPLOAD_FRAMES fields before the frame bytes. */
const UPLOAD_HEADER_BYTES = 4;
/** Requests the emulated device queues: the host's credits for requests. */
const DEVICE_CREDITS = 32;
/**
 * Time the device spends per step of an acquisition. Camera frames stream as they are read out, not after the whole
 * batch, and between steps the emulator answers heartbeats: a busy emulator must not look like an unplugged one.
 */
const STEP_MS = 20;
const MAX_FRAMES_PER_STEP = 4096;
/** The smallest largest-payload a host may announce (docs/protocol.md, HELLO). */
const MIN_HOST_PAYLOAD_BYTES = 4096;

export interface EmulatorOptions {
  faults?: EmulatorFaultsInput;
  /** Largest payload the device accepts. */
  maxPayloadBytes?: number;
  /** Called with each message the device could not handle (for logs). */
  onError?: (error: Error) => void;
}

/** Traffic and faults seen by the emulator, for tests and logs. */
export interface EmulatorStats {
  acquisitions: number;
  /** Acquisitions left unfinished because a new session started (their host is gone). */
  abandonedAcquisitions: number;
  /** Sessions opened by a HELLO. */
  sessions: number;
  cameraFramesSent: number;
  /** CAMERA_FRAMES messages sent, resends included. */
  packsSent: number;
  chunksResent: number;
  repeatedAcquisitions: number;
}

interface Acquisition {
  /** The session that asked for it: everything it sends carries this session, whatever opened since. */
  session: number;
  id: number;
  count: number;
  framesCrc: number;
  /** Camera frame bytes, one entry per frame acquired so far. */
  frames: Uint8Array[];
  reports: FrameReport[];
  chunkBytes: number;
  /** Whole frames per CAMERA_FRAMES message when frames are small (packs start at multiples of it); 1: chunks. */
  framesPerPack: number;
  done: Promise<void>;
  /** Chunks sent in stream order, and how many the host allows (CREDIT, cumulative). */
  sent: number;
  upTo: number;
  creditWaiter: (() => void) | undefined;
  sending: Promise<void>[];
  /** Set when a new session starts: the acquisition stops at its next step and sends nothing more. */
  abandoned: boolean;
}

/**
 * The device side of the wire protocol (docs/protocol.md), backed by any OpuDevice: the simulator behind a
 * pseudo-terminal plays a real OPU on a serial line, with optional faults on the line.
 */
export class OpuEmulator {
  readonly device: OpuDevice;
  /** The faults on the line; change them on a running emulator to start or stop injecting. */
  readonly faults: EmulatorFaults;
  readonly stats: EmulatorStats = {
    acquisitions: 0,
    abandonedAcquisitions: 0,
    sessions: 0,
    cameraFramesSent: 0,
    packsSent: 0,
    chunksResent: 0,
    repeatedAcquisitions: 0,
  };
  readonly #link: ProtocolLink;
  readonly #transport: Transport;
  readonly #maxPayloadBytes: number;
  readonly #onError: (error: Error) => void;
  #hostMaxPayloadBytes = 0;
  #hostCredits = 0;
  #hostChunkBytes = CHUNK_BYTES;
  #frameBuffer = new Uint8Array(0);
  #acquisition: Acquisition | undefined;

  constructor(device: OpuDevice, transport: Transport, options: EmulatorOptions = {}) {
    this.faults = faultSchema.parse(options.faults ?? {});
    this.device = device;
    this.#maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    this.#onError = options.onError ?? (() => undefined);
    this.#transport = faultyTransport(transport, this.faults);
    this.#link = new ProtocolLink(this.#transport, { role: 'device', maxPayloadBytes: this.#maxPayloadBytes });
    this.#link.onUnsolicited((frame) => {
      this.#handle(frame).catch((error: Error) => this.#refuse(frame, error));
    });
  }

  /** Opens the device behind the emulator; the emulator answers the host from then on. */
  async start(): Promise<void> {
    await this.device.open();
  }

  async close(): Promise<void> {
    await this.#link.close();
    await this.device.close();
  }

  /** Link traffic, including the frames it ignored as stale (another session, a replay) or of another version. */
  get linkStats(): Readonly<LinkStats> {
    return this.#link.stats;
  }

  /** Carries out one request of the current session (the link has dropped those of any other). */
  async #handle(frame: Frame): Promise<void> {
    const reply = (type: number, payload: Uint8Array) => this.#link.send(type, payload, frame.requestId, frame.session);
    if (frame.version !== PROTOCOL_VERSION) {
      throw new DeviceRefusal(
        ErrorCode.versionNotSupported,
        `protocol version ${frame.version} is not supported; this device speaks ${PROTOCOL_VERSION}`,
      );
    }
    switch (frame.type) {
      case MessageType.hello:
        return this.#hello(frame);
      case MessageType.getSettings:
        return reply(MessageType.settings, encodeJson(this.device.settings));
      case MessageType.setSettings: {
        const patch = decodeJson(frame.payload, 'SET_SETTINGS');
        // Settings change between acquisitions only: every frame of an acquisition has the settings it announced.
        await this.#acquisition?.done;
        await this.device.configure(patch as Parameters<OpuDevice['configure']>[0]);
        return reply(MessageType.settings, encodeJson(this.device.settings));
      }
      case MessageType.uploadFrames:
        this.#upload(frame.payload);
        return reply(MessageType.uploadDone, new Uint8Array(0));
      case MessageType.acquire:
        return this.#acquire(frame);
      case MessageType.credit:
        return this.#credit(frame);
      case MessageType.resendChunk:
        return this.#resend(frame);
      case MessageType.getReport: {
        const acquisition = this.#acquisitionFor(frame);
        await acquisition.done;
        return reply(MessageType.acquireDone, encodeAcquireDone(acquisition.count));
      }
      case MessageType.heartbeat:
        return reply(MessageType.heartbeatReply, frame.payload);
      case MessageType.reset:
        this.#frameBuffer = new Uint8Array(0);
        this.#abandonAcquisition();
        return reply(MessageType.resetDone, new Uint8Array(0));
      default:
        throw new DeviceRefusal(ErrorCode.unknownType, `unknown message type 0x${frame.type.toString(16)}`);
    }
  }

  async #hello(frame: Frame): Promise<void> {
    // A HELLO opens a new session (the link adopted its nonce): whatever the previous host left running stops here,
    // and acquisition ids of the previous session mean nothing any more.
    this.#abandonAcquisition();
    this.stats.sessions++;
    const hello = decodeHello(frame.payload);
    if (hello.major !== PROTOCOL_VERSION) {
      throw new DeviceRefusal(
        ErrorCode.versionNotSupported,
        `protocol version ${hello.major} is not supported; this device speaks ${PROTOCOL_VERSION}`,
      );
    }
    if (hello.maxPayloadBytes < MIN_HOST_PAYLOAD_BYTES || hello.chunkBytes < 1 || hello.credits < 1) {
      throw new DeviceRefusal(
        ErrorCode.badPayload,
        `HELLO asks for maxPayload ${hello.maxPayloadBytes} (at least ${MIN_HOST_PAYLOAD_BYTES}), ` +
          `chunkBytes ${hello.chunkBytes} and credits ${hello.credits} (at least 1)`,
      );
    }
    this.#hostMaxPayloadBytes = hello.maxPayloadBytes;
    this.#hostCredits = hello.credits;
    this.#hostChunkBytes = hello.chunkBytes;
    const payload = encodeHelloReply({
      major: PROTOCOL_VERSION,
      minor: 0,
      maxPayloadBytes: this.#maxPayloadBytes,
      credits: DEVICE_CREDITS,
      chunkBytes: this.#maxPayloadBytes - UPLOAD_HEADER_BYTES,
      capabilities: Capability.softwareTrigger | Capability.wideCameraFrames | Capability.roiReadout,
      schemaHash: SETTINGS_SCHEMA_HASH,
      info: JSON.stringify(this.device.info),
    });
    await this.#link.send(MessageType.helloReply, payload, frame.requestId, frame.session);
  }

  /** Stops the running acquisition, if any, wherever it is; its frames are no longer kept for resends. */
  #abandonAcquisition(): void {
    const acquisition = this.#acquisition;
    this.#acquisition = undefined;
    if (!acquisition || acquisition.abandoned) return;
    acquisition.abandoned = true;
    acquisition.creditWaiter?.();
    acquisition.creditWaiter = undefined;
  }

  #upload(payload: Uint8Array): void {
    const { offset, bytes } = decodeUploadFrames(payload);
    const { limits, dmd } = this.device.info;
    const capacity = limits.maxFramesPerAcquisition * bytesPerFrame(dmd.widthMirrors * dmd.heightMirrors);
    const end = offset + bytes.length;
    if (end > capacity) {
      throw new DeviceRefusal(ErrorCode.payloadTooLarge, `frame buffer holds ${capacity} bytes; upload ends at ${end}`);
    }
    if (end > this.#frameBuffer.length) {
      const grown = new Uint8Array(Math.min(capacity, Math.max(end, 2 * this.#frameBuffer.length)));
      grown.set(this.#frameBuffer);
      this.#frameBuffer = grown;
    }
    this.#frameBuffer.set(bytes, offset);
  }

  async #acquire(frame: Frame): Promise<void> {
    const request = decodeAcquire(frame.payload);
    const previous = this.#acquisition;
    if (
      previous?.session === frame.session &&
      previous.id === frame.requestId &&
      previous.framesCrc === request.framesCrc &&
      previous.count === request.count
    ) {
      // The host repeats an ACQUIRE it heard nothing about: an acquisition id is shown once; the host re-requests
      // what it misses of the chunks and the report.
      this.stats.repeatedAcquisitions++;
      await this.#started(previous);
      return;
    }
    const stride = bytesPerFrame(this.device.inputSize);
    if (request.bytesPerFrame !== stride) {
      throw new DeviceRefusal(
        ErrorCode.badPayload,
        `${request.bytesPerFrame} bytes per frame; the input region needs ${stride}`,
      );
    }
    const bytes = request.count * stride;
    if (bytes > this.#frameBuffer.length || crc32(this.#frameBuffer.subarray(0, bytes)) !== request.framesCrc) {
      throw new DeviceRefusal(
        ErrorCode.framesNotUploaded,
        `the ${request.count} frames uploaded do not match their CRC`,
      );
    }
    const frames = this.#frameBuffer.slice(0, bytes);
    const chunkBytes = Math.max(
      1,
      Math.min(CHUNK_BYTES, this.#hostChunkBytes, this.#hostMaxPayloadBytes - CAMERA_CHUNK_HEADER_BYTES),
    );
    let finished!: () => void;
    // A new acquisition replaces the last one: if that one still runs (its host gave up on it), it stops.
    this.#abandonAcquisition();
    const acquisition: Acquisition = {
      session: frame.session,
      id: frame.requestId,
      count: request.count,
      framesCrc: request.framesCrc,
      frames: [],
      reports: [],
      chunkBytes,
      framesPerPack: this.#framesPerPack(chunkBytes, request.count),
      done: new Promise<void>((resolve) => {
        finished = resolve;
      }),
      sent: 0,
      upTo: this.#hostCredits,
      creditWaiter: undefined,
      sending: [],
      abandoned: false,
    };
    this.#acquisition = acquisition;
    this.stats.acquisitions++;
    await this.#started(acquisition);
    try {
      const { minFramesPerAcquisition } = this.device.info.limits;
      let step = minFramesPerAcquisition;
      for (let first = 0; first < request.count && !acquisition.abandoned; ) {
        let count = Math.min(step, request.count - first);
        // A remainder shorter than the device minimum joins this step rather than forming one of its own.
        if (request.count - first - count < minFramesPerAcquisition) count = request.count - first;
        const batch = allocateDmdFrames(count, this.device.inputSize);
        batch.data.set(frames.subarray(first * stride, (first + count) * stride));
        const started = performance.now();
        const shot = await this.device.acquire(batch);
        const msPerFrame = Math.max(1e-3, (performance.now() - started) / count);
        step = Math.max(minFramesPerAcquisition, Math.min(MAX_FRAMES_PER_STEP, Math.floor(STEP_MS / msPerFrame)));
        for (let f = 0; f < count; f++) this.#record(acquisition, shot, f);
        for (let f = first; f < first + count; f++) {
          if (acquisition.framesPerPack === 1) await this.#sendFrame(acquisition, f);
          // A pack goes once its last frame is in.
          else if ((f + 1) % acquisition.framesPerPack === 0 || f + 1 === request.count) {
            await this.#sendPack(acquisition, f - (f % acquisition.framesPerPack));
          }
        }
        first += count;
      }
      await Promise.all(acquisition.sending);
    } finally {
      finished();
    }
    if (acquisition.abandoned) {
      this.stats.abandonedAcquisitions++;
      return;
    }
    await this.#send(acquisition, MessageType.acquireDone, encodeAcquireDone(acquisition.count));
  }

  /** One message of an acquisition's stream, in the session that asked for it. */
  #send(acquisition: Acquisition, type: number, payload: Uint8Array): Promise<void> {
    return this.#link.send(type, payload, acquisition.id, acquisition.session);
  }

  #started(acquisition: Acquisition): Promise<void> {
    const payload = encodeAcquireStarted({
      count: acquisition.count,
      chunkBytes: acquisition.chunkBytes,
      settings: acquisitionSettings(this.device.settings, this.device.info.camera.bitDepth),
    });
    return this.#send(acquisition, MessageType.acquireStarted, payload);
  }

  #record(acquisition: Acquisition, shot: CameraFrames, f: number): void {
    const pixels = shot.widthPx * shot.heightPx;
    const data = shot.data.subarray(f * pixels, (f + 1) * pixels);
    acquisition.frames.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice());
    acquisition.reports.push({
      saturatedPixels: shot.meta.saturatedPixels[f]!,
      exposureUs: shot.meta.exposureUs,
      timeUs: shot.meta.timestampsUs[f]!,
    });
  }

  /** Small frames travel several to a message: a message per 4 KiB frame would cost more than the bytes. */
  #framesPerPack(chunkBytes: number, count: number): number {
    const { camera } = this.device.info;
    const frameBytes = this.device.outputSize * (camera.bitDepth > 8 ? 2 : 1);
    const perMessage = Math.min(count, 0xffff, Math.floor((chunkBytes - 6) / (frameBytes + 20)));
    return perMessage >= 2 ? perMessage : 1;
  }

  /**
   * Queues one message of the stream once a credit allows it, without waiting for it to be written: the writer
   * gathers what is queued into few writes, and the credits bound the queue. `acquisition.sending` holds the writes
   * in flight, awaited at the end of the batch.
   */
  async #queue(acquisition: Acquisition, send: () => Promise<void>): Promise<boolean> {
    while (acquisition.sent >= acquisition.upTo && !acquisition.abandoned) {
      await new Promise<void>((resolve) => {
        acquisition.creditWaiter = resolve;
      });
    }
    if (acquisition.abandoned) return false;
    acquisition.sent++;
    const sent = send();
    // Marked handled now so that a lost link is not an unhandled rejection before the batch awaits it.
    sent.catch(() => undefined);
    acquisition.sending.push(sent);
    return true;
  }

  /** Queues the pack that starts at frame `first`. */
  async #sendPack(acquisition: Acquisition, first: number): Promise<void> {
    if (!(await this.#queue(acquisition, () => this.#sendPackNow(acquisition, first)))) return;
    await this.#countSentFrames(acquisition, Math.min(acquisition.framesPerPack, acquisition.count - first));
  }

  #sendPackNow(acquisition: Acquisition, first: number): Promise<void> {
    const end = Math.min(first + acquisition.framesPerPack, acquisition.count);
    const pixels = Buffer.concat(acquisition.frames.slice(first, end));
    const payload = encodeCameraFrames({ firstFrame: first, reports: acquisition.reports.slice(first, end), pixels });
    this.stats.packsSent++;
    return this.#send(acquisition, MessageType.cameraFrames, payload);
  }

  /** Queues a frame's chunks. */
  async #sendFrame(acquisition: Acquisition, f: number): Promise<void> {
    const chunks = Math.max(1, Math.ceil(acquisition.frames[f]!.length / acquisition.chunkBytes));
    for (let chunk = 0; chunk < chunks; chunk++) {
      if (!(await this.#queue(acquisition, () => this.#sendChunk(acquisition, f, chunk)))) return;
    }
    await this.#countSentFrames(acquisition, 1);
  }

  /** Counts frames sent; the unplug fault strikes here. */
  async #countSentFrames(acquisition: Acquisition, frames: number): Promise<void> {
    this.stats.cameraFramesSent += frames;
    if (this.stats.cameraFramesSent >= (this.faults.disconnectAfterFrames ?? Number.POSITIVE_INFINITY)) {
      await Promise.allSettled(acquisition.sending);
      const unplugged = new ProtocolError('disconnected by fault injection', { field: 'disconnectAfterFrames' });
      this.#link.fail(unplugged);
      await this.#transport.close();
      throw unplugged;
    }
  }

  #sendChunk(acquisition: Acquisition, f: number, chunk: number): Promise<void> {
    const frameBytes = acquisition.frames[f]!;
    const chunks = Math.max(1, Math.ceil(frameBytes.length / acquisition.chunkBytes));
    const offset = chunk * acquisition.chunkBytes;
    const pixels = frameBytes.subarray(offset, offset + acquisition.chunkBytes);
    return this.#send(
      acquisition,
      MessageType.cameraChunk,
      encodeCameraChunk({ frame: f, chunk, chunks, offset, report: acquisition.reports[f]!, pixels }),
    );
  }

  #credit(frame: Frame): void {
    const acquisition = this.#acquisition;
    if (acquisition?.id !== frame.requestId) return;
    acquisition.upTo = Math.max(acquisition.upTo, decodeCredit(frame.payload));
    acquisition.creditWaiter?.();
    acquisition.creditWaiter = undefined;
  }

  async #resend(frame: Frame): Promise<void> {
    const acquisition = this.#acquisitionFor(frame);
    const { frame: f, chunk } = decodeResendChunk(frame.payload);
    const frameBytes = acquisition.frames[f];
    if (!frameBytes || chunk * acquisition.chunkBytes >= Math.max(1, frameBytes.length)) {
      throw new DeviceRefusal(ErrorCode.badPayload, `frame ${f} chunk ${chunk} was not acquired`);
    }
    this.stats.chunksResent++;
    const pack = acquisition.framesPerPack;
    if (pack > 1) {
      const first = f - (f % pack);
      if (acquisition.frames.length < Math.min(first + pack, acquisition.count)) {
        throw new DeviceRefusal(ErrorCode.badPayload, `the pack of frame ${f} was not acquired`);
      }
      await this.#sendPackNow(acquisition, first);
    } else await this.#sendChunk(acquisition, f, chunk);
  }

  #acquisitionFor(frame: Frame): Acquisition {
    const acquisition = this.#acquisition;
    if (acquisition?.id !== frame.requestId) {
      throw new DeviceRefusal(ErrorCode.badPayload, `acquisition ${frame.requestId} is not the last one`);
    }
    return acquisition;
  }

  /** Answers a request the device could not carry out with an ERROR naming why. */
  #refuse(frame: Frame, error: Error): void {
    this.#onError(error);
    if (this.#link.closed) return;
    const code =
      error instanceof DeviceRefusal
        ? error.code
        : error instanceof ArgumentError
          ? ErrorCode.settingRejected
          : error instanceof ProtocolError
            ? ErrorCode.badPayload
            : ErrorCode.acquisitionFailed;
    this.#link
      .send(MessageType.error, encodeError({ code, message: error.message }), frame.requestId, frame.session)
      .catch(() => undefined);
  }
}

/** A request the device refuses, with the protocol's error code. */
class DeviceRefusal extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}
