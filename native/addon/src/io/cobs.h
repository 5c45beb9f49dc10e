#pragma once
#include <cstddef>
#include <cstdint>

namespace opu {

// COBS (Cheshire and Baker 1999). `out` needs room for n + n / 254 + 1 bytes; returns the encoded length.
size_t cobsEncode(const uint8_t* in, size_t n, uint8_t* out);

// Decodes one frame without its delimiter into `out` (room for n bytes); −1 when it is not a valid encoding
// (a zero inside, or a block running past the end).
long cobsDecode(const uint8_t* in, size_t n, uint8_t* out);

}  // namespace opu
