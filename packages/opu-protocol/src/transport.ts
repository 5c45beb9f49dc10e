/**
 * A byte pipe to a device: serialport in production, an in-memory pair in tests. The driver gets one injected and
 * never inherits from it (as serialport's bindings are injected into SerialPort).
 */
export interface Transport {
  write(bytes: Uint8Array): Promise<void>;
  /** Received bytes, in order, in whatever chunks the OS delivers. */
  onData(listener: (bytes: Uint8Array) => void): void;
  /** The other side went away or the port closed. */
  onClose(listener: () => void): void;
  close(): Promise<void>;
}

/** Two transports wired to each other, delivering asynchronously as a port does. */
export function memoryTransportPair(): [Transport, Transport] {
  const make = () => {
    const data: ((bytes: Uint8Array) => void)[] = [];
    const closed: (() => void)[] = [];
    return { data, closed, open: true };
  };
  const sides = [make(), make()];
  const transport = (self: number): Transport => {
    const me = sides[self]!;
    const peer = sides[1 - self]!;
    return {
      async write(bytes) {
        if (!me.open) throw new Error('transport closed');
        const copy = bytes.slice();
        setImmediate(() => {
          if (peer.open) for (const listener of peer.data) listener(copy);
        });
      },
      onData: (listener) => me.data.push(listener),
      onClose: (listener) => me.closed.push(listener),
      async close() {
        for (const side of sides) {
          if (!side.open) continue;
          side.open = false;
          for (const listener of side.closed) setImmediate(listener);
        }
      },
    };
  };
  return [transport(0), transport(1)];
}
