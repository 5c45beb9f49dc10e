import { DeviceStateError, TimeoutError } from 'opu-core';
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
}

/**
 * Messages over a transport: numbers what it sends, reassembles what it receives (garbage and damaged frames are
 * dropped and counted by the decoder), and matches replies to requests by request id, each with its own timeout.
 */
export class ProtocolLink {
  readonly decoder: FrameDecoder;
  readonly #transport: Transport;
  readonly #pending = new Map<number, Pending>();
  readonly #unsolicited: ((frame: Frame) => void)[] = [];
  #sequence = 0;
  #nextRequestId = 1;
  #closed = false;

  constructor(transport: Transport, maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES) {
    this.#transport = transport;
    this.decoder = new FrameDecoder(maxPayloadBytes);
    transport.onData((bytes) => {
      for (const frame of this.decoder.push(bytes)) this.#dispatch(frame);
    });
    transport.onClose(() => this.#fail(new DeviceStateError('the link closed', { fix: 'reconnect the device' })));
  }

  /** Messages that answer no request (heartbeats from the device, credits). */
  onUnsolicited(listener: (frame: Frame) => void): void {
    this.#unsolicited.push(listener);
  }

  async send(type: number, payload: Uint8Array, requestId = 0): Promise<void> {
    if (this.#closed) throw new DeviceStateError('the link is closed', { fix: 'open the device again' });
    const sequence = this.#sequence;
    this.#sequence = (this.#sequence + 1) & 0xffff;
    await this.#transport.write(encodeFrame({ version: PROTOCOL_VERSION, type, sequence, requestId, payload }));
  }

  /**
   * Sends a request and resolves with its reply. An ERROR reply rejects with a ProtocolError carrying the device's
   * code and message; no reply within `timeoutMs` rejects with a TimeoutError.
   */
  async request(type: number, payload: Uint8Array, timeoutMs: number): Promise<Frame> {
    const requestId = this.#nextRequestId;
    this.#nextRequestId = this.#nextRequestId === 0xffff_ffff ? 1 : this.#nextRequestId + 1;
    const reply = new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(requestId);
        reject(
          new TimeoutError(`no reply to message 0x${type.toString(16)} within ${timeoutMs} ms`, {
            field: 'timeoutMs',
            fix: 'check the cable and that the device is powered; a longer timeout if it is busy',
          }),
        );
      }, timeoutMs);
      this.#pending.set(requestId, { resolve, reject, timer });
    });
    try {
      await this.send(type, payload, requestId);
    } catch (error) {
      const pending = this.#pending.get(requestId);
      if (pending) clearTimeout(pending.timer);
      this.#pending.delete(requestId);
      throw error;
    }
    return reply;
  }

  async close(): Promise<void> {
    this.#fail(new DeviceStateError('the link was closed', { fix: 'open the device again' }));
    await this.#transport.close();
  }

  #dispatch(frame: Frame): void {
    const pending = frame.requestId ? this.#pending.get(frame.requestId) : undefined;
    if (!pending) {
      for (const listener of this.#unsolicited) listener(frame);
      return;
    }
    clearTimeout(pending.timer);
    this.#pending.delete(frame.requestId);
    if (frame.type !== MessageType.error) {
      pending.resolve(frame);
      return;
    }
    try {
      const { code, message } = decodeError(frame.payload);
      pending.reject(new ProtocolError(`the device refused: ${message} (code ${code})`, { field: 'device' }));
    } catch (error) {
      pending.reject(error as Error);
    }
  }

  #fail(error: Error): void {
    this.#closed = true;
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.#pending.clear();
  }
}
