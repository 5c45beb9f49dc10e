import { writev } from 'node:fs';
import { type FdWrite, nativeFdWrite } from 'opu-native';

export interface FdWriter {
  write(bytes: Uint8Array): Promise<void>;
  /** Refuses new writes, abandons a retrying one, and resolves when none is in flight: then the fd may close. */
  stop(): Promise<void>;
}

interface Queued {
  bytes: Uint8Array;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** Messages gathered into one write: one thread-pool round trip carries everything queued meanwhile. */
const MAX_GATHER = 64;
const MAX_GATHER_BYTES = 1 << 20;
/** How long one native write waits for room before it returns, so that stop() is heard. */
const WAIT_MS = 100;

/** The messages as one buffer (copied only when there are several). */
function gather(buffers: Uint8Array[]): Uint8Array {
  if (buffers.length === 1) return buffers[0]!;
  const out = new Uint8Array(buffers.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of buffers) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

const writevOnce = (fd: number, buffers: Uint8Array[]) =>
  new Promise<number>((resolve, reject) =>
    writev(fd, buffers, (error, written) => {
      if (!error) resolve(written);
      // The OS buffer is full: try again after the event loop has run (and the reader had a chance to drain it).
      else if (error.code === 'EAGAIN') setImmediate(() => resolve(0));
      else reject(error);
    }),
  );

/**
 * Writes to a non-blocking descriptor off the event loop, in order, gathering the messages queued while a write is
 * in flight into the next one. With the addon a worker thread sleeps in poll() while the buffer is full; without
 * it, fs.writev is retried after each turn of the event loop. Neither a TTY stream (whose writes block the event
 * loop) nor serialport's writer (whose poller drops a pending "writable" wait when a read starts polling,
 * @serialport/bindings-cpp poller.cpp) can stall it.
 */
/** `nativeWrite`: the addon's waiting write, or null for the fs.writev path. */
export function fdWriter(fd: number, nativeWrite: FdWrite | null = nativeFdWrite ?? null): FdWriter {
  const writeOnce = nativeWrite
    ? (buffers: Uint8Array[]) => nativeWrite(fd, gather(buffers), WAIT_MS)
    : (buffers: Uint8Array[]) => writevOnce(fd, buffers);
  const queue: Queued[] = [];
  /** Bytes of queue[0] already written. */
  let offset = 0;
  let running: Promise<void> | undefined;
  let stopped = false;
  const cancelled = () => Object.assign(new Error('the port is closing'), { code: 'ECANCELED' });

  const drain = async () => {
    while (queue.length > 0) {
      if (stopped) throw cancelled();
      const batch: Uint8Array[] = [];
      let bytes = 0;
      for (const [i, q] of queue.entries()) {
        if (i === MAX_GATHER || (i > 0 && bytes + q.bytes.length > MAX_GATHER_BYTES)) break;
        batch.push(i === 0 ? q.bytes.subarray(offset) : q.bytes);
        bytes += batch.at(-1)!.length;
      }
      let written = await writeOnce(batch);
      while (written > 0) {
        const head = queue[0]!;
        const left = head.bytes.length - offset;
        if (written < left) {
          offset += written;
          break;
        }
        written -= left;
        offset = 0;
        queue.shift();
        head.resolve();
      }
      // Empty messages are written as soon as they reach the front.
      while (queue.length > 0 && queue[0]!.bytes.length === 0) queue.shift()!.resolve();
    }
  };

  const run = () => {
    running ??= drain()
      .catch((error: Error) => {
        for (const q of queue.splice(0)) q.reject(error);
        offset = 0;
      })
      .finally(() => {
        running = undefined;
        if (queue.length > 0 && !stopped) run();
      });
  };

  return {
    write(bytes) {
      if (stopped) return Promise.reject(cancelled());
      return new Promise<void>((resolve, reject) => {
        queue.push({ bytes, resolve, reject });
        run();
      });
    },
    async stop() {
      stopped = true;
      await running;
    },
  };
}
