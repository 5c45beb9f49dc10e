#pragma once
#include <cstdint>

namespace opu {

// Entries of the medium's matrix are q/kMediumScale with q a 16-bit integer (native/src/optics/medium.ts).
constexpr int kMediumScale = 4096;

// The `kernel` argument of mediumFields (FieldKernel in native/src/optics/medium.ts).
enum FieldKernelChoice { kFieldAuto = 0, kFieldLists = 1, kFieldTables = 2, kFieldGrouped = 3, kFieldDense = 4 };

// See native/src/optics/medium.ts for the contract of both kernels; these are their C++ implementations.
void fillMediumTile(uint32_t seed, uint32_t epoch, const int32_t* pixels, int p0, int p1, const int32_t* mirrors, int q0,
                    int q1, float* re, float* im);

void mediumFields(uint32_t seed, uint32_t epoch, const int32_t* pixels, int m, const int32_t* mirrors, int n,
                  const uint8_t* packed, int frames, const float* cachedRe, const float* cachedIm, int kernel,
                  float* outRe, float* outIm);

}  // namespace opu
