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

}  // namespace opu
