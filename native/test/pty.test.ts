import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs';
import { UnsupportedError } from 'opu-core';
import { describe, expect, it } from 'vitest';
import { openPseudoTerminal } from '../src/index.js';
import { openPseudoTerminal as openFrom } from '../src/pty.js';

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

  it('without the addon, a typed error that says how to build it', () => {
    expect(() => openFrom('/nonexistent/opu_native.node')).toThrow(UnsupportedError);
    expect(() => openFrom('/nonexistent/opu_native.node')).toThrow(/npm run build:native/);
  });
});
