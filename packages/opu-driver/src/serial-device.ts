import { crc32 } from 'node:zlib';
import {
  allocateDmdFrames,
  bytesPerFrame,
  type CameraFrames,
  DeviceError,
  type DmdFrames,
  litMirrorCounts,
  measureTriggerLag,
  type OpenedDevice,
  OpuDevice,
  type OpuInfo,
  type OpuSettings,
  parseOrThrow,
  rectangleArea,
  settingsSchema,
  TimeoutError,
} from 'opu-core';
import {
  acquisitionSettings,
  decodeHelloReply,
  decodeJson,
  deviceInfoSchema,
  deviceRefusal,
  encodeHeartbeat,
  encodeHello,
  encodeJson,
  encodeUploadFrames,
  MessageType,
  PROTOCOL_VERSION,
  ProtocolError,
  ProtocolLink,
  parseFromDevice,
  SETTINGS_SCHEMA_HASH,
  type Transport,
} from 'opu-protocol';
import { IncomingAcquisition, SettingsMismatchError } from './incoming-acquisition.js';
import { type SerialDeviceOptions, type SerialDeviceOptionsInput, serialDeviceOptionsSchema } from './options.js';
import { SilenceClock } from './silence.js';
import { serialTriggerLagTest } from './trigger-lag.js';

/** HELLO is repeated this often until the device answers. */
const HELLO_INTERVAL_MS = 200;
/** Zeros written before the handshake: they end any partial frame the device was receiving. */
const FLUSH = new Uint8Array(16);
/** UPLOAD_FRAMES fields before the frame bytes. */
const UPLOAD_HEADER_BYTES = 4;
/** Heartbeat periods of silence after which the device counts as gone. */
const MISSED_HEARTBEATS = 3;

export interface SerialOpuDeviceInit {
  /** Opens the byte stream to the device; called again to reconnect (serialport in production). */
  connect: () => Promise<Transport>;
  options?: SerialDeviceOptionsInput;
}

/** One handshake's worth of state: a link and what was negotiated over it. */
interface Session {
  link: ProtocolLink;
  info: OpuInfo;
  /** Requests the device queues (its credits), and the payload both sides accept. */
  deviceCredits: number;
  uploadBytes: number;
  heartbeat: NodeJS.Timeout;
  silence: SilenceClock;
  /** Frames received when the heartbeat last looked. */
  framesSeen: number;
}

/** Link counters and events since the device was opened. */
export interface SerialDeviceStats {
  reconnects: number;
  retries: number;
  droppedFrames: number;
  /** Intact frames of another session, or replays, that were ignored. */
  staleFrames: number;
  /** Batches repeated because the device held other settings than this host set. */
  settingsRestored: number;
}

/**
 * An OPU on a serial line (USB CDC-ACM, or the emulator's pseudo-terminal), speaking docs/protocol.md over an
 * injected transport. Requests time out, idempotent ones are retried, a silent device is detected by heartbeats,
 * and the next call after a lost link reconnects. The camera's trigger lag is measured at open and compensated, so
 * camera frame i is always DMD frame i.
 */
export class SerialOpuDevice extends OpuDevice {
  readonly options: SerialDeviceOptions;
  readonly stats: SerialDeviceStats = {
    reconnects: 0,
    retries: 0,
    droppedFrames: 0,
    staleFrames: 0,
    settingsRestored: 0,
  };
  readonly #connect: () => Promise<Transport>;
  #session: Session | undefined;
  #settings: OpuSettings | undefined;
  #triggerLagFrames = 0;

  constructor(init: SerialOpuDeviceInit) {
    super();
    this.#connect = init.connect;
    this.options = parseOrThrow(
      serialDeviceOptionsSchema,
      init.options ?? {},
      'options',
      'see docs/opu-driver.md for each option and its range',
    );
  }

  /** Whether the link is up; after a loss it is re-established by the next call. */
  get connected(): boolean {
    return this.#session !== undefined && !this.#session.link.closed;
  }

  /** Camera frames by which the device's capture lags its DMD, measured at open (0 when the self-test is off). */
  get triggerLagFrames(): number {
    return this.#triggerLagFrames;
  }

  protected async doOpen(): Promise<OpenedDevice> {
    const session = await this.#handshake();
    try {
      this.#settings = await this.#getSettings(session);
      if (this.options.triggerSelfTest) {
        const { minFramesPerAcquisition, maxFramesPerAcquisition } = session.info.limits;
        this.#triggerLagFrames = await measureTriggerLag(
          (frames) => this.#acquireVerified(session, frames),
          rectangleArea(this.#settings.inputRegion),
          serialTriggerLagTest({ minFrames: minFramesPerAcquisition, maxFrames: maxFramesPerAcquisition }),
        );
      }
    } catch (error) {
      await this.#endSession(session);
      throw error;
    }
    this.#session = session;
    return { info: this.#publicInfo(session.info), settings: this.#settings };
  }

  protected async doClose(): Promise<void> {
    if (this.#session) await this.#endSession(this.#session);
    this.#session = undefined;
  }

  protected async doConfigure(settings: OpuSettings): Promise<void> {
    const session = await this.#liveSession();
    this.#settings = await this.#setSettings(session, settings);
  }

  protected async doAcquire(frames: DmdFrames): Promise<CameraFrames> {
    const session = await this.#liveSession();
    const lag = this.#triggerLagFrames;
    if (lag === 0) return this.#acquireVerified(session, frames);
    // Blank frames after the batch flush the lagging capture; the first `lag` camera frames belong to the past.
    const shown = allocateDmdFrames(frames.count + lag, frames.mirrorsPerFrame);
    shown.data.set(frames.data);
    const shot = await this.#acquireVerified(session, shown);
    const pixels = shot.widthPx * shot.heightPx;
    const { meta } = shot;
    return {
      ...shot,
      count: frames.count,
      data: shot.data.slice(lag * pixels),
      meta: {
        ...meta,
        timestampsUs: meta.timestampsUs.slice(lag),
        litMirrors: meta.litMirrors.slice(0, frames.count),
        saturatedPixels: meta.saturatedPixels.slice(lag),
      },
    };
  }

  /** The device's limits less the frames the trigger-lag compensation adds to each batch. */
  #publicInfo(info: OpuInfo): OpuInfo {
    const lag = this.#triggerLagFrames;
    if (lag === 0) return info;
    const { limits } = info;
    return { ...info, limits: { ...limits, maxFramesPerAcquisition: limits.maxFramesPerAcquisition - lag } };
  }

  /**
   * One batch whose every frame used the settings this host set. A device found holding others (another party wrote
   * to the port, or it did not apply them) gets them again, and the batch is repeated once; a second mismatch fails.
   */
  async #acquireVerified(session: Session, frames: DmdFrames): Promise<CameraFrames> {
    try {
      return await this.#acquireOnce(session, frames, 0);
    } catch (error) {
      if (!(error instanceof SettingsMismatchError)) throw error;
      this.stats.settingsRestored++;
      this.#settings = await this.#setSettings(session, this.#settings!);
      return this.#acquireOnce(session, frames, 1);
    }
  }

  /** Uploads and shows one batch as the device sees it, and collects every camera frame whole. */
  async #acquireOnce(session: Session, frames: DmdFrames, settingsRestored: number): Promise<CameraFrames> {
    const settings = this.#settings!;
    const startedMs = performance.now();
    const before = { ...session.link.stats, dropped: session.link.decoder.damagedFrames, retries: this.stats.retries };
    await this.#upload(session, frames.data);
    const uploadedMs = performance.now();
    const received = await new IncomingAcquisition({
      link: session.link,
      count: frames.count,
      settings: acquisitionSettings(settings, session.info.camera.bitDepth),
      bytesPerFrame: bytesPerFrame(frames.mirrorsPerFrame),
      framesCrc: crc32(frames.data),
      credits: this.options.credits,
      stallMs: Math.min(100, this.options.timeoutMs / 10),
      timeoutMs: this.options.timeoutMs,
    }).run();
    const streamedMs = performance.now();
    this.stats.retries += received.retries;
    const dropped = session.link.decoder.damagedFrames;
    this.stats.droppedFrames += dropped - before.dropped;
    const stats = session.link.stats;
    this.stats.staleFrames += stats.staleFrames - before.staleFrames;
    return {
      count: frames.count,
      widthPx: settings.outputRoi.width,
      heightPx: settings.outputRoi.height,
      bitDepth: session.info.camera.bitDepth,
      data: received.data,
      meta: {
        // Every frame reported this exposure (checked as it arrived): the one the host normalizes by.
        exposureUs: settings.exposureUs,
        frameTimeUs: settings.frameTimeUs,
        gainDb: settings.gainDb,
        timestampsUs: Float64Array.from(received.reports, (r) => r.timeUs),
        litMirrors: litMirrorCounts(frames),
        saturatedPixels: Uint32Array.from(received.reports, (r) => r.saturatedPixels),
        transfer: {
          retries: this.stats.retries - before.retries,
          droppedFrames: dropped - before.dropped,
          staleFrames: stats.staleFrames - before.staleFrames,
          settingsRestored,
          bytesSent: stats.bytesSent - before.bytesSent,
          bytesReceived: stats.bytesReceived - before.bytesReceived,
          wallTimeMs: performance.now() - startedMs,
          uploadMs: uploadedMs - startedMs,
          streamMs: streamedMs - uploadedMs,
        },
      },
    };
  }

  /** Sends the frames in pieces the device accepts, with at most its credits unacknowledged. */
  async #upload(session: Session, data: Uint8Array): Promise<void> {
    const pieces: number[] = [];
    for (let offset = 0; offset < data.length; offset += session.uploadBytes) pieces.push(offset);
    let next = 0;
    const worker = async () => {
      while (next < pieces.length) {
        const offset = pieces[next++]!;
        const bytes = data.subarray(offset, offset + session.uploadBytes);
        await this.#request(
          session,
          MessageType.uploadFrames,
          encodeUploadFrames({ offset, bytes }),
          MessageType.uploadDone,
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(session.deviceCredits, pieces.length) }, worker));
  }

  /** An idempotent request: sent again after a timeout, up to `retries` times. */
  async #request(session: Session, type: number, payload: Uint8Array, replyType: number) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await session.link.request(type, payload, replyType, this.options.timeoutMs);
      } catch (error) {
        if (!(error instanceof TimeoutError) || attempt >= this.options.retries || session.link.closed) throw error;
        this.stats.retries++;
      }
    }
  }

  async #getSettings(session: Session): Promise<OpuSettings> {
    const reply = await this.#request(session, MessageType.getSettings, new Uint8Array(0), MessageType.settings);
    return parseFromDevice(settingsSchema, decodeJson(reply.payload, 'SETTINGS'), 'SETTINGS');
  }

  async #setSettings(session: Session, settings: OpuSettings): Promise<OpuSettings> {
    const reply = await this.#request(session, MessageType.setSettings, encodeJson(settings), MessageType.settings);
    return parseFromDevice(settingsSchema, decodeJson(reply.payload, 'SETTINGS'), 'SETTINGS');
  }

  /** The open session, or a new one when the link was lost: reconnect, shake hands, restore the settings. */
  async #liveSession(): Promise<Session> {
    const current = this.#session;
    if (current && !current.link.closed) return current;
    if (current) await this.#endSession(current);
    this.#session = undefined;
    const deadline = performance.now() + this.options.reconnectTimeoutMs;
    const lost = (error: unknown) =>
      new DeviceError(`the link to the device is lost and reconnecting failed: ${(error as Error).message}`, {
        field: 'connection',
        fix: 'check that the device is plugged in and powered, then call again',
        cause: error,
      });
    for (;;) {
      let session: Session;
      try {
        session = await this.#handshake();
        this.#settings = await this.#restore(session);
      } catch (error) {
        // A device that answers but refuses the protocol will not change its mind: only silence is retried.
        if (error instanceof ProtocolError || performance.now() >= deadline) throw lost(error);
        await new Promise((resolve) => setTimeout(resolve, HELLO_INTERVAL_MS));
        continue;
      }
      this.#session = session;
      this.stats.reconnects++;
      return session;
    }
  }

  /** After a reconnect: the same device (by serial number) gets back the settings it had. */
  async #restore(session: Session): Promise<OpuSettings> {
    if (session.info.serialNumber !== this.info.serialNumber) {
      await this.#endSession(session);
      throw new ProtocolError(
        `another device answered: serial number ${session.info.serialNumber}, expected ${this.info.serialNumber}`,
        { field: 'serialNumber', fix: 'open the new device explicitly; its calibration differs' },
      );
    }
    try {
      return await this.#setSettings(session, this.#settings!);
    } catch (error) {
      await this.#endSession(session);
      throw error;
    }
  }

  /**
   * Opens the transport, flushes the line and repeats HELLO until a HELLO_REPLY arrives (anything else is ignored);
   * refuses a device with another protocol version or settings schema.
   */
  async #handshake(): Promise<Session> {
    const transport = await this.#connect();
    const link = new ProtocolLink(transport, { role: 'host', maxPayloadBytes: this.options.maxPayloadBytes });
    try {
      await transport.write(FLUSH);
      const reply = decodeHelloReply(await this.#hello(link));
      if (reply.major !== PROTOCOL_VERSION) {
        throw new ProtocolError(
          `the device speaks protocol version ${reply.major}; this SDK speaks ${PROTOCOL_VERSION}`,
          {
            field: 'HELLO_REPLY.major',
            fix: 'update the SDK or the device firmware so that both speak the same protocol version',
          },
        );
      }
      if (Buffer.compare(reply.schemaHash, SETTINGS_SCHEMA_HASH) !== 0) {
        throw new ProtocolError(
          `the device's settings schema (hash ${Buffer.from(reply.schemaHash).toString('hex').slice(0, 12)}…) is not ` +
            `this SDK's (${Buffer.from(SETTINGS_SCHEMA_HASH).toString('hex').slice(0, 12)}…)`,
          { field: 'HELLO_REPLY.schemaHash', fix: 'update the SDK or the device firmware to the same release' },
        );
      }
      let info: unknown;
      try {
        info = JSON.parse(reply.info);
      } catch {
        throw new ProtocolError('the device info is not JSON', { field: 'HELLO_REPLY.info' });
      }
      const session: Session = {
        link,
        info: parseFromDevice(deviceInfoSchema, info, 'HELLO_REPLY.info'),
        deviceCredits: Math.max(1, reply.credits),
        uploadBytes: Math.max(
          1,
          Math.min(this.options.chunkBytes, reply.chunkBytes, reply.maxPayloadBytes - UPLOAD_HEADER_BYTES),
        ),
        heartbeat: setInterval(() => this.#heartbeat(session), this.options.heartbeatMs).unref(),
        silence: new SilenceClock(this.options.heartbeatMs),
        framesSeen: link.stats.framesReceived,
      };
      link.onFailure(() => clearInterval(session.heartbeat));
      return session;
    } catch (error) {
      await link.close().catch(() => undefined);
      throw error;
    }
  }

  #hello(link: ProtocolLink): Promise<Uint8Array> {
    const hello = encodeHello({
      major: PROTOCOL_VERSION,
      minor: 0,
      maxPayloadBytes: this.options.maxPayloadBytes,
      credits: this.options.credits,
      chunkBytes: this.options.chunkBytes,
    });
    const subscriptions: (() => void)[] = [];
    let timer: NodeJS.Timeout | undefined;
    let unwatch: () => void = () => undefined;
    return new Promise<Uint8Array>((resolve, reject) => {
      unwatch = link.onFailure(reject);
      // A reply to any HELLO will do: on a slow line it may come after the next HELLO went out.
      const onReply = (frame: { type: number; payload: Uint8Array; requestId: number }) => {
        if (frame.type === MessageType.helloReply) resolve(frame.payload);
        else if (frame.type === MessageType.error) reject(deviceRefusal(frame as never));
      };
      const started = performance.now();
      const say = () => {
        if (performance.now() - started >= this.options.handshakeTimeoutMs) {
          const undecodable = link.decoder.damagedFrames;
          // A device of another protocol version frames differently: all its replies fail to decode.
          const heard = undecodable > 0 ? ` (${undecodable} frames came that did not decode)` : '';
          reject(
            new TimeoutError(`no HELLO_REPLY within ${this.options.handshakeTimeoutMs} ms${heard}`, {
              field: 'handshakeTimeoutMs',
              fix:
                undecodable > 0
                  ? `check that the device speaks protocol version ${PROTOCOL_VERSION} (update its firmware or the SDK) and the line is clean`
                  : 'check that the port is an OPU (opu devices lists them) and that it is powered',
            }),
          );
          return;
        }
        const id = link.allocateRequestId();
        subscriptions.push(link.subscribe(id, onReply));
        link.send(MessageType.hello, hello, id).catch(reject);
      };
      say();
      timer = setInterval(say, HELLO_INTERVAL_MS);
    }).finally(() => {
      clearInterval(timer);
      unwatch();
      for (const unsubscribe of subscriptions) unsubscribe();
    });
  }

  /** Probes an idle link; a device silent for three periods is gone, and what waits on it fails now. */
  #heartbeat(session: Session): void {
    const { link } = session;
    if (link.stats.framesReceived !== session.framesSeen) {
      session.framesSeen = link.stats.framesReceived;
      session.silence.heard();
    }
    const silentMs = session.silence.tick();
    if (silentMs >= MISSED_HEARTBEATS * this.options.heartbeatMs) {
      link.fail(
        new TimeoutError(`the device has not answered for ${Math.round(silentMs)} ms`, {
          field: 'heartbeatMs',
          fix: 'check the cable and that the device is powered; the next call reconnects',
        }),
      );
      return;
    }
    if (silentMs > 0) {
      const now = BigInt(Math.round(performance.now() * 1000));
      link
        .request(MessageType.heartbeat, encodeHeartbeat(now), MessageType.heartbeatReply, this.options.heartbeatMs)
        .catch(() => undefined);
    }
  }

  async #endSession(session: Session): Promise<void> {
    clearInterval(session.heartbeat);
    await session.link.close().catch(() => undefined);
  }
}
