// SocketCalls: the proxy's socket syscall seam (Envoy's OsSysCalls, condensed). Not to be confused
// with config's HostFacts seam, which answers host facts (users, addresses, resolv.conf).
//
// Every call returns a SysResult {rc, errno} so that errno is read right next to the call that
// set it. Code that decides something from the kernel's answers (original destination, listener
// set-up, the accept path) goes through a SocketCalls&, so unit tests can hand it a fake. The
// byte-moving calls of the relay (recv/send/splice/epoll) are plain inline wrappers below: they
// decide nothing worth faking, and they run millions of times per second.
#pragma once

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "base/status.h"

namespace snare::proxy {

class SocketCalls {
 public:
  virtual ~SocketCalls() = default;
  virtual SysResult socket(int domain, int type, int protocol) = 0;
  virtual SysResult setsockopt(int fd, int level, int opt, const void* val, socklen_t len) = 0;
  virtual SysResult getsockopt(int fd, int level, int opt, void* val, socklen_t* len) = 0;
  virtual SysResult bind(int fd, const sockaddr* addr, socklen_t len) = 0;
  virtual SysResult listen(int fd, int backlog) = 0;
  virtual SysResult connect(int fd, const sockaddr* addr, socklen_t len) = 0;
  virtual SysResult accept4(int fd, sockaddr* addr, socklen_t* len, int flags) = 0;
  virtual SysResult getsockname(int fd, sockaddr* addr, socklen_t* len) = 0;
  virtual SysResult close(int fd) = 0;
};

// The kernel.
SocketCalls& real_socket_calls();

inline SysResult sys_result(long rc) { return SysResult{rc, rc < 0 ? errno : 0}; }

// The relay's hot path.
inline SysResult sys_recv(int fd, void* buf, size_t len) {
  return sys_result(::recv(fd, buf, len, MSG_DONTWAIT));
}
inline SysResult sys_send(int fd, const void* buf, size_t len) {
  return sys_result(::send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL));
}
inline SysResult sys_splice(int in, int out, size_t len, unsigned flags) {
  return sys_result(::splice(in, nullptr, out, nullptr, len, flags));
}

}  // namespace snare::proxy
