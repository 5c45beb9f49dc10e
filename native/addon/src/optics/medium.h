#pragma once
#include <cstdint>

namespace opu {

// See native/src/optics/medium.ts for the contract of both kernels; these are their C++ implementations.
void fillMediumTile(uint32_t seed, uint32_t epoch, const int32_t* pixels, int p0, int p1, const int32_t* mirrors, int q0,
                    int q1, float* re, float* im);

// The same with columns `colStride` floats apart.
void fillMediumTileStrided(uint32_t seed, uint32_t epoch, const int32_t* pixels, int p0, int p1, const int32_t* mirrors,
                           int q0, int q1, float* re, float* im, long colStride);

void mediumFields(uint32_t seed, uint32_t epoch, const int32_t* pixels, int m, const int32_t* mirrors, int n,
                  const uint8_t* packed, int frames, const float* cachedRe, const float* cachedIm, int kernel,
                  float* outRe, float* outIm);

}  // namespace opu
