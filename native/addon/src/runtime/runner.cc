#include "runtime/runner.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

#include "runtime/pool.h"
#include "runtime/spin.h"

namespace opu {
namespace {

class Runner {
 public:
  Runner() {
    // The pool is built first, so that it is destroyed after this runner, whose last job may still be using it.
    threads();
    thread_ = std::thread([this] { work(); });
  }

  ~Runner() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

  void post(std::function<void()> job) {
    bool sleeping;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      jobs_.push_back(std::move(job));
      queued_.fetch_add(1, std::memory_order_release);
      sleeping = sleeping_;
    }
    if (sleeping) wake_.notify_one();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        sleeping_ = true;
        wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        sleeping_ = false;
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
        queued_.fetch_sub(1, std::memory_order_relaxed);
      }
      job();
      spinUntil([&] { return queued_.load(std::memory_order_acquire) > 0 || stopping_.load(std::memory_order_acquire); });
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  std::atomic<int> queued_{0};
  std::atomic<bool> stopping_{false};
  bool sleeping_ = false;
  std::thread thread_;
};

}  // namespace

void runOffThread(std::function<void()> job) {
  static Runner runner;
  runner.post(std::move(job));
}

}  // namespace opu
