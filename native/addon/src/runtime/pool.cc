#include "runtime/pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/spin.h"

namespace opu {
namespace {

// Set on pool workers and on a caller while it runs tasks: a kernel that calls parallelFor from inside a task runs
// its tasks inline instead of waiting for a pool that is busy with its own caller.
thread_local bool inTask = false;

class Pool {
 public:
  Pool() { resize(defaultThreads()); }
  ~Pool() { stop(); }

  static int defaultThreads() {
    if (const char* env = std::getenv("OPU_NATIVE_THREADS")) {
      int n = std::atoi(env);
      if (n > 0) return n;
    }
    return std::max(1u, std::thread::hardware_concurrency());
  }

  void resize(int threads) {
    std::lock_guard<std::mutex> run(runMutex_);
    stop();
    threads_ = std::max(1, threads);
    stopping_ = false;
    for (int i = 1; i < threads_; ++i) workers_.emplace_back([this] { work(); });
  }

  int size() const { return threads_; }

  void run(int tasks, const std::function<void(int)>& fn) {
    if (tasks <= 0) return;
    if (inTask) {
      for (int t = 0; t < tasks; ++t) fn(t);
      return;
    }
    std::lock_guard<std::mutex> run(runMutex_);
    if (threads_ == 1 || tasks == 1) {
      inTask = true;
      for (int t = 0; t < tasks; ++t) fn(t);
      inTask = false;
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = &fn;
      tasks_ = tasks;
      next_.store(0);
      done_ = 0;
      ++generation_;
    }
    wake_.notify_all();
    const int finished = drain(fn, tasks);
    std::unique_lock<std::mutex> lock(mutex_);
    done_ += finished;
    // Every worker that took this job must have left it too: a worker still holding the job would otherwise claim
    // task numbers of the next job from the shared counter and run them with this job's (destroyed) function.
    finished_.wait(lock, [&] { return done_ == tasks && active_ == 0; });
    job_ = nullptr;
  }

 private:
  int drain(const std::function<void(int)>& fn, int tasks) {
    int finished = 0;
    inTask = true;
    for (int t = next_.fetch_add(1); t < tasks; t = next_.fetch_add(1)) {
      fn(t);
      ++finished;
    }
    inTask = false;
    return finished;
  }

  void work() {
    unsigned long seen = 0;
    for (;;) {
      const std::function<void(int)>* job;
      int tasks;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || (generation_ != seen && job_ != nullptr); });
        if (stopping_) return;
        seen = generation_;
        job = job_;
        tasks = tasks_;
        ++active_;
      }
      const int finished = drain(*job, tasks);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        done_ += finished;
        --active_;
      }
      finished_.notify_all();
      spinForNextJob(seen);
    }
  }

  // Training calls kernels of a fraction of a millisecond back to back; waking a sleeping thread costs tens of
  // microseconds each time. So a worker polls for the next job for a short while before it sleeps.
  void spinForNextJob(unsigned long seen) const {
    spinUntil([&] {
      return generation_.load(std::memory_order_acquire) != seen || stopping_.load(std::memory_order_acquire);
    });
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
  }

  std::mutex runMutex_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable finished_;
  std::vector<std::thread> workers_;
  const std::function<void(int)>* job_ = nullptr;
  int tasks_ = 0;
  int done_ = 0;
  int active_ = 0;
  std::atomic<int> next_{0};
  std::atomic<unsigned long> generation_{0};
  std::atomic<bool> stopping_{false};
  int threads_ = 1;
};

Pool& pool() {
  static Pool instance;
  return instance;
}

}  // namespace

void setThreads(int threads) { pool().resize(threads > 0 ? threads : Pool::defaultThreads()); }
int threads() { return pool().size(); }
void parallelFor(int tasks, const std::function<void(int)>& fn) { pool().run(tasks, fn); }

}  // namespace opu
