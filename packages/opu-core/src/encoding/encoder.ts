/**
 * What every encoder is: a map from a row-major batch of real values, `features` per row, to a code a binary
 * modulator can show (bits, signed bits, or bit planes with their scales). One method name, `encode`, whatever the
 * code; encoders whose thresholds or range are learned from data are `FittedEncoder`s and are fitted first.
 */
export interface Encoder<Code = Uint8Array> {
  /** The code of the batch `x` (`rows × features`). Bad input raises an `ArgumentError` naming the value at fault. */
  encode(x: Float32Array, features: number): Code;
}

/** An encoder that learns per-feature thresholds or a value range from a batch before it encodes. */
export interface FittedEncoder<Code = Uint8Array> extends Encoder<Code> {
  /** Learns from `x` (`rows × features`, at least one row) and returns the encoder, for `fit(x, f).encode(x, f)`. */
  fit(x: Float32Array, features: number): this;
}
