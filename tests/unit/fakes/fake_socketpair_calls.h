// FakeSocketpairCalls: a SocketCalls whose sockets are socketpairs, for driving a proxy Worker
// without a network.
//
// The listener is the read end of a pipe: queue_client() hands the worker one end of a new
// socketpair (the test keeps the other, as the application) and writes a byte to the pipe so that
// the worker's epoll sees the listener readable; accept4() takes the byte and the queued end.
// socket() makes another socketpair and keeps the far end as the "destination" the test plays.
// The original destination and the connect() answer are set per test. Real fds throughout, so
// the worker's epoll loop, pumps and closes run as they do in production.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "proxy/sock_addr.h"
#include "proxy/socket_calls.h"

namespace snare::proxy::testing {

class FakeSocketpairCalls : public SocketCalls {
 public:
  SockAddr orig_dst;                // what SO_ORIGINAL_DST answers; empty: ENOENT (not redirected)
  SockAddr listener_addr;           // getsockname of an accepted socket
  int connect_errno = EINPROGRESS;  // 0: connected at once
  int socket_errno = 0;             // non-zero: socket() fails with it

  FakeSocketpairCalls() {
    if (::pipe2(pipe_, O_NONBLOCK | O_CLOEXEC) < 0) throw std::runtime_error("pipe2");
  }
  ~FakeSocketpairCalls() override {
    ::close(pipe_[1]);
    for (int fd : apps_) ::close(fd);
    for (int fd : servers_) ::close(fd);
    for (int fd : queued_) ::close(fd);
  }
  int listener_fd() const { return pipe_[0]; }  // the worker owns and closes it

  // A new client connection; returns the application's end.
  int queue_client() {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
      throw std::runtime_error("socketpair");
    std::lock_guard<std::mutex> lock(mu_);
    apps_.push_back(sv[0]);
    queued_.push_back(sv[1]);
    (void)!::write(pipe_[1], "c", 1);
    return sv[0];
  }
  // The destination end of the nth upstream socket the worker opened (-1: not yet).
  int server(size_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    return n < servers_.size() ? servers_[n] : -1;
  }
  size_t sockets_made() {
    std::lock_guard<std::mutex> lock(mu_);
    return servers_.size();
  }

  SysResult socket(int, int, int) override {
    if (socket_errno != 0) return {-1, socket_errno};
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
      return {-1, errno};
    std::lock_guard<std::mutex> lock(mu_);
    servers_.push_back(sv[1]);
    return {sv[0], 0};
  }
  SysResult setsockopt(int, int, int, const void*, socklen_t) override { return {0, 0}; }
  SysResult getsockopt(int fd, int level, int opt, void* val, socklen_t* len) override {
    if (level == SOL_SOCKET) return sys_result(::getsockopt(fd, level, opt, val, len));
    if (orig_dst.empty()) return {-1, ENOENT};
    std::memcpy(val, orig_dst.sa(), orig_dst.len());
    *len = orig_dst.len();
    return {0, 0};
  }
  SysResult bind(int, const sockaddr*, socklen_t) override { return {0, 0}; }
  SysResult listen(int, int) override { return {0, 0}; }
  SysResult connect(int, const sockaddr*, socklen_t) override {
    return connect_errno == 0 ? SysResult{0, 0} : SysResult{-1, connect_errno};
  }
  SysResult accept4(int, sockaddr* addr, socklen_t* len, int) override {
    char byte;
    if (::read(pipe_[0], &byte, 1) != 1) return {-1, EAGAIN};
    std::lock_guard<std::mutex> lock(mu_);
    const int fd = queued_.front();
    queued_.pop_front();
    sockaddr_in peer{};
    peer.sin_family = AF_INET;
    peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    peer.sin_port = htons(static_cast<uint16_t>(50000 + next_peer_++));
    std::memcpy(addr, &peer, sizeof peer);
    *len = sizeof peer;
    return {fd, 0};
  }
  SysResult getsockname(int, sockaddr* addr, socklen_t* len) override {
    std::memcpy(addr, listener_addr.sa(), listener_addr.len());
    *len = listener_addr.len();
    return {0, 0};
  }
  SysResult close(int fd) override { return sys_result(::close(fd)); }

 private:
  int pipe_[2] = {-1, -1};
  std::mutex mu_;
  std::vector<int> apps_, servers_;
  std::deque<int> queued_;
  int next_peer_ = 0;
};

}  // namespace snare::proxy::testing
