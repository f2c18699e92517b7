// FakeSocketCalls: a SocketCalls that answers from tables and records what was asked (no kernel
// needed).
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "proxy/sock_addr.h"
#include "proxy/socket_calls.h"

namespace snare::proxy::testing {

class FakeSocketCalls : public SocketCalls {
 public:
  // Answers for the original-destination lookup.
  bool orig_dst_ok = true;
  int orig_dst_errno = ENOENT;
  SockAddr orig_dst;
  SockAddr local;
  std::vector<std::string> calls;        // "getsockopt 0 80", "getsockname", "setsockopt 0 19"...
  std::vector<int> failing_setsockopts;  // optnames that fail with EPERM

  SysResult socket(int, int, int) override {
    calls.push_back("socket");
    return {next_fd_++, 0};
  }
  SysResult setsockopt(int, int level, int opt, const void*, socklen_t) override {
    calls.push_back("setsockopt " + std::to_string(level) + " " + std::to_string(opt));
    for (int f : failing_setsockopts) {
      if (f == opt) return {-1, EPERM};
    }
    return {0, 0};
  }
  SysResult getsockopt(int, int level, int opt, void* val, socklen_t* len) override {
    calls.push_back("getsockopt " + std::to_string(level) + " " + std::to_string(opt));
    if (!orig_dst_ok) return {-1, orig_dst_errno};
    if (*len < orig_dst.len()) return {-1, EINVAL};
    std::memcpy(val, orig_dst.sa(), orig_dst.len());
    *len = orig_dst.len();
    return {0, 0};
  }
  SysResult bind(int, const sockaddr*, socklen_t) override {
    calls.push_back("bind");
    return {0, 0};
  }
  SysResult listen(int, int) override {
    calls.push_back("listen");
    return {0, 0};
  }
  SysResult connect(int, const sockaddr*, socklen_t) override { return {-1, EINPROGRESS}; }
  SysResult accept4(int, sockaddr*, socklen_t*, int) override { return {-1, EAGAIN}; }
  SysResult getsockname(int, sockaddr* addr, socklen_t* len) override {
    calls.push_back("getsockname");
    std::memcpy(addr, local.sa(), local.len());
    *len = local.len();
    return {0, 0};
  }
  SysResult close(int) override {
    calls.push_back("close");
    return {0, 0};
  }

 private:
  int next_fd_ = 100;
};

}  // namespace snare::proxy::testing
