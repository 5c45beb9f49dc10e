// The JavaScript face of the kernels. Arguments arrive validated by the TypeScript wrapper (native/src), which
// is the one place that checks shapes and types; this file only unwraps typed-array views, without copies.
#include <napi.h>

#include "camera.h"
#include "medium.h"
#include "pool.h"
#include "sgemm.h"

namespace {

template <typename T>
T* data(const Napi::Value& v) {
  auto array = v.As<Napi::TypedArray>();
  auto* base = static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
  return reinterpret_cast<T*>(base);
}

Napi::Value Sgemm(const Napi::CallbackInfo& info) {
  opu::sgemm(info[0].As<Napi::Boolean>(), info[1].As<Napi::Boolean>(), info[2].As<Napi::Number>().Int32Value(),
             info[3].As<Napi::Number>().Int32Value(), info[4].As<Napi::Number>().Int32Value(),
             info[5].As<Napi::Number>().FloatValue(), data<float>(info[6]), info[7].As<Napi::Number>().Int32Value(),
             data<float>(info[8]), info[9].As<Napi::Number>().Int32Value(), info[10].As<Napi::Number>().FloatValue(),
             data<float>(info[11]), info[12].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

uint32_t u32(const Napi::Value& v) { return v.As<Napi::Number>().Uint32Value(); }
int i32(const Napi::Value& v) { return v.As<Napi::Number>().Int32Value(); }
size_t length(const Napi::Value& v) { return v.As<Napi::TypedArray>().ElementLength(); }

Napi::Value FillMediumTile(const Napi::CallbackInfo& info) {
  opu::fillMediumTile(u32(info[0]), u32(info[1]), data<int32_t>(info[2]), i32(info[3]), i32(info[4]),
                      data<int32_t>(info[5]), i32(info[6]), i32(info[7]), data<float>(info[8]), data<float>(info[9]));
  return info.Env().Undefined();
}

Napi::Value MediumFields(const Napi::CallbackInfo& info) {
  const bool cached = length(info[6]) > 0;
  const bool fused = length(info[10]) == 0;
  opu::mediumFields(u32(info[0]), u32(info[1]), data<int32_t>(info[2]), static_cast<int>(length(info[2])),
                    data<int32_t>(info[3]), static_cast<int>(length(info[3])), data<uint8_t>(info[4]), i32(info[5]),
                    cached ? data<float>(info[6]) : nullptr, cached ? data<float>(info[7]) : nullptr, i32(info[8]),
                    data<float>(info[9]), fused ? nullptr : data<float>(info[10]));
  return info.Env().Undefined();
}

double f64(const Napi::Value& v) { return v.As<Napi::Number>().DoubleValue(); }

// cameraExpose(model, intensity, frames, pixels, pixelResponse, firstFrameIndex, powerFactors, out, saturated)
Napi::Value CameraExpose(const Napi::CallbackInfo& info) {
  const auto model = info[0].As<Napi::Object>();
  const opu::CameraModel camera{u32(model.Get("seed")),           f64(model.Get("electronsPerIntensity")),
                                f64(model.Get("darkElectrons")),  f64(model.Get("fullWellE")),
                                f64(model.Get("readNoiseE")),     f64(model.Get("aduPerElectron")),
                                f64(model.Get("biasAdu")),        f64(model.Get("maxAdu")),
                                model.Get("shotNoise").ToBoolean().Value()};
  const auto out = info[7].As<Napi::TypedArray>();
  const int bytes = out.TypedArrayType() == napi_uint8_array ? 1 : 2;
  opu::cameraExpose(camera, data<float>(info[1]), i32(info[2]), data<int32_t>(info[3]), static_cast<int>(length(info[3])),
                    data<double>(info[4]), u32(info[5]), data<double>(info[6]), data<uint8_t>(info[7]), bytes,
                    data<uint32_t>(info[8]));
  return info.Env().Undefined();
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  opu::setThreads(info[0].As<Napi::Number>().Int32Value());
  return Napi::Number::New(info.Env(), opu::threads());
}

Napi::Value Threads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), opu::threads()); }

Napi::Value SimdPath(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), opu::sgemmPath()); }

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("sgemm", Napi::Function::New(env, Sgemm));
  exports.Set("fillMediumTile", Napi::Function::New(env, FillMediumTile));
  exports.Set("mediumFields", Napi::Function::New(env, MediumFields));
  exports.Set("cameraExpose", Napi::Function::New(env, CameraExpose));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("threads", Napi::Function::New(env, Threads));
  exports.Set("simdPath", Napi::Function::New(env, SimdPath));
  return exports;
}

}  // namespace

NODE_API_MODULE(opu_native, Init)
