// What the generated bindings (generated/bindings.h) are made of: reading a JavaScript argument, already validated
// by the TypeScript side, as a C++ value or as a typed array's data (a view, no copy), and running a kernel call on
// this thread or on a libuv worker.
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <type_traits>
#include <utility>
#include <vector>

namespace opu::bindings {

inline bool toBool(const Napi::Value& v) { return v.ToBoolean().Value(); }
inline int toI32(const Napi::Value& v) { return v.As<Napi::Number>().Int32Value(); }
inline uint32_t toU32(const Napi::Value& v) { return v.As<Napi::Number>().Uint32Value(); }
inline float toF32(const Napi::Value& v) { return v.As<Napi::Number>().FloatValue(); }
inline double toF64(const Napi::Value& v) { return v.As<Napi::Number>().DoubleValue(); }

template <typename T>
T* data(const Napi::Value& v) {
  auto array = v.As<Napi::TypedArray>();
  auto* base = static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
  return reinterpret_cast<T*>(base);
}

inline size_t length(const Napi::Value& v) { return v.As<Napi::TypedArray>().ElementLength(); }
inline int elementSize(const Napi::Value& v) { return static_cast<int>(v.As<Napi::TypedArray>().ElementSize()); }

inline Napi::Value toJs(Napi::Env env, bool value) { return Napi::Boolean::New(env, value); }

// Reads the arguments into a Call and runs it here; its result, if any, goes back to JavaScript.
template <typename Call>
Napi::Value callSync(const Napi::CallbackInfo& info) {
  const Call call(info);
  if constexpr (std::is_void_v<decltype(call())>) {
    call();
    return info.Env().Undefined();
  } else {
    return toJs(info.Env(), call());
  }
}

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

// Reads the arguments into a Call here, runs it on a worker, and returns the promise of its end.
template <typename Call>
Napi::Value callAsync(const Napi::CallbackInfo& info) {
  static_assert(std::is_void_v<decltype(std::declval<const Call&>()())>, "an Async kernel returns nothing");
  auto* worker = new KernelWorker(info.Env(), info, [call = Call(info)] { call(); });
  auto promise = worker->promise();
  worker->Queue();
  return promise;
}

}  // namespace opu::bindings
