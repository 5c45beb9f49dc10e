import { z } from 'zod';

/**
 * The shortest timeout or heartbeat period, in ms: below it a timer's own jitter and one event-loop turn make the
 * period meaningless, and a healthy device would be declared gone.
 */
const MIN_PERIOD_MS = 10;

/** How the driver talks to a device; every field has a default that suits a USB CDC-ACM OPU. */
export const serialDeviceOptionsSchema = z.object({
  /** Longest wait for a reply, and the longest silence tolerated during an acquisition, in ms. */
  timeoutMs: z.number().min(MIN_PERIOD_MS).default(2000),
  /** Idle time after which the driver checks the device is alive; three silent periods mean it is gone. */
  heartbeatMs: z.number().min(MIN_PERIOD_MS).default(1000),
  /** How long the handshake repeats HELLO before giving up, in ms. */
  handshakeTimeoutMs: z.number().min(MIN_PERIOD_MS).default(5000),
  /** How long a reconnect keeps trying to reopen the port and shake hands, in ms. */
  reconnectTimeoutMs: z.number().nonnegative().default(10_000),
  /** Times an idempotent request is sent again after a timeout. */
  retries: z.number().int().nonnegative().default(5),
  /** Largest payload the host accepts. */
  maxPayloadBytes: z
    .number()
    .int()
    .min(4096)
    .max(16 * 2 ** 20)
    .default(2 ** 20),
  /** Largest camera chunk and upload piece, in bytes: small pieces get through a noisy line (1% bad bytes: ~50). */
  chunkBytes: z
    .number()
    .int()
    .min(16)
    .max(16 * 2 ** 20)
    .default(64 * 1024),
  /** Camera chunks the device may send ahead of the host (credit-based flow control). */
  credits: z.number().int().min(1).max(0xffff).default(32),
  /** Measure the camera's trigger lag at open and compensate it. */
  triggerSelfTest: z.boolean().default(true),
});
export type SerialDeviceOptions = z.infer<typeof serialDeviceOptionsSchema>;
export type SerialDeviceOptionsInput = z.input<typeof serialDeviceOptionsSchema>;
