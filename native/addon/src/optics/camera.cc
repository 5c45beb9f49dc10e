// The camera model in C++, frames in parallel: noise is keyed by (frame index, pixel), so the order of work does
// not matter and the result equals the TypeScript kernel's bit for bit.
//
// Speed: a pixel costs a Philox block, two logarithms and two sine/cosine series. The pixels of a frame go through a
// branch-free loop that the compiler vectorizes, assuming the normal approximation of the Poisson law; the few
// pixels with a smaller mean (dark ones) are then redone one by one with the exact inversion.
#include "optics/camera.h"

#include <algorithm>
#include <cmath>

#include "optics/random.h"
#include "runtime/pool.h"
#include "runtime/simd.h"

namespace opu {
namespace {

constexpr double kPoissonNormalAbove = 64;
constexpr int kBlock = 256;

double poissonInversion(double lambda, uint32_t w0) {
  const double u = uniform01(w0);
  double p = expNegative(lambda);
  double cdf = p;
  double k = 0;
  while (u > cdf && p > 0) {
    k += 1;
    p *= lambda / k;
    cdf += p;
  }
  return k;
}

// Full well, read noise (given its standard normal draw), gain, bias and the ADC of one pixel, given its
// photo-electrons; `full` is set when the pixel clipped.
inline double toAdu(const CameraModel& model, double electrons, double readNormal, bool& full) {
  const bool wellFull = electrons >= model.fullWellE;
  electrons = wellFull ? model.fullWellE : electrons;
  // Added even when readNoiseE is 0 (electrons + 0 is electrons, since they are never −0): no branch in the loop.
  electrons += model.readNoiseE * readNormal;
  double adu = std::floor(electrons * model.aduPerElectron + model.biasAdu + 0.5);
  const bool adcFull = adu >= model.maxAdu;
  adu = adcFull ? model.maxAdu : adu;
  full = wellFull | adcFull;
  return adu < 0 ? 0 : adu;
}

// Pixels [i0, i0 + n) of one frame, every one as if its mean were at least kPoissonNormalAbove. Three simple
// loops rather than one: the compiler duplicates paths through one large body and then cannot vectorize it.
OPU_VECTOR_CLONES void exposeBlock(
    const CameraModel& model, const float* __restrict intensity, const int32_t* __restrict pixels,
    const double* __restrict response, int n, uint32_t frameIndex, double scale, double* __restrict lambdaOut,
    double* __restrict aduOut, double* __restrict fullOut) {
  const CameraModel local = model;  // not aliased by the outputs
  uint32_t w0[kBlock], w1[kBlock], w2[kBlock], w3[kBlock];
  for (int i = 0; i < n; ++i) {
    uint32_t w[4];
    philox4x32(frameIndex, static_cast<uint32_t>(pixels[i]), 0, 0, local.seed, kCameraNoise, w);
    w0[i] = w[0];
    w1[i] = w[1];
    w2[i] = w[2];
    w3[i] = w[3];
  }
  double shotNormal[kBlock], readNormal[kBlock];
  for (int i = 0; i < n; ++i) shotNormal[i] = standardNormal(w0[i], w1[i]);
  for (int i = 0; i < n; ++i) readNormal[i] = standardNormal(w2[i], w3[i]);
  for (int i = 0; i < n; ++i) {
    lambdaOut[i] = static_cast<double>(intensity[i]) * scale * response[i] + local.darkElectrons;
  }
  double electrons[kBlock];
  if (local.shotNoise) {
    for (int i = 0; i < n; ++i) {
      electrons[i] = std::max(0.0, std::floor(lambdaOut[i] + std::sqrt(lambdaOut[i]) * shotNormal[i] + 0.5));
    }
  } else {
    for (int i = 0; i < n; ++i) electrons[i] = lambdaOut[i];
  }
  for (int i = 0; i < n; ++i) {
    bool full;
    aduOut[i] = toAdu(local, electrons[i], readNormal[i], full);
    fullOut[i] = full ? 1.0 : 0.0;  // a double, not a byte: mixed element widths stop the vectorizer
  }
}

}  // namespace

void cameraExpose(const CameraModel& model, const float* intensity, int frames, const int32_t* pixels, int m,
                  const double* pixelResponse, uint32_t firstFrameIndex, const double* powerFactors, void* out,
                  int bytesPerPixel, uint32_t* saturated) {
  parallelFor(frames, [&](int f) {
    const uint32_t frameIndex = firstFrameIndex + static_cast<uint32_t>(f);
    const double scale = model.electronsPerIntensity * powerFactors[f];
    uint32_t clipped = 0;
    double lambda[kBlock], adu[kBlock], full[kBlock];
    for (int i0 = 0; i0 < m; i0 += kBlock) {
      const int n = std::min(kBlock, m - i0);
      const long at = static_cast<long>(f) * m + i0;
      exposeBlock(model, intensity + at, pixels + i0, pixelResponse + i0, n, frameIndex, scale, lambda, adu, full);
      for (int i = 0; i < n; ++i) {
        if (model.shotNoise && lambda[i] < kPoissonNormalAbove) {
          uint32_t w[4];
          philox4x32(frameIndex, static_cast<uint32_t>(pixels[i0 + i]), 0, 0, model.seed, kCameraNoise, w);
          bool clippedHere;
          adu[i] = toAdu(model, poissonInversion(lambda[i], w[0]), standardNormal(w[2], w[3]), clippedHere);
          full[i] = clippedHere ? 1.0 : 0.0;
        }
        clipped += full[i] != 0.0;
        if (bytesPerPixel == 1) static_cast<uint8_t*>(out)[at + i] = static_cast<uint8_t>(adu[i]);
        else static_cast<uint16_t*>(out)[at + i] = static_cast<uint16_t>(adu[i]);
      }
    }
    saturated[f] = clipped;
  });
}

}  // namespace opu
