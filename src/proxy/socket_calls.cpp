// RealSocketCalls: the SocketCalls seam bound to the kernel.
#include "proxy/socket_calls.h"

namespace snare::proxy {
namespace {

class RealSocketCalls final : public SocketCalls {
 public:
  SysResult socket(int domain, int type, int protocol) override {
    return sys_result(::socket(domain, type, protocol));
  }
  SysResult setsockopt(int fd, int level, int opt, const void* val, socklen_t len) override {
    return sys_result(::setsockopt(fd, level, opt, val, len));
  }
  SysResult getsockopt(int fd, int level, int opt, void* val, socklen_t* len) override {
    return sys_result(::getsockopt(fd, level, opt, val, len));
  }
  SysResult bind(int fd, const sockaddr* addr, socklen_t len) override {
    return sys_result(::bind(fd, addr, len));
  }
  SysResult listen(int fd, int backlog) override { return sys_result(::listen(fd, backlog)); }
  SysResult connect(int fd, const sockaddr* addr, socklen_t len) override {
    return sys_result(::connect(fd, addr, len));
  }
  SysResult accept4(int fd, sockaddr* addr, socklen_t* len, int flags) override {
    return sys_result(::accept4(fd, addr, len, flags));
  }
  SysResult getsockname(int fd, sockaddr* addr, socklen_t* len) override {
    return sys_result(::getsockname(fd, addr, len));
  }
  SysResult close(int fd) override { return sys_result(::close(fd)); }
};

}  // namespace

SocketCalls& real_socket_calls() {
  static RealSocketCalls calls;
  return calls;
}

}  // namespace snare::proxy
