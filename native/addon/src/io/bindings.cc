#include "io/bindings.h"

#include <cerrno>
#include <cstring>
#include <string>

#include "io/cobs.h"
#include "io/pty.h"
#include "runtime/calls.h"

namespace opu::bindings {
namespace {

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
  auto* worker = new FdWriteWorker(info.Env(), toI32(info[0]), info[1].As<Napi::Uint8Array>(), toI32(info[2]));
  auto promise = worker->promise();
  worker->Queue();
  return promise;
}

// cobsEncodeInto(src, dst, at) → end offset; dst has room (the TypeScript caller sizes it).
Napi::Value CobsEncodeInto(const Napi::CallbackInfo& info) {
  auto src = info[0].As<Napi::Uint8Array>();
  auto dst = info[1].As<Napi::Uint8Array>();
  const size_t at = static_cast<size_t>(toI32(info[2]));
  const size_t end = at + opu::cobsEncode(src.Data(), src.ByteLength(), dst.Data() + at);
  return Napi::Number::New(info.Env(), static_cast<double>(end));
}

// cobsDecodeInto(src, dst) → decoded length, or −1 for an invalid encoding.
Napi::Value CobsDecodeInto(const Napi::CallbackInfo& info) {
  auto src = info[0].As<Napi::Uint8Array>();
  auto dst = info[1].As<Napi::Uint8Array>();
  return Napi::Number::New(info.Env(), static_cast<double>(opu::cobsDecode(src.Data(), src.ByteLength(), dst.Data())));
}

}  // namespace

void registerIo(Napi::Env env, Napi::Object exports) {
  exports.Set("openPty", Napi::Function::New(env, OpenPty));
  exports.Set("writeWaiting", Napi::Function::New(env, WriteWaiting));
  exports.Set("cobsEncodeInto", Napi::Function::New(env, CobsEncodeInto));
  exports.Set("cobsDecodeInto", Napi::Function::New(env, CobsDecodeInto));
}

}  // namespace opu::bindings
