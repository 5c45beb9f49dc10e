// The addon's entry: the kernels (their argument unpacking is generated from the TypeScript declarations, which
// validate every argument before a kernel runs), the input/output functions, and the thread pool's settings.
#include <napi.h>

#include "generated/bindings.h"
#include "io/bindings.h"
#include "linalg/sgemm.h"
#include "runtime/calls.h"
#include "runtime/pool.h"

namespace {

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  opu::setThreads(opu::bindings::toI32(info[0]));
  return Napi::Number::New(info.Env(), opu::threads());
}

Napi::Value Threads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), opu::threads()); }

Napi::Value SimdPath(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), opu::sgemmPath()); }

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  opu::bindings::initAsyncCalls(env);
  opu::bindings::registerKernels(env, exports);
  opu::bindings::registerIo(env, exports);
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("threads", Napi::Function::New(env, Threads));
  exports.Set("simdPath", Napi::Function::New(env, SimdPath));
  return exports;
}

}  // namespace

NODE_API_MODULE(opu_native, Init)
