// Status and SysResult: how errors travel in snare.
//
// A Status is empty on success and holds one human sentence on failure; callers add context once
// ("commit nat (ipv6): ...") and the main prints it as the single error line. SysResult is the
// `{rc, errno}` pair every syscall wrapper returns (Envoy's SysCallResult), so that errno is
// captured next to the call that set it.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace snare {

struct Status {
  std::string error;  // empty when ok
  bool ok() const { return error.empty(); }
  static Status Ok() { return {}; }
  static Status Fail(std::string message) { return Status{std::move(message)}; }
};

struct SysResult {
  long rc = 0;
  int err = 0;  // errno when rc < 0
  bool ok() const { return rc >= 0; }
};

// strerror as a std::string, thread-safe.
inline std::string errno_text(int err) {
  char buf[256];
  return std::string(strerror_r(err, buf, sizeof buf));
}

}  // namespace snare
