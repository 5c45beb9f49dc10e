import { write } from 'node:fs';
import { ReadStream } from 'node:tty';
import type { Transport } from './transport.js';

const writeChunk = (fd: number, bytes: Uint8Array, offset: number) =>
  new Promise<number>((resolve, reject) =>
    write(fd, bytes, offset, bytes.length - offset, null, (error, written) => {
      if (!error) resolve(written);
      else if (error.code === 'EAGAIN') setTimeout(() => resolve(0), 1);
      else reject(error);
    }),
  );

/**
 * The master side of a pseudo-terminal (the device emulator's end) as a Transport. Reads come from a TTY stream on
 * the event loop; writes go through the thread pool, partial and retried when the pty's buffer is full, because a
 * TTY stream's writes block the event loop, and with it the host that would drain the buffer (a deadlock for any
 * message larger than the buffer).
 */
export function ttyTransport(fd: number): Transport {
  const stream = new ReadStream(fd);
  stream.setRawMode(true);
  // EIO when the other side hangs up, EBADF after close: either way the line is gone.
  stream.on('error', () => stream.destroy());
  let writing = Promise.resolve();
  return {
    write(bytes) {
      const done = writing.then(async () => {
        for (let offset = 0; offset < bytes.length; ) offset += await writeChunk(fd, bytes, offset);
      });
      writing = done.catch(() => {});
      return done;
    },
    onData: (listener) => stream.on('data', (data: Buffer) => listener(new Uint8Array(data))),
    onClose: (listener) => stream.on('close', () => listener()),
    close: () =>
      new Promise<void>((resolve) => {
        if (stream.destroyed) return resolve();
        stream.once('close', () => resolve());
        stream.destroy();
      }),
  };
}
