// What the generated bindings (generated/bindings.h) are made of: reading a JavaScript argument, already validated
// by the TypeScript side, as a C++ value or as a typed array's data (a view, no copy), and running a kernel call on
// this thread or on the runner thread.
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "runtime/runner.h"

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

// The kernels one JavaScript environment (the main thread or a worker) called asynchronously: each runs on the
// runner thread (runtime/runner.h), and its promise is settled on the environment's thread through a thread-safe
// function, which holds the event loop open while any call is running. Created by initAsyncCalls, owned by the
// environment (its instance data).
class AsyncCalls {
 public:
  explicit AsyncCalls(Napi::Env env) : state_(std::make_shared<State>()) {
    state_->settle = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}),
                                                   "opu-native kernel", 0, 1);
    state_->settle.Unref(env);
    // Cleanup hooks run last registered first: this one, before the thread-safe function's own. It holds the state
    // itself, whatever the order in which the environment finalizes its instance data.
    napi_add_env_cleanup_hook(env, &AsyncCalls::close, new std::shared_ptr<State>(state_));
  }

  // Runs work() off this thread, keeping the objects among the arguments (the typed arrays) referenced until it has
  // ended, and returns the promise of its end.
  Napi::Promise submit(const Napi::CallbackInfo& info, std::function<void()> work) {
    Napi::Env env = info.Env();
    auto call = std::make_unique<Call>(env, std::move(work));
    for (size_t i = 0; i < info.Length(); ++i) {
      if (info[i].IsObject()) call->keep.push_back(Napi::Persistent(info[i].As<Napi::Object>()));
    }
    Napi::Promise promise = call->deferred.Promise();
    if (running_++ == 0) state_->settle.Ref(env);
    runOffThread([state = state_, call = call.release()] { state->run(call); });
    return promise;
  }

 private:
  struct Call {
    Call(Napi::Env env, std::function<void()> work) : deferred(Napi::Promise::Deferred::New(env)), work(std::move(work)) {}
    Napi::Promise::Deferred deferred;
    std::function<void()> work;
    std::vector<Napi::ObjectReference> keep;
    std::string error;
    bool failed = false;
  };

  // What the runner thread shares with the environment, which may end first (a worker terminated).
  struct State {
    Napi::ThreadSafeFunction settle;
    std::mutex mutex;
    std::condition_variable idle;
    bool open = true;
    bool working = false;

    void run(Call* call) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        // The environment has ended: its arrays are gone, and so are the references (nothing to release).
        if (!open) return;
        working = true;
      }
      try {
        call->work();
      } catch (const std::exception& e) {
        call->failed = true;
        call->error = e.what();
      }
      std::lock_guard<std::mutex> lock(mutex);
      working = false;
      if (open) settle.NonBlockingCall(call, &AsyncCalls::settled);
      idle.notify_all();
    }
  };

  // On the environment's thread: settles the promise and releases the arguments.
  static void settled(Napi::Env env, Napi::Function, Call* raw) {
    if (env == nullptr) return;  // the environment is ending: nothing to settle, references go with it
    std::unique_ptr<Call> call(raw);
    auto* self = env.GetInstanceData<AsyncCalls>();
    if (--self->running_ == 0) self->state_->settle.Unref(env);
    if (call->failed) {
      call->deferred.Reject(Napi::Error::New(env, call->error).Value());
    } else {
      call->deferred.Resolve(env.Undefined());
    }
  }

  // The environment ends: a kernel still running on its arrays is waited for, queued ones will not run.
  static void close(void* data) {
    std::unique_ptr<std::shared_ptr<State>> held(static_cast<std::shared_ptr<State>*>(data));
    State& state = **held;
    std::unique_lock<std::mutex> lock(state.mutex);
    state.open = false;
    state.idle.wait(lock, [&] { return !state.working; });
  }

  std::shared_ptr<State> state_;
  int running_ = 0;
};

inline void initAsyncCalls(Napi::Env env) { env.SetInstanceData(new AsyncCalls(env)); }

// Reads the arguments into a Call here, runs it on the runner thread, and returns the promise of its end.
template <typename Call>
Napi::Value callAsync(const Napi::CallbackInfo& info) {
  static_assert(std::is_void_v<decltype(std::declval<const Call&>()())>, "an Async kernel returns nothing");
  return info.Env().GetInstanceData<AsyncCalls>()->submit(info, [call = Call(info)] { call(); });
}

}  // namespace opu::bindings
