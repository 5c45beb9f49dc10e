// A pseudo-terminal pair for the device emulator: the emulator keeps the master side, and the driver opens the
// slave path as it would /dev/ttyACM0. Raw mode on both sides, so every byte passes unchanged (no echo, no line
// discipline, no CR/LF translation). POSIX only.
#include "io/pty.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>
#endif

namespace opu {

PtyResult openPty() {
#if defined(__unix__) || defined(__APPLE__)
  const int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0) return {-1, -1, "", std::string("posix_openpt: ") + std::strerror(errno)};
  if (grantpt(master) != 0 || unlockpt(master) != 0) {
    const std::string error = std::strerror(errno);
    close(master);
    return {-1, -1, "", "grantpt/unlockpt: " + error};
  }
  const char* name = ptsname(master);
  if (!name) {
    close(master);
    return {-1, -1, "", "ptsname failed"};
  }
  // Non-blocking: the emulator writes camera frames larger than the pty's buffer on the same event loop that lets
  // the host read them; a blocking write would wait forever for a reader that cannot run.
  fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
  termios tio{};
  if (tcgetattr(master, &tio) == 0) {
    cfmakeraw(&tio);
    tcsetattr(master, TCSANOW, &tio);
  }
  // Held open by the caller for the pair's lifetime: while no slave is open, reads on the master fail with EIO, and
  // a stream on the master would end before the host connects. Raw too, so a plain open() of the path sees bytes
  // unchanged (serialport sets raw mode itself).
  const int slave = open(name, O_RDWR | O_NOCTTY);
  if (slave < 0) {
    const std::string error = std::strerror(errno);
    close(master);
    return {-1, -1, "", "open " + std::string(name) + ": " + error};
  }
  if (tcgetattr(slave, &tio) == 0) {
    cfmakeraw(&tio);
    tcsetattr(slave, TCSANOW, &tio);
  }
  return {master, slave, name, ""};
#else
  return {-1, -1, "", "pseudo-terminals need a POSIX system"};
#endif
}

WriteResult writeWaiting(int fd, const unsigned char* bytes, size_t length, int waitMs) {
#if defined(__unix__) || defined(__APPLE__)
  size_t done = 0;
  while (done < length) {
    const ssize_t n = write(fd, bytes + done, length - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return {static_cast<long>(done), errno};
    // Full: sleep in the kernel until the reader makes room, instead of spinning on EAGAIN.
    pollfd p{fd, POLLOUT, 0};
    const int ready = poll(&p, 1, waitMs);
    if (ready == 0) break;
    if (ready < 0 && errno != EINTR) return {static_cast<long>(done), errno};
    if (ready > 0 && (p.revents & (POLLERR | POLLNVAL))) return {static_cast<long>(done), EIO};
  }
  return {static_cast<long>(done), 0};
#else
  return {0, ENOSYS};
#endif
}

}  // namespace opu
