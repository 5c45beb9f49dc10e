import { ReadStream } from 'node:tty';
import { fdWriter } from './fd-writer.js';
import type { Transport } from './transport.js';

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
  const writer = fdWriter(fd);
  return {
    write: (bytes) => writer.write(bytes),
    onData: (listener) => stream.on('data', (data: Buffer) => listener(new Uint8Array(data))),
    onClose: (listener) => stream.on('close', () => listener()),
    close: async () => {
      await writer.stop();
      await new Promise<void>((resolve) => {
        if (stream.destroyed) return resolve();
        stream.once('close', () => resolve());
        stream.destroy();
      });
    },
  };
}
