#pragma once
#include <string>

namespace opu {

struct PtyResult {
  int masterFd;  // −1 on failure
  std::string slavePath;
  std::string error;
};

// Opens a pseudo-terminal pair in raw mode and returns the master's file descriptor and the slave's path.
PtyResult openPty();

}  // namespace opu
