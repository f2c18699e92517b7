// Validation probe and listener (see validation.h).
#include "probe/validation.h"

#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <set>
#include <vector>

#include "base/log.h"
#include "proxy/listener.h"
#include "proxy/original_dst.h"
#include "proxy/privilege.h"
#include "proxy/sock_addr.h"
#include "proxy/socket_calls.h"

namespace snare {
namespace validation {

std::string failure_stage(const Observations& s, const std::string& probe,
                          const std::string& listeners) {
  if (s.wrong_dst > 0) {
    return fmt::format(
        "wrong original destination: a listener accepted the probe but saw {} ({}), want {}",
        s.wrong_dst_seen, s.wrong_dst_source, probe);
  }
  if (s.connected_elsewhere > 0) {
    return fmt::format(
        "reached the wrong listener: the probe to {} connected, but not to {} (the rules "
        "redirect it to another port, or something listens on the probe address)",
        probe, listeners);
  }
  if (s.refused > 0) {
    return fmt::format(
        "refused: the probe to {} was refused, so no rule redirected it to {} (are the nat "
        "OUTPUT rules for the proxy uid in place?)",
        probe, listeners);
  }
  if (s.timed_out > 0) {
    return fmt::format("timed out: the probe to {} got no answer (a rule drops it?)", probe);
  }
  if (s.other_errors > 0) {
    return fmt::format("connect failed: the probe to {}: {}", probe, errno_text(s.last_errno));
  }
  return fmt::format("timed out: no probe to {} completed in time", probe);
}

}  // namespace validation

namespace {

using proxy::Direction;
using proxy::Listener;
using proxy::ListenerSpec;
using proxy::SockAddr;

struct Report {
  int32_t err = 0;          // errno of the attempt, 0 when connected
  uint16_t local_port = 0;  // the probe socket's source port
  uint8_t connected = 0;
  uint8_t timed_out = 0;
};

int64_t now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// One probe attempt: connect from `src` to `dst` within `budget_ms`.
Report probe_once(const SockAddr& src, const SockAddr& dst, int budget_ms) {
  Report r;
  int fd = ::socket(dst.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    r.err = errno;
    return r;
  }
  // istio binds the source explicitly; the kernel would pick the same one.
  (void)::bind(fd, src.sa(), src.len());
  if (::connect(fd, dst.sa(), dst.len()) < 0 && errno != EINPROGRESS) {
    r.err = errno;
  } else {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, budget_ms) <= 0) {
      r.err = ETIMEDOUT;
      r.timed_out = 1;
    } else {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      r.err = err;
      r.connected = err == 0;
      if (r.connected) {
        // Give the listener a moment to answer (it writes the original port, then closes).
        pollfd q{fd, POLLIN, 0};
        (void)::poll(&q, 1, 300);
      }
    }
  }
  sockaddr_in6 raw{};
  socklen_t len = sizeof raw;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&raw), &len) == 0) {
    r.local_port = SockAddr::from(reinterpret_cast<sockaddr*>(&raw), len).port();
  }
  ::close(fd);
  return r;
}

[[noreturn]] void probe_child(const ValidationOptions& o, const SockAddr& src, const SockAddr& dst,
                              int report_fd, int64_t deadline) {
  proxy::DropResult dr;
  Status st = proxy::drop_privileges(o.uid, o.gid, false, &dr);
  if (!st.ok()) {
    Report r;
    r.err = EPERM;
    (void)!::write(report_fd, &r, sizeof r);
    _exit(1);
  }
  // Die with the parent (set after the uid change, which clears it).
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  for (;;) {
    const int64_t left = deadline - now_ms();
    if (left <= 0) _exit(0);
    Report r = probe_once(src, dst, static_cast<int>(std::min<int64_t>(left, 1000)));
    if (::write(report_fd, &r, sizeof r) < 0) _exit(0);
    ::usleep(200 * 1000);
  }
}

// The listeners on the capture ports, and what the accepted probes showed.
class Watch {
 public:
  Watch(const SockAddr& probe, validation::Observations& seen) : probe_(probe), seen_(seen) {}
  ~Watch() {
    for (Listener& l : listeners_) ::close(l.fd);
  }

  // As istio: 127.0.0.1 (or ::1) on the outbound and inbound capture ports.
  void listen(const ValidationOptions& o, const char* lo) {
    for (uint16_t port : {o.proxy_port, o.inbound_port}) {
      ListenerSpec spec;
      spec.addr = *SockAddr::parse_ip(lo, port);
      spec.direction = Direction::validation;
      spec.reuseport = true;  // as istio: may share the port with a proxy of the same uid
      Listener l;
      if (Status st = proxy::open_listener(proxy::real_socket_calls(), spec, &l, nullptr);
          !st.ok()) {
        log_warn("validation: {}", st.error);
        continue;
      }
      listeners_.push_back(l);
      where_ += (where_.empty() ? "" : " or ") + spec.addr.str();
    }
  }
  bool empty() const { return listeners_.empty(); }
  const std::string& where() const { return where_; }
  const std::string& passed_at() const { return passed_at_; }
  bool passed() const { return !passed_at_.empty(); }
  void close_all() {
    for (Listener& l : listeners_) ::close(l.fd);
    listeners_.clear();
  }

  // Waits for the probe until `deadline`, reading the child's reports from `report_fd`.
  void run(int report_fd, int64_t deadline) {
    std::vector<pollfd> fds;
    for (Listener& l : listeners_) fds.push_back({l.fd, POLLIN, 0});
    fds.push_back({report_fd, POLLIN, 0});
    while (!passed()) {
      const int64_t left = deadline - now_ms();
      if (left <= 0) break;
      if (::poll(fds.data(), fds.size(), static_cast<int>(left)) < 0 && errno != EINTR) break;
      accept_all();
      Report r;
      while (!passed() && ::read(report_fd, &r, sizeof r) == static_cast<ssize_t>(sizeof r))
        count(r);
    }
  }

 private:
  void count(const Report& r) {
    ++seen_.attempts;
    if (r.connected) {
      accept_all();
      if (!passed() && accepted_ports_.count(r.local_port) == 0) ++seen_.connected_elsewhere;
    } else if (r.err == ECONNREFUSED) {
      ++seen_.refused;
    } else if (r.timed_out) {
      ++seen_.timed_out;
    } else {
      ++seen_.other_errors;
      seen_.last_errno = r.err;
    }
  }

  void accept_all() {
    for (Listener& l : listeners_)
      for (;;) {
        sockaddr_in6 raw{};
        socklen_t len = sizeof raw;
        int fd =
            ::accept4(l.fd, reinterpret_cast<sockaddr*>(&raw), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        accepted_ports_.insert(SockAddr::from(reinterpret_cast<sockaddr*>(&raw), len).port());
        judge(l, fd);
      }
  }

  // One accepted probe: the right original destination passes.
  void judge(const Listener& l, int fd) {
    proxy::OriginalDst od = proxy::original_dst(proxy::real_socket_calls(), fd,
                                                l.spec.addr.family(), l.spec.addr.port(), false);
    // As istio: answer with the original port.
    std::string port = std::to_string(od.addr.port());
    (void)!::send(fd, port.data(), port.size(), MSG_NOSIGNAL);
    ::close(fd);
    if (od.source == proxy::DstSource::nat && od.addr == probe_) {
      passed_at_ = l.spec.addr.str();
      return;
    }
    const bool none = od.source == proxy::DstSource::none;
    ++seen_.wrong_dst;
    seen_.wrong_dst_seen = none ? l.spec.addr.str() + " itself" : od.addr.str();
    seen_.wrong_dst_source =
        none ? "not redirected" : std::string("via ") + proxy::dst_source_name(od.source);
  }

  SockAddr probe_;
  validation::Observations& seen_;
  std::vector<Listener> listeners_;
  std::string where_;
  std::string passed_at_;
  std::set<uint16_t> accepted_ports_;
};

int fail(const ValidationOptions& o, const std::string& stage) {
  log_line(LogLevel::error, "iptables validation failed",
           {{"stage", stage.substr(0, stage.find(':'))}, {"detail", stage}});
  std::fprintf(stderr,
               "iptables validation failed; workload is not ready for Istio. When using Istio "
               "CNI, this can occur if a pod is scheduled before the node is ready.\n");
  if (o.print_rules) o.print_rules();
  return 126;
}

}  // namespace

int run_validation(const ValidationOptions& o) {
  const char* lo = o.ipv6 ? "::1" : "127.0.0.1";
  const SockAddr probe_dst = *SockAddr::parse_ip(o.ipv6 ? "::6" : "127.0.0.6", o.probe_port);
  const SockAddr probe_src = *SockAddr::parse_ip(lo, 0);
  log_info(
      "Starting iptables validation. This check verifies that iptables rules are properly "
      "established for the network.");
  validation::Observations seen;
  Watch watch(probe_dst, seen);
  watch.listen(o, lo);
  if (watch.empty()) return fail(o, "no listener: could not listen on the capture ports");
  const int64_t deadline = now_ms() + o.timeout.count();
  int report[2];
  if (::pipe2(report, O_CLOEXEC | O_NONBLOCK) < 0)
    return fail(o, "internal: pipe: " + errno_text(errno));
  std::fflush(nullptr);
  const pid_t child = ::fork();
  if (child < 0) return fail(o, "internal: fork: " + errno_text(errno));
  if (child == 0) {
    ::close(report[0]);
    watch.close_all();
    probe_child(o, probe_src, probe_dst, report[1], deadline);
  }
  ::close(report[1]);
  watch.run(report[0], deadline);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ::close(report[0]);
  if (!watch.passed())
    return fail(o, validation::failure_stage(seen, probe_dst.str(), watch.where()));
  log_line(LogLevel::info, "Validation passed, iptables rules established",
           {{"probe", probe_dst.str()}, {"listener", watch.passed_at()}});
  return 0;
}

}  // namespace snare
