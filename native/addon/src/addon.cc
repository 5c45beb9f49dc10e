// The JavaScript face of the kernels. Arguments arrive validated by the TypeScript wrapper (native/src), which
// is the one place that checks shapes and types; this file only unwraps typed-array views, without copies.
#include <napi.h>

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

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  opu::setThreads(info[0].As<Napi::Number>().Int32Value());
  return Napi::Number::New(info.Env(), opu::threads());
}

Napi::Value Threads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), opu::threads()); }

Napi::Value SimdPath(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), opu::sgemmPath()); }

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("sgemm", Napi::Function::New(env, Sgemm));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("threads", Napi::Function::New(env, Threads));
  exports.Set("simdPath", Napi::Function::New(env, SimdPath));
  return exports;
}

}  // namespace

NODE_API_MODULE(opu_native, Init)
