// The camera model in C++, frames in parallel: noise is keyed by (frame index, pixel), so the order of work does
// not matter and the result equals the TypeScript kernel's bit for bit.
#include "camera.h"

#include <algorithm>
#include <cmath>

#include "pool.h"
#include "random.h"

namespace opu {
namespace {

constexpr double kPoissonNormalAbove = 64;

double poisson(double lambda, const uint32_t w[4]) {
  if (lambda >= kPoissonNormalAbove) {
    return std::max(0.0, std::floor(lambda + std::sqrt(lambda) * standardNormal(w[0], w[1]) + 0.5));
  }
  const double u = uniform01(w[0]);
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

}  // namespace

void cameraExpose(const CameraModel& model, const float* intensity, int frames, const int32_t* pixels, int m,
                  const double* pixelResponse, uint32_t firstFrameIndex, const double* powerFactors, void* out,
                  int bytesPerPixel, uint32_t* saturated) {
  parallelFor(frames, [&](int f) {
    const uint32_t frameIndex = firstFrameIndex + static_cast<uint32_t>(f);
    const double scale = model.electronsPerIntensity * powerFactors[f];
    uint32_t clipped = 0;
    uint32_t w[4];
    for (int i = 0; i < m; ++i) {
      const long at = static_cast<long>(f) * m + i;
      const double lambda = static_cast<double>(intensity[at]) * scale * pixelResponse[i] + model.darkElectrons;
      philox4x32(frameIndex, static_cast<uint32_t>(pixels[i]), 0, 0, model.seed, kCameraNoise, w);
      double electrons = model.shotNoise ? poisson(lambda, w) : lambda;
      bool full = false;
      if (electrons >= model.fullWellE) {
        electrons = model.fullWellE;
        full = true;
      }
      if (model.readNoiseE > 0) electrons += model.readNoiseE * standardNormal(w[2], w[3]);
      double adu = std::floor(electrons * model.aduPerElectron + model.biasAdu + 0.5);
      if (adu >= model.maxAdu) {
        adu = model.maxAdu;
        full = true;
      } else if (adu < 0) {
        adu = 0;
      }
      clipped += full;
      if (bytesPerPixel == 1) static_cast<uint8_t*>(out)[at] = static_cast<uint8_t>(adu);
      else static_cast<uint16_t*>(out)[at] = static_cast<uint16_t>(adu);
    }
    saturated[f] = clipped;
  });
}

}  // namespace opu
