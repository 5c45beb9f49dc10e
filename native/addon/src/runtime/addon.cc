// The JavaScript face of the kernels. Arguments arrive validated by the TypeScript wrapper (native/src), which
// is the one place that checks shapes and types; this file only unwraps typed-array views, without copies.
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <vector>

#include "io/cobs.h"
#include "io/pty.h"
#include "linalg/sgemm.h"
#include "optics/camera.h"
#include "optics/medium.h"
#include "runtime/pool.h"
#include "training/elementwise.h"

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

// Runs a kernel on a libuv worker thread (which then uses the pool) and resolves a promise: the JavaScript thread
// stays free. The typed arrays are referenced until the work is done, so they cannot be collected meanwhile.
class KernelWorker : public Napi::AsyncWorker {
 public:
  KernelWorker(Napi::Env env, const Napi::CallbackInfo& info, std::function<void()> work)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), work_(std::move(work)) {
    for (size_t i = 0; i < info.Length(); ++i) {
      if (info[i].IsObject()) keep_.push_back(Napi::Persistent(info[i].As<Napi::Object>()));
    }
  }
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override { work_(); }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::function<void()> work_;
  std::vector<Napi::ObjectReference> keep_;
};

template <typename Bind>
Napi::Value Async(const Napi::CallbackInfo& info, Bind bind) {
  auto* worker = new KernelWorker(info.Env(), info, bind(info));
  auto promise = worker->promise();
  worker->Queue();
  return promise;
}

std::function<void()> BindSgemm(const Napi::CallbackInfo& info) {
  const bool ta = info[0].As<Napi::Boolean>(), tb = info[1].As<Napi::Boolean>();
  const int m = i32(info[2]), n = i32(info[3]), k = i32(info[4]), lda = i32(info[7]), ldb = i32(info[9]), ldc = i32(info[12]);
  const float alpha = info[5].As<Napi::Number>().FloatValue(), beta = info[10].As<Napi::Number>().FloatValue();
  const float* A = data<float>(info[6]);
  const float* B = data<float>(info[8]);
  float* C = data<float>(info[11]);
  return [=] { opu::sgemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc); };
}

std::function<void()> BindMediumFields(const Napi::CallbackInfo& info) {
  const bool cached = length(info[6]) > 0;
  const bool fused = length(info[10]) == 0;
  const uint32_t seed = u32(info[0]), epoch = u32(info[1]);
  const int32_t* pixels = data<int32_t>(info[2]);
  const int m = static_cast<int>(length(info[2]));
  const int32_t* mirrors = data<int32_t>(info[3]);
  const int n = static_cast<int>(length(info[3]));
  const uint8_t* packed = data<uint8_t>(info[4]);
  const int frames = i32(info[5]), kernel = i32(info[8]);
  const float* cRe = cached ? data<float>(info[6]) : nullptr;
  const float* cIm = cached ? data<float>(info[7]) : nullptr;
  float* outRe = data<float>(info[9]);
  float* outIm = fused ? nullptr : data<float>(info[10]);
  return [=] { opu::mediumFields(seed, epoch, pixels, m, mirrors, n, packed, frames, cRe, cIm, kernel, outRe, outIm); };
}

opu::CameraModel cameraModel(const Napi::Value& value) {
  const auto model = value.As<Napi::Object>();
  return opu::CameraModel{u32(model.Get("seed")),          f64(model.Get("electronsPerIntensity")),
                          f64(model.Get("darkElectrons")), f64(model.Get("fullWellE")),
                          f64(model.Get("readNoiseE")),    f64(model.Get("aduPerElectron")),
                          f64(model.Get("biasAdu")),       f64(model.Get("maxAdu")),
                          model.Get("shotNoise").ToBoolean().Value()};
}

std::function<void()> BindCameraExpose(const Napi::CallbackInfo& info) {
  const opu::CameraModel camera = cameraModel(info[0]);
  const int bytes = info[7].As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array ? 1 : 2;
  const float* intensity = data<float>(info[1]);
  const int frames = i32(info[2]);
  const int32_t* pixels = data<int32_t>(info[3]);
  const int m = static_cast<int>(length(info[3]));
  const double* response = data<double>(info[4]);
  const uint32_t first = u32(info[5]);
  const double* power = data<double>(info[6]);
  uint8_t* out = data<uint8_t>(info[7]);
  uint32_t* saturated = data<uint32_t>(info[8]);
  return [=] { opu::cameraExpose(camera, intensity, frames, pixels, m, response, first, power, out, bytes, saturated); };
}

Napi::Value CameraExpose(const Napi::CallbackInfo& info) {
  BindCameraExpose(info)();
  return info.Env().Undefined();
}

long elements(const Napi::Value& v) { return static_cast<long>(length(v)); }
float f32(const Napi::Value& v) { return v.As<Napi::Number>().FloatValue(); }

Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  opu::sgdStep(data<float>(info[0]), data<float>(info[1]), data<float>(info[2]), elements(info[0]), f32(info[3]),
               f32(info[4]), f32(info[5]));
  return info.Env().Undefined();
}

Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  opu::adamStep(data<float>(info[0]), data<float>(info[1]), data<float>(info[2]), data<float>(info[3]), elements(info[0]),
                f32(info[4]), f32(info[5]), f32(info[6]), f32(info[7]), f32(info[8]), f32(info[9]), f32(info[10]));
  return info.Env().Undefined();
}

// activate(kind, slope, a, h)
Napi::Value Activate(const Napi::CallbackInfo& info) {
  opu::activate(static_cast<opu::Activation>(i32(info[0])), f32(info[1]), data<float>(info[2]), data<float>(info[3]),
                elements(info[2]));
  return info.Env().Undefined();
}

// activationGradient(kind, slope, g, gStride, factor, a, h, out, rows, width)
Napi::Value ActivationGradient(const Napi::CallbackInfo& info) {
  opu::activationGradient(static_cast<opu::Activation>(i32(info[0])), f32(info[1]), data<float>(info[2]), i32(info[3]),
                          f32(info[4]), data<float>(info[5]), data<float>(info[6]), data<float>(info[7]), i32(info[8]),
                          i32(info[9]));
  return info.Env().Undefined();
}

// columnSums(x, rows, cols, out)
Napi::Value ColumnSums(const Napi::CallbackInfo& info) {
  opu::columnSums(data<float>(info[0]), i32(info[1]), i32(info[2]), data<float>(info[3]));
  return info.Env().Undefined();
}

// openPty() → { fd, slaveFd, path } or throws with the system's reason.
Napi::Value OpenPty(const Napi::CallbackInfo& info) {
  const opu::PtyResult pty = opu::openPty();
  if (pty.masterFd < 0) throw Napi::Error::New(info.Env(), pty.error);
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("fd", Napi::Number::New(info.Env(), pty.masterFd));
  result.Set("slaveFd", Napi::Number::New(info.Env(), pty.slaveFd));
  result.Set("path", Napi::String::New(info.Env(), pty.slavePath));
  return result;
}

// writeWaiting(fd, bytes, waitMs) → Promise<bytes written>: on a libuv worker thread, so that the event loop keeps
// reading while the descriptor's buffer is full (the reader that drains it may be on this very loop).
class FdWriteWorker : public Napi::AsyncWorker {
 public:
  FdWriteWorker(Napi::Env env, int fd, Napi::Uint8Array bytes, int waitMs)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        keep_(Napi::Persistent(bytes)),
        fd_(fd),
        bytes_(bytes.Data()),
        length_(bytes.ByteLength()),
        waitMs_(waitMs) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    result_ = opu::writeWaiting(fd_, bytes_, length_, waitMs_);
    if (result_.error != 0) SetError(std::string("write: ") + std::strerror(result_.error));
  }
  void OnOK() override { deferred_.Resolve(Napi::Number::New(Env(), static_cast<double>(result_.written))); }
  void OnError(const Napi::Error& error) override {
    error.Set("code", Napi::String::New(Env(), result_.error == EIO ? "EIO" : "EWRITE"));
    deferred_.Reject(error.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::Reference<Napi::Uint8Array> keep_;
  int fd_;
  const unsigned char* bytes_;
  size_t length_;
  int waitMs_;
  opu::WriteResult result_{0, 0};
};

Napi::Value WriteWaiting(const Napi::CallbackInfo& info) {
  auto* worker =
      new FdWriteWorker(info.Env(), i32(info[0]), info[1].As<Napi::Uint8Array>(), i32(info[2]));
  auto promise = worker->promise();
  worker->Queue();
  return promise;
}

// cobsEncodeInto(src, dst, at) → end offset; dst has room (the TypeScript caller sizes it).
Napi::Value CobsEncodeInto(const Napi::CallbackInfo& info) {
  auto src = info[0].As<Napi::Uint8Array>();
  auto dst = info[1].As<Napi::Uint8Array>();
  const size_t at = static_cast<size_t>(i32(info[2]));
  const size_t end = at + opu::cobsEncode(src.Data(), src.ByteLength(), dst.Data() + at);
  return Napi::Number::New(info.Env(), static_cast<double>(end));
}

// cobsDecodeInto(src, dst) → decoded length, or −1 for an invalid encoding.
Napi::Value CobsDecodeInto(const Napi::CallbackInfo& info) {
  auto src = info[0].As<Napi::Uint8Array>();
  auto dst = info[1].As<Napi::Uint8Array>();
  return Napi::Number::New(info.Env(), static_cast<double>(opu::cobsDecode(src.Data(), src.ByteLength(), dst.Data())));
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
  exports.Set("sgemmAsync", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return Async(i, BindSgemm); }));
  exports.Set("mediumFieldsAsync",
              Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return Async(i, BindMediumFields); }));
  exports.Set("cameraExposeAsync",
              Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return Async(i, BindCameraExpose); }));
  exports.Set("sgdStep", Napi::Function::New(env, SgdStep));
  exports.Set("adamStep", Napi::Function::New(env, AdamStep));
  exports.Set("activate", Napi::Function::New(env, Activate));
  exports.Set("activationGradient", Napi::Function::New(env, ActivationGradient));
  exports.Set("columnSums", Napi::Function::New(env, ColumnSums));
  exports.Set("openPty", Napi::Function::New(env, OpenPty));
  exports.Set("writeWaiting", Napi::Function::New(env, WriteWaiting));
  exports.Set("cobsEncodeInto", Napi::Function::New(env, CobsEncodeInto));
  exports.Set("cobsDecodeInto", Napi::Function::New(env, CobsDecodeInto));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("threads", Napi::Function::New(env, Threads));
  exports.Set("simdPath", Napi::Function::New(env, SimdPath));
  return exports;
}

}  // namespace

NODE_API_MODULE(opu_native, Init)
