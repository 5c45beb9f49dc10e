// Polling for work before sleeping, shared by the pool's workers and the async runner.
#pragma once
#include <sched.h>

#include <chrono>

namespace opu {

// How long a thread polls for its next job before it sleeps.
constexpr int kSpinMicroseconds = 300;

// Polls `ready` for up to kSpinMicroseconds; true as soon as it holds. Between polls the thread yields its CPU, so that
// a thread that became runnable there (the JavaScript thread woken by a finished kernel, the garbage collector, a
// libuv thread) runs at once instead of waiting for the poller's time slice to end, while the CPU stays awake.
template <typename Ready>
bool spinUntil(const Ready& ready) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(kSpinMicroseconds);
  while (!ready()) {
    if (std::chrono::steady_clock::now() > until) return false;
    sched_yield();
  }
  return true;
}

}  // namespace opu
