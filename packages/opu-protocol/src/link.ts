import { randomInt } from 'node:crypto';
import { DeviceError, DeviceStateError, TimeoutError } from 'opu-core';
import { DEFAULT_MAX_PAYLOAD_BYTES, encodeFrame, type Frame, FrameDecoder, PROTOCOL_VERSION } from './frame.js';
import { decodeError, MessageType, ProtocolError } from './messages.js';
import type { Transport } from './transport.js';

interface Pending {
  resolve: (frame: Frame) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  replyType: number;
}

/** Traffic counters of a link, for metadata and benchmarks. */
export interface LinkStats {
  bytesSent: number;
  bytesReceived: number;
  framesSent: number;
  /** Intact frames received, used or not. */
  framesReceived: number;
  /** Intact frames ignored because they belong to another session or replay an earlier one of this session. */
  staleFrames: number;
  /** Intact frames of another protocol version. */
  foreignVersionFrames: number;
}

/**
 * Which end of the line a link serves. A **host** link is one session: it opens with a fresh random session nonce,
 * and any frame from another session, or any peer fault (a frame of another version, an overrun), ends it; the host
 * reconnects with a new link. A **device** link lives as long as the device: each HELLO opens a new session, and
 * nothing a peer sends ends the link, because a device must survive any byte sequence and accept the next HELLO.
 */
export type LinkRole = 'host' | 'device';

export interface LinkOptions {
  role: LinkRole;
  /** Largest payload this side accepts. */
  maxPayloadBytes?: number;
}

/** Sequence numbers are u32; a frame is newer when it is ahead by less than half the range. */
const SEQUENCE_HALF_RANGE = 2 ** 31;

const hex = (type: number) => `0x${type.toString(16).padStart(2, '0')}`;

/** The error a device's ERROR message carries, typed. */
export function deviceRefusal(frame: Frame): ProtocolError {
  const { code, message } = decodeError(frame.payload);
  return new ProtocolError(`the device refused: ${message} (code ${code})`, { field: 'device' });
}

/**
 * Messages over a transport: stamps what it sends with the session and a sequence number, reassembles what it
 * receives (garbage and damaged frames are dropped and counted by the decoder), ignores and counts intact frames of
 * another session or replays of this one, and matches replies to requests by request id, each with its own timeout.
 * A stream of replies to one request (camera chunks) goes to a subscriber instead.
 */
export class ProtocolLink {
  readonly decoder: FrameDecoder;
  readonly role: LinkRole;
  readonly stats: LinkStats = {
    bytesSent: 0,
    bytesReceived: 0,
    framesSent: 0,
    framesReceived: 0,
    staleFrames: 0,
    foreignVersionFrames: 0,
  };
  readonly #transport: Transport;
  readonly #pending = new Map<number, Pending>();
  readonly #streams = new Map<number, (frame: Frame) => void>();
  readonly #unsolicited: ((frame: Frame) => void)[] = [];
  readonly #failed = new Set<(error: Error) => void>();
  #sequence = 0;
  #nextRequestId = 1;
  #closed: Error | undefined;
  /** This session's nonce; 0 on a device that has heard no HELLO yet. */
  #session: number;
  /** The peer's last sequence number heard in this session. */
  #peerSequence: number | undefined;

  constructor(transport: Transport, options: LinkOptions) {
    this.#transport = transport;
    this.role = options.role;
    this.decoder = new FrameDecoder(options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES);
    // A fresh nonce per host link: no frame of an earlier session, whatever its request id, can pass for this one's.
    this.#session = options.role === 'host' ? randomInt(1, 2 ** 32 - 1) : 0;
    transport.onData((bytes) => this.#receive(bytes));
    transport.onClose(() =>
      this.fail(
        new DeviceError('the serial link closed', { fix: 'check the cable; the driver reconnects on the next call' }),
      ),
    );
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** The session every frame sent carries and every frame heard must carry. */
  get session(): number {
    return this.#session;
  }

  /** Messages that answer no pending request and belong to no stream (requests, on the device side). */
  onUnsolicited(listener: (frame: Frame) => void): void {
    this.#unsolicited.push(listener);
  }

  /** Calls `listener` once if the link fails or closes, with the reason, until the returned function is called. */
  onFailure(listener: (error: Error) => void): () => void {
    this.#failed.add(listener);
    return () => {
      this.#failed.delete(listener);
    };
  }

  /** A fresh request id, for a request whose replies are a stream. */
  allocateRequestId(): number {
    const id = this.#nextRequestId;
    this.#nextRequestId = id === 0xffff_ffff ? 1 : id + 1;
    return id;
  }

  /** Routes every frame carrying `requestId` to `listener` until the returned function is called. */
  subscribe(requestId: number, listener: (frame: Frame) => void): () => void {
    this.#streams.set(requestId, listener);
    return () => {
      this.#streams.delete(requestId);
    };
  }

  /**
   * Sends one message, stamped with `session`: the link's own by default. A device stamps a reply, or a stream, with
   * the session of the request it serves, so that nothing of an abandoned session is ever sent as part of a new one.
   */
  async send(type: number, payload: Uint8Array, requestId = 0, session = this.#session): Promise<void> {
    if (this.#closed) throw this.#closed;
    const sequence = this.#sequence;
    this.#sequence = (this.#sequence + 1) >>> 0;
    const wire = encodeFrame({ version: PROTOCOL_VERSION, type, session, sequence, requestId, payload });
    this.stats.bytesSent += wire.length;
    this.stats.framesSent++;
    try {
      await this.#transport.write(wire);
    } catch (error) {
      // A port that cannot be written is gone: fail everything waiting on it, so the driver reconnects.
      this.fail(error as Error);
      throw error;
    }
  }

  /**
   * Sends a request and resolves with its reply, which must be of `replyType`. An ERROR reply rejects with a
   * ProtocolError carrying the device's code and message; no reply within `timeoutMs` rejects with a TimeoutError.
   */
  request(type: number, payload: Uint8Array, replyType: number, timeoutMs: number): Promise<Frame> {
    const requestId = this.allocateRequestId();
    return new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(requestId);
        reject(
          new TimeoutError(`no reply to message ${hex(type)} within ${timeoutMs} ms`, {
            field: 'timeoutMs',
            fix: 'check the cable and that the device is powered; a longer timeout if it is busy',
          }),
        );
      }, timeoutMs);
      this.#pending.set(requestId, { resolve, reject, timer, replyType });
      // Not awaited: the timeout runs from now, even if the port takes the bytes slowly or never.
      this.send(type, payload, requestId).catch((error: Error) => {
        clearTimeout(timer);
        this.#pending.delete(requestId);
        reject(error);
      });
    });
  }

  async close(): Promise<void> {
    this.fail(new DeviceStateError('the link was closed', { fix: 'open the device again' }));
    await this.#transport.close();
  }

  /** Ends the link: every pending request and stream fails with `error`, and so does every later send. */
  fail(error: Error): void {
    if (this.#closed) return;
    this.#closed = error;
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.#pending.clear();
    for (const listener of this.#failed) listener(error);
  }

  #receive(bytes: Uint8Array): void {
    this.stats.bytesReceived += bytes.length;
    const overruns = this.decoder.faults.overrun;
    for (const frame of this.decoder.push(bytes)) this.#dispatch(frame);
    // A device drops the run and carries on; for a host the device broke the protocol, and the session ends.
    if (this.role === 'host' && this.decoder.faults.overrun > overruns) {
      this.fail(
        new ProtocolError(
          `the peer sent a frame larger than the ${this.decoder.maxPayloadBytes}-byte maximum payload`,
          {
            field: 'maxPayloadBytes',
            fix: 'the device ignores the negotiated maximum: update its firmware',
          },
        ),
      );
    }
  }

  #dispatch(frame: Frame): void {
    this.stats.framesReceived++;
    if (frame.version !== PROTOCOL_VERSION) {
      this.stats.foreignVersionFrames++;
      if (this.role === 'device') {
        // The device answers a HELLO it cannot speak (ERROR 7) and ignores everything else of that version.
        if (frame.type === MessageType.hello) this.#deliverUnsolicited(frame);
        return;
      }
      this.fail(
        new ProtocolError(`the peer speaks protocol version ${frame.version}; this side speaks ${PROTOCOL_VERSION}`, {
          field: 'version',
          fix: 'update the SDK or the device firmware so that both speak the same protocol version',
        }),
      );
      return;
    }
    if (this.role === 'device' && frame.type === MessageType.hello && this.#opensSession(frame)) {
      this.#session = frame.session;
      this.#peerSequence = frame.sequence;
      this.#deliverUnsolicited(frame);
      return;
    }
    if (frame.session !== this.#session || this.#session === 0 || !this.#isNewer(frame.sequence)) {
      this.stats.staleFrames++;
      return;
    }
    this.#peerSequence = frame.sequence;
    const stream = frame.requestId ? this.#streams.get(frame.requestId) : undefined;
    if (stream) {
      stream(frame);
      return;
    }
    const pending = frame.requestId ? this.#pending.get(frame.requestId) : undefined;
    if (!pending) {
      this.#deliverUnsolicited(frame);
      return;
    }
    clearTimeout(pending.timer);
    this.#pending.delete(frame.requestId);
    try {
      if (frame.type === MessageType.error) throw deviceRefusal(frame);
      if (frame.type !== pending.replyType) {
        throw new ProtocolError(
          `the device answered with message ${hex(frame.type)}, expected ${hex(pending.replyType)}`,
          {
            field: 'type',
            fix: 'update the SDK or the device firmware so that both speak the same protocol version',
          },
        );
      }
      pending.resolve(frame);
    } catch (error) {
      pending.reject(error as Error);
    }
  }

  /** A HELLO opens a session unless it replays one of the current session (not newer than what was heard). */
  #opensSession(hello: Frame): boolean {
    return hello.session !== 0 && (hello.session !== this.#session || this.#isNewer(hello.sequence));
  }

  #isNewer(sequence: number): boolean {
    if (this.#peerSequence === undefined) return true;
    const ahead = (sequence - this.#peerSequence) >>> 0;
    return ahead !== 0 && ahead < SEQUENCE_HALF_RANGE;
  }

  #deliverUnsolicited(frame: Frame): void {
    for (const listener of this.#unsolicited) listener(frame);
  }
}
