// The addon's input/output functions for JavaScript: the pseudo-terminal, the waiting write, COBS. They are not
// kernels (no TypeScript twin, not in the kernel declarations), so they are bound by hand.
#pragma once
#include <napi.h>

namespace opu::bindings {

// openPty, writeWaiting, cobsEncodeInto, cobsDecodeInto.
void registerIo(Napi::Env env, Napi::Object exports);

}  // namespace opu::bindings
