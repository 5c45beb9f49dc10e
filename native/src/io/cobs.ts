import { createRequire } from 'node:module';

/** The addon's COBS for large frames (opu-driver's TypeScript COBS is the reference and the fallback). */
export interface NativeCobs {
  /** Encodes `src` into `dst` from `at` on (room for src.length + src.length / 254 + 1); returns the end offset. */
  cobsEncodeInto(src: Uint8Array, dst: Uint8Array, at: number): number;
  /** Decodes `src` (no delimiter) into `dst` (room for src.length); the length, or −1 for an invalid encoding. */
  cobsDecodeInto(src: Uint8Array, dst: Uint8Array): number;
}

export function loadCobs(addonPath: string | undefined): NativeCobs | undefined {
  if (addonPath === undefined) return undefined;
  try {
    const addon = createRequire(import.meta.url)(addonPath) as Partial<NativeCobs>;
    if (!addon.cobsEncodeInto || !addon.cobsDecodeInto) return undefined;
    return { cobsEncodeInto: addon.cobsEncodeInto, cobsDecodeInto: addon.cobsDecodeInto };
  } catch {
    return undefined;
  }
}
