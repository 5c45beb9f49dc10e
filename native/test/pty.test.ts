import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { addonPath, NativeUnavailableError, openPseudoTerminal } from '../src/index.js';
import { loadFdWrite, openPseudoTerminal as openFrom } from '../src/io/pty.js';

describe('pseudo-terminal', () => {
  it('passes every byte value both ways unchanged (raw mode: no echo, no CR/LF translation)', () => {
    const pty = openPseudoTerminal();
    expect(pty.path).toMatch(/^\/dev\/pts\/\d+$/);
    const slave = openSync(pty.path, constants.O_RDWR | constants.O_NOCTTY);
    try {
      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      for (const [from, to] of [
        [pty.masterFd, slave],
        [slave, pty.masterFd],
      ] as const) {
        writeSync(from, all);
        const got = Buffer.alloc(512);
        let n = 0;
        // The master is non-blocking, and a pty moves bytes between its sides asynchronously: retry until all came.
        for (let tries = 0; n < 256 && tries < 1000; tries++) {
          try {
            n += readSync(to, got, n, 512 - n, null);
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
          }
        }
        expect(n).toBe(256);
        expect(Uint8Array.from(got.subarray(0, n))).toEqual(all);
      }
    } finally {
      closeSync(slave);
      closeSync(pty.slaveFd);
      closeSync(pty.masterFd);
    }
  });

  it('the waiting write sleeps while the buffer is full, then finishes, without blocking the event loop', async () => {
    const write = loadFdWrite(addonPath());
    expect(write).toBeTypeOf('function');
    const pty = openPseudoTerminal();
    const slave = openSync(pty.path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
    try {
      // Far more than a pty holds: the writer must wait for the reader below, which runs on this event loop.
      const bytes = Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 31) & 0xff);
      const written = write!(pty.masterFd, bytes, 5000);
      const got = new Uint8Array(bytes.length);
      let n = 0;
      while (n < bytes.length) {
        try {
          n += readSync(slave, got, n, bytes.length - n, null);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
      }
      expect(await written).toBe(bytes.length);
      expect(got).toEqual(bytes);
      // Nobody reads: it gives up after the wait and says how much went.
      const stalled = await write!(pty.masterFd, new Uint8Array(1 << 20), 50);
      expect(stalled).toBeGreaterThan(0);
      expect(stalled).toBeLessThan(1 << 20);
      await expect(write!(-1, Uint8Array.of(1), 10)).rejects.toThrow(/write: Bad file descriptor/);
    } finally {
      closeSync(slave);
      closeSync(pty.slaveFd);
      closeSync(pty.masterFd);
    }
  });

  it('without the addon, a typed error that says how to build it', () => {
    expect(loadFdWrite('/nonexistent/opu_native.node')).toBeUndefined();
    expect(() => openFrom('/nonexistent/opu_native.node')).toThrow(NativeUnavailableError);
    expect(() => openFrom('/nonexistent/opu_native.node')).toThrow(/npm run build:native/);
  });
});
