#pragma once
#include <string>

namespace opu {

struct PtyResult {
  int masterFd;  // −1 on failure
  int slaveFd;   // held open so that the master reads no EIO before a host connects
  std::string slavePath;
  std::string error;
};

// Opens a pseudo-terminal pair in raw mode: the master's descriptor, a held descriptor on the slave, its path.
PtyResult openPty();

struct WriteResult {
  long written;  // bytes written before returning
  int error;     // errno of a failed write, 0 otherwise
};

// Writes to a non-blocking descriptor, waiting in poll() while its buffer is full, until every byte is written or
// `waitMs` has passed without room (the caller then decides whether to go on). Blocks the calling thread.
WriteResult writeWaiting(int fd, const unsigned char* bytes, size_t length, int waitMs);

}  // namespace opu
