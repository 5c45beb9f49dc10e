import { seededUniform } from 'opu-core';
import type { Transport } from 'opu-protocol';
import { z } from 'zod';

/** Faults the emulator injects on its line, to exercise the driver's recovery (all off by default). */
export const faultSchema = z.object({
  /** Probability that a byte, in either direction, is replaced by a random other byte. */
  corruptRate: z.number().min(0).max(1).default(0),
  /** Probability that a byte, in either direction, is lost. */
  dropRate: z.number().min(0).max(1).default(0),
  /** Every this many messages sent, the device stops talking for `stallMs` (0: never). */
  stallEveryMessages: z.number().int().nonnegative().default(0),
  stallMs: z.number().nonnegative().default(0),
  /** The line goes dead after the device has sent this many camera frames (as if unplugged), counted per message. */
  disconnectAfterFrames: z.number().int().positive().optional(),
  /** An emulated UART: the device sends at most baudRate / 10 bytes per second (8N1). */
  baudRate: z.number().positive().optional(),
  /** Seed of the fault pattern: the same seed damages the same bytes. */
  seed: z.number().int().default(1),
});
export type EmulatorFaults = z.infer<typeof faultSchema>;
export type EmulatorFaultsInput = z.input<typeof faultSchema>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Bytes a paced write sends at once: small enough that the emulated rate is smooth. */
const PACING_SLICE_BYTES = 1024;

/**
 * Wraps the device's transport with the faults in `faults`, read at each write and read, so that a test can change
 * them on a running link. Damage is applied to bytes, below the framing, as a noisy cable would; stalls and pacing
 * delay whole writes, as a busy or slow device would.
 */
export function faultyTransport(inner: Transport, faults: EmulatorFaults): Transport {
  const random = seededUniform(faults.seed);
  const damage = (bytes: Uint8Array): Uint8Array => {
    if (faults.corruptRate === 0 && faults.dropRate === 0) return bytes;
    const out = new Uint8Array(bytes.length);
    let n = 0;
    for (const byte of bytes) {
      const u = random();
      if (u < faults.dropRate) continue;
      out[n++] = u < faults.dropRate + faults.corruptRate ? (byte + 1 + Math.floor(random() * 255)) & 0xff : byte;
    }
    return out.subarray(0, n);
  };
  let messages = 0;
  // One message after another: a paced or stalled message must not let a later one overtake or interleave with it.
  let writing = Promise.resolve();
  const send = async (bytes: Uint8Array) => {
    messages++;
    if (faults.stallEveryMessages > 0 && messages % faults.stallEveryMessages === 0) await sleep(faults.stallMs);
    const damaged = damage(bytes);
    if (faults.baudRate === undefined) return inner.write(damaged);
    const bytesPerMs = faults.baudRate / 10 / 1000;
    for (let at = 0; at < damaged.length; at += PACING_SLICE_BYTES) {
      const slice = damaged.subarray(at, at + PACING_SLICE_BYTES);
      await sleep(slice.length / bytesPerMs);
      await inner.write(slice);
    }
  };
  return {
    write(bytes) {
      const done = writing.then(() => send(bytes));
      writing = done.catch(() => undefined);
      return done;
    },
    onData: (listener) => inner.onData((bytes) => listener(damage(bytes))),
    onClose: (listener) => inner.onClose(listener),
    close: () => inner.close(),
  };
}
