// Stats rendering and the metrics endpoint (see stats.h).
#include "proxy/stats.h"

#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace snare::proxy {

const char* end_reason_name(EndReason r) {
  switch (r) {
    case EndReason::eof:
      return "eof";
    case EndReason::client_reset:
      return "client_reset";
    case EndReason::upstream_reset:
      return "upstream_reset";
    case EndReason::connect_refused:
      return "connect_refused";
    case EndReason::connect_failed:
      return "connect_failed";
    case EndReason::connect_timeout:
      return "connect_timeout";
    case EndReason::idle_timeout:
      return "idle_timeout";
    case EndReason::loop:
      return "loop";
    case EndReason::not_redirected:
      return "not_redirected";
    case EndReason::overload:
      return "overload";
    case EndReason::drain:
      return "drain";
    case EndReason::count_:
      break;
  }
  return "unknown";
}

std::string render_prometheus(const std::vector<const WorkerStats*>& workers) {
  auto sum = [&](auto member) {
    uint64_t total = 0;
    for (const WorkerStats* w : workers) total += member(*w).load(std::memory_order_relaxed);
    return total;
  };
  static const char* dirs[2] = {"outbound", "inbound"};
  std::string out;
  auto per_dir = [&](const char* name, const char* type, const char* help, auto pick) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    for (int d = 0; d < 2; ++d) {
      out += fmt::format(
          "{}{{direction=\"{}\"}} {}\n", name, dirs[d],
          sum([&](const WorkerStats& w) -> const std::atomic<uint64_t>& { return pick(w, d); }));
    }
  };
  per_dir(
      "snare_proxy_connections_accepted_total", "counter", "Connections accepted.",
      [](const WorkerStats& w, int d) -> const std::atomic<uint64_t>& { return w.accepted[d]; });
  per_dir("snare_proxy_connections_active", "gauge", "Connections open now.",
          [](const WorkerStats& w, int d) -> const std::atomic<uint64_t>& { return w.active[d]; });
  per_dir(
      "snare_proxy_bytes_to_destination_total", "counter",
      "Bytes relayed from clients to original destinations.",
      [](const WorkerStats& w, int d) -> const std::atomic<uint64_t>& { return w.bytes_up[d]; });
  per_dir(
      "snare_proxy_bytes_to_client_total", "counter",
      "Bytes relayed from original destinations to clients.",
      [](const WorkerStats& w, int d) -> const std::atomic<uint64_t>& { return w.bytes_down[d]; });
  out +=
      "# HELP snare_proxy_connections_ended_total Connections ended, by reason.\n"
      "# TYPE snare_proxy_connections_ended_total counter\n";
  for (int r = 0; r < static_cast<int>(EndReason::count_); ++r) {
    out += fmt::format(
        "snare_proxy_connections_ended_total{{reason=\"{}\"}} {}\n",
        end_reason_name(static_cast<EndReason>(r)),
        sum([&](const WorkerStats& w) -> const std::atomic<uint64_t>& { return w.ended[r]; }));
  }
  out += fmt::format(
      "# HELP snare_proxy_relayed_bytes_total Bytes relayed, by method.\n"
      "# TYPE snare_proxy_relayed_bytes_total counter\n"
      "snare_proxy_relayed_bytes_total{{method=\"splice\"}} {}\n"
      "snare_proxy_relayed_bytes_total{{method=\"copy\"}} {}\n",
      sum([](const WorkerStats& w) -> const std::atomic<uint64_t>& { return w.spliced_bytes; }),
      sum([](const WorkerStats& w) -> const std::atomic<uint64_t>& { return w.copied_bytes; }));
  out += fmt::format(
      "# HELP snare_proxy_accept_paused_total Times accepting paused for lack of descriptors.\n"
      "# TYPE snare_proxy_accept_paused_total counter\n"
      "snare_proxy_accept_paused_total {}\n",
      sum([](const WorkerStats& w) -> const std::atomic<uint64_t>& { return w.accept_paused; }));
  out += fmt::format(
      "# HELP snare_proxy_workers Event-loop threads.\n# TYPE snare_proxy_workers gauge\n"
      "snare_proxy_workers {}\n",
      workers.size());
  return out;
}

namespace {

// A listening TCP socket on the wildcard address of `family`; -1 with errno set on failure.
int listen_any(int family, uint16_t port) {
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  const int zero = 0;
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
  if (::bind(fd, a, len) < 0 || ::listen(fd, 16) < 0) {
    const int err = errno;
    ::close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

}  // namespace

// Why dual-stack: in an IPv6-only cluster Prometheus scrapes the pod's IPv6 address, so a
// 0.0.0.0 listener would be unreachable. One [::] socket with IPV6_V6ONLY off takes both families;
// only where IPv6 is off in the namespace (no socket, or no [::] to bind) does it fall back to
// 0.0.0.0.
Status StatsServer::open(uint16_t port) {
  int fd = listen_any(AF_INET6, port);
  if (fd < 0 && (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL)) fd = listen_any(AF_INET, port);
  if (fd < 0) return Status::Fail(fmt::format("--stats-port {}: {}", port, errno_text(errno)));
  fd_ = fd;
  return Status::Ok();
}

void StatsServer::start(std::vector<const WorkerStats*> workers) {
  if (fd_ < 0) return;
  workers_ = std::move(workers);
  thread_ = std::thread([this] { serve(); });
}

void StatsServer::stop() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);  // wakes the blocked accept()
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void StatsServer::serve() {
  for (;;) {
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE) continue;
      return;  // shut down
    }
    // A scrape is one short request; a silent client must not hold the thread.
    timeval tv{1, 0};
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    char req[1024];
    (void)::recv(c, req, sizeof req, 0);
    std::string body = render_prometheus(workers_);
    std::string resp = fmt::format(
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: "
        "{}\r\nConnection: close\r\n\r\n{}",
        body.size(), body);
    size_t off = 0;
    while (off < resp.size()) {
      ssize_t n = ::send(c, resp.data() + off, resp.size() - off, MSG_NOSIGNAL);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::close(c);
  }
}

}  // namespace snare::proxy
