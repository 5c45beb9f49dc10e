import { write } from 'node:fs';

/** Retry delay when the OS buffer is full: short next to a frame time, long enough not to spin. */
const EAGAIN_RETRY_MS = 1;

const writeChunk = (fd: number, bytes: Uint8Array, offset: number) =>
  new Promise<number>((resolve, reject) =>
    write(fd, bytes, offset, bytes.length - offset, null, (error, written) => {
      if (!error) resolve(written);
      else if (error.code === 'EAGAIN') setImmediate(() => resolve(0));
      else reject(error);
    }),
  );

export interface FdWriter {
  write(bytes: Uint8Array): Promise<void>;
  /** Refuses new writes, abandons a retrying one, and resolves when none is in flight: then the fd may close. */
  stop(): Promise<void>;
}

/**
 * Writes to a non-blocking descriptor through the thread pool, one message after another, retrying partial writes
 * and EAGAIN. Neither a TTY stream (whose writes block the event loop) nor serialport's writer (whose poller drops
 * a pending "writable" wait when a read starts polling, @serialport/bindings-cpp poller.cpp) can stall it.
 */
export function fdWriter(fd: number): FdWriter {
  let writing = Promise.resolve();
  let stopped = false;
  const stoppedError = () => Object.assign(new Error('the port is closing'), { code: 'ECANCELED' });
  return {
    write(bytes) {
      if (stopped) return Promise.reject(stoppedError());
      const done = writing.then(async () => {
        for (let offset = 0; offset < bytes.length; ) {
          if (stopped) throw stoppedError();
          offset += await writeChunk(fd, bytes, offset);
        }
      });
      writing = done.catch(() => undefined);
      return done;
    },
    stop() {
      stopped = true;
      return writing;
    },
  };
}
