// A small persistent thread pool shared by every kernel of the addon, so that the trainer and the simulator
// calling in at once never run more threads than the pool has.
#pragma once
#include <functional>

namespace opu {

// Sets the number of threads kernels use (the calling thread included); 0 means the available cores.
void setThreads(int threads);
int threads();

// Runs fn(task) for every task in [0, tasks) on the pool and the calling thread; returns when all are done.
// Calls from several threads are serialized.
void parallelFor(int tasks, const std::function<void(int)>& fn);

}  // namespace opu
