#pragma once
#include <cstdint>

namespace opu {

struct CameraModel {
  uint32_t seed;
  double electronsPerIntensity, darkElectrons, fullWellE, readNoiseE, aduPerElectron, biasAdu, maxAdu;
  bool shotNoise;
};

// See native/src/optics/camera.ts: the same model, the same bits. `out` is uint8 when bytesPerPixel is 1, else uint16.
void cameraExpose(const CameraModel& model, const float* intensity, int frames, const int32_t* pixels, int m,
                  const double* pixelResponse, uint32_t firstFrameIndex, const double* powerFactors, void* out,
                  int bytesPerPixel, uint32_t* saturated);

}  // namespace opu
