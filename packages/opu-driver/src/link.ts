import { DeviceError, DeviceStateError, TimeoutError } from 'opu-core';
import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  encodeFrame,
  type Frame,
  FrameDecoder,
  PROTOCOL_VERSION,
} from './protocol/frame.js';
import { decodeError, MessageType, ProtocolError } from './protocol/messages.js';
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
  framesReceived: number;
}

const hex = (type: number) => `0x${type.toString(16).padStart(2, '0')}`;

/** The error a device's ERROR message carries, typed. */
export function deviceRefusal(frame: Frame): ProtocolError {
  const { code, message } = decodeError(frame.payload);
  return new ProtocolError(`the device refused: ${message} (code ${code})`, { field: 'device' });
}

/**
 * Messages over a transport: numbers what it sends, reassembles what it receives (garbage and damaged frames are
 * dropped and counted by the decoder), and matches replies to requests by request id, each with its own timeout.
 * A stream of replies to one request (camera chunks) goes to a subscriber instead.
 */
export class ProtocolLink {
  readonly decoder: FrameDecoder;
  readonly stats: LinkStats = { bytesSent: 0, bytesReceived: 0, framesSent: 0, framesReceived: 0 };
  readonly #transport: Transport;
  readonly #pending = new Map<number, Pending>();
  readonly #streams = new Map<number, (frame: Frame) => void>();
  readonly #unsolicited: ((frame: Frame) => void)[] = [];
  readonly #failed = new Set<(error: Error) => void>();
  #sequence = 0;
  #nextRequestId = 1;
  #closed: Error | undefined;

  constructor(transport: Transport, maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES) {
    this.#transport = transport;
    this.decoder = new FrameDecoder(maxPayloadBytes);
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

  async send(type: number, payload: Uint8Array, requestId = 0): Promise<void> {
    if (this.#closed) throw this.#closed;
    const sequence = this.#sequence;
    this.#sequence = (this.#sequence + 1) & 0xffff;
    const wire = encodeFrame({ version: PROTOCOL_VERSION, type, sequence, requestId, payload });
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
    if (this.decoder.faults.overrun > overruns) {
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
      this.fail(
        new ProtocolError(`the peer speaks protocol version ${frame.version}; this side speaks ${PROTOCOL_VERSION}`, {
          field: 'version',
          fix: 'update the SDK or the device firmware so that both speak the same protocol version',
        }),
      );
      return;
    }
    const stream = frame.requestId ? this.#streams.get(frame.requestId) : undefined;
    if (stream) {
      stream(frame);
      return;
    }
    const pending = frame.requestId ? this.#pending.get(frame.requestId) : undefined;
    if (!pending) {
      for (const listener of this.#unsolicited) listener(frame);
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
}
