// The thread that runs the kernels called asynchronously (the Async exports), in place of libuv's thread pool.
#pragma once
#include <functional>

namespace opu {

// Queues a job for the runner thread, which runs jobs one at a time, in the order queued, and calls parallelFor like
// any caller. After a job it polls for the next one for a while before it sleeps: an acquisition calls kernels back
// to back (the medium, then the camera, then the next batch), and waking a sleeping thread costs tens to hundreds of
// microseconds (a virtual CPU that halted must be scheduled again), more than a kernel of a small batch.
void runOffThread(std::function<void()> job);

}  // namespace opu
