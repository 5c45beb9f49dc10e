// COBS for the serial protocol's large frames: the same encoding as opu-driver's TypeScript (its reference and
// fallback), run by run with memchr and memcpy.
#include "io/cobs.h"

#include <cstring>

namespace opu {

size_t cobsEncode(const uint8_t* in, size_t n, uint8_t* out) {
  size_t codeAt = 0;
  size_t o = 1;
  size_t i = 0;
  for (;;) {
    const size_t limit = n - i < 254 ? n - i : 254;
    const void* zero = limit ? std::memchr(in + i, 0, limit) : nullptr;
    const size_t run = zero ? static_cast<size_t>(static_cast<const uint8_t*>(zero) - (in + i)) : limit;
    std::memcpy(out + o, in + i, run);
    o += run;
    i += run;
    if (run == 254) {
      // A full block: no implied zero, even when a zero comes next (it starts the next block).
      out[codeAt] = 0xff;
      codeAt = o++;
    } else if (zero) {
      out[codeAt] = static_cast<uint8_t>(run + 1);
      codeAt = o++;
      i++;
    } else {
      out[codeAt] = static_cast<uint8_t>(run + 1);
      return o;
    }
  }
}

long cobsDecode(const uint8_t* in, size_t n, uint8_t* out) {
  if (n && std::memchr(in, 0, n)) return -1;
  size_t o = 0;
  size_t i = 0;
  while (i < n) {
    const size_t code = in[i];
    if (i + code > n) return -1;
    std::memcpy(out + o, in + i + 1, code - 1);
    o += code - 1;
    i += code;
    // A block shorter than 255 ends with an implied zero, except the last one.
    if (code != 0xff && i < n) out[o++] = 0;
  }
  return static_cast<long>(o);
}

}  // namespace opu
