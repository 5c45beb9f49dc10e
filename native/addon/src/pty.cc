// A pseudo-terminal pair for the device emulator: the emulator keeps the master side, and the driver opens the
// slave path as it would /dev/ttyACM0. Raw mode on both sides, so every byte passes unchanged (no echo, no line
// discipline, no CR/LF translation). POSIX only.
#include "pty.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>
#endif

namespace opu {

PtyResult openPty() {
#if defined(__unix__) || defined(__APPLE__)
  const int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0) return {-1, "", std::string("posix_openpt: ") + std::strerror(errno)};
  if (grantpt(master) != 0 || unlockpt(master) != 0) {
    const std::string error = std::strerror(errno);
    close(master);
    return {-1, "", "grantpt/unlockpt: " + error};
  }
  const char* name = ptsname(master);
  if (!name) {
    close(master);
    return {-1, "", "ptsname failed"};
  }
  termios tio{};
  if (tcgetattr(master, &tio) == 0) {
    cfmakeraw(&tio);
    tcsetattr(master, TCSANOW, &tio);
  }
  // The slave's settings belong to whoever opens it (serialport sets raw mode itself); make it raw meanwhile so that
  // a plain open() of the path also sees bytes unchanged.
  const int slave = open(name, O_RDWR | O_NOCTTY);
  if (slave >= 0) {
    if (tcgetattr(slave, &tio) == 0) {
      cfmakeraw(&tio);
      tcsetattr(slave, TCSANOW, &tio);
    }
    close(slave);
  }
  return {master, name, ""};
#else
  return {-1, "", "pseudo-terminals need a POSIX system"};
#endif
}

}  // namespace opu
