import { closeSync, constants, openSync, readSync } from 'node:fs';
import { nativeFdWrite, openPseudoTerminal } from 'opu-native';
import { describe, expect, it } from 'vitest';
import { fdWriter } from '../src/fd-writer.js';

const paths = [
  ['the addon’s waiting write', nativeFdWrite ?? null],
  ['the fs.writev fallback', null],
] as const;

describe.each(paths)('fd writer: %s', (_, native) => {
  it('writes many messages in order, gathered, past a full pty buffer, and stops cleanly', async () => {
    const pty = openPseudoTerminal();
    const slave = openSync(pty.path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
    const writer = fdWriter(pty.masterFd, native);
    try {
      const messages = Array.from({ length: 200 }, (_, m) =>
        Uint8Array.from({ length: (m * 7919) % 20_000 }, (_, i) => (m + i) & 0xff),
      );
      const expected = Buffer.concat(messages);
      const done = Promise.all(messages.map((m) => writer.write(m)));
      const got = new Uint8Array(expected.length);
      let n = 0;
      while (n < got.length) {
        try {
          n += readSync(slave, got, n, got.length - n, null);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
      }
      await done;
      expect(Buffer.from(got).equals(expected)).toBe(true);
      await writer.stop();
      await expect(writer.write(Uint8Array.of(1))).rejects.toThrow(/closing/);
    } finally {
      closeSync(slave);
      closeSync(pty.slaveFd);
      closeSync(pty.masterFd);
    }
  });

  it('a write to a closed descriptor rejects, and so does everything queued behind it', async () => {
    const writer = fdWriter(1_000_000, native);
    const results = await Promise.allSettled([writer.write(Uint8Array.of(1)), writer.write(Uint8Array.of(2))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
