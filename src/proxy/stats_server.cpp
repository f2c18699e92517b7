// The --stats-port endpoint (see stats_server.h).
#include "proxy/stats_server.h"

#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace snare::proxy {
namespace {

int64_t now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// A listening, non-blocking TCP socket on the wildcard address of `family`; -1 with errno set.
int listen_any(int family, uint16_t port) {
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  const int one = 1, zero = 0;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in6 a6{};
  sockaddr_in a4{};
  sockaddr* a = reinterpret_cast<sockaddr*>(&a4);
  socklen_t len = sizeof a4;
  if (family == AF_INET6) {
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons(port);
    a = reinterpret_cast<sockaddr*>(&a6);
    len = sizeof a6;
  } else {
    a4.sin_family = AF_INET;
    a4.sin_port = htons(port);
  }
  if (::bind(fd, a, len) < 0 || ::listen(fd, 128) < 0) {
    const int err = errno;
    ::close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

bool request_complete(const std::string& in) {
  return in.find("\r\n\r\n") != std::string::npos || in.find("\n\n") != std::string::npos ||
         in.size() >= 8192;
}

}  // namespace

// Why dual-stack: in an IPv6-only cluster Prometheus scrapes the pod's IPv6 address, so a
// 0.0.0.0 listener would be unreachable. One [::] socket with IPV6_V6ONLY off takes both
// families; only where IPv6 is off in the namespace does it fall back to 0.0.0.0.
Status StatsServer::open(uint16_t port) {
  int fd = listen_any(AF_INET6, port);
  if (fd < 0 && (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL)) fd = listen_any(AF_INET, port);
  if (fd < 0) return Status::Fail(fmt::format("--stats-port {}: {}", port, errno_text(errno)));
  fd_ = fd;
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wakefd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epfd_ < 0 || wakefd_ < 0) return Status::Fail("--stats-port: " + errno_text(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd_;
  ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd_, &ev);
  ev.data.fd = wakefd_;
  ::epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev);
  return Status::Ok();
}

void StatsServer::start(std::vector<const WorkerStats*> workers) {
  if (fd_ < 0) return;
  workers_ = std::move(workers);
  thread_ = std::thread([this] { serve(); });
}

void StatsServer::stop() {
  if (wakefd_ >= 0) {
    const uint64_t one = 1;
    (void)!::write(wakefd_, &one, sizeof one);
  }
  if (thread_.joinable()) thread_.join();
  while (!clients_.empty()) drop(0);
  for (int* fd : {&fd_, &epfd_, &wakefd_}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
}

void StatsServer::serve() {
  epoll_event events[64];
  for (;;) {
    int64_t now = now_ms();
    const int timeout =
        clients_.empty()
            ? -1
            : static_cast<int>(std::max<int64_t>(0, clients_.front().deadline_ms - now));
    const int n = ::epoll_wait(epfd_, events, 64, timeout);
    now = now_ms();
    for (int i = 0; i < n; ++i) {
      if (events[i].data.fd == wakefd_) return;
      if (events[i].data.fd == fd_) {
        accept_all(now);
        continue;
      }
      auto it = std::find_if(clients_.begin(), clients_.end(),
                             [&](const Client& c) { return c.fd == events[i].data.fd; });
      if (it != clients_.end() && !progress(*it)) drop(static_cast<size_t>(it - clients_.begin()));
    }
    // Deadlines are in accept order, so the expired ones are at the front.
    while (!clients_.empty() && clients_.front().deadline_ms <= now) drop(0);
  }
}

void StatsServer::accept_all(int64_t now) {
  for (;;) {
    const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c < 0) return;  // EAGAIN, or out of fds: the backlog keeps the rest
    if (clients_.size() >= kMaxClients) drop(0);
    clients_.push_back(Client{c, now + kDeadlineMs, {}, {}, 0});
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.fd = c;
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, c, &ev);
  }
}

bool StatsServer::progress(Client& c) {
  char buf[2048];
  while (c.out.empty()) {
    const ssize_t n = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    if (n == 0) return false;
    c.in.append(buf, static_cast<size_t>(n));
    if (!request_complete(c.in)) continue;
    const std::string body = render_prometheus(workers_);
    c.out = fmt::format(
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: "
        "{}\r\nConnection: close\r\n\r\n{}",
        body.size(), body);
  }
  while (c.sent < c.out.size()) {
    const ssize_t n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    c.sent += static_cast<size_t>(n);
  }
  return false;  // answered
}

void StatsServer::drop(size_t index) {
  ::close(clients_[index].fd);  // closing removes it from the epoll set
  clients_.erase(clients_.begin() + static_cast<std::ptrdiff_t>(index));
}

}  // namespace snare::proxy
