// Listener set-up (see listener.h).
#include "proxy/listener.h"

#include <fmt/format.h>
#include <netinet/in.h>

namespace snare::proxy {

const char* direction_name(Direction d) {
  switch (d) {
    case Direction::outbound:
      return "outbound";
    case Direction::inbound:
      return "inbound";
    case Direction::validation:
      return "validation";
  }
  return "outbound";
}

Status open_listener(SocketCalls& calls, const ListenerSpec& spec, Listener* out,
                     std::string* warning) {
  const int family = spec.addr.family();
  auto fail = [&](const char* what, int err, int fd) {
    if (fd >= 0) calls.close(fd);
    return Status::Fail(
        fmt::format("listen on {}: {}: {}", spec.addr.str(), what, errno_text(err)));
  };
  SysResult s = calls.socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (!s.ok()) return fail("socket", s.err, -1);
  const int fd = static_cast<int>(s.rc);
  const int one = 1;
  // SO_REUSEADDR: a restart must not fail on the previous run's TIME_WAIT connections.
  SysResult r = calls.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (!r.ok()) return fail("SO_REUSEADDR", r.err, fd);
  if (spec.reuseport) {
    r = calls.setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (!r.ok()) return fail("SO_REUSEPORT", r.err, fd);
  }
  if (family == AF_INET6) {
    r = calls.setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (!r.ok()) return fail("IPV6_V6ONLY", r.err, fd);
  }
  bool transparent = false;
  if (spec.transparent) {
    r = family == AF_INET6 ? calls.setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof one)
                           : calls.setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof one);
    if (r.ok()) {
      transparent = true;
    } else if (r.err == EPERM && warning != nullptr) {
      *warning = fmt::format(
          "listener {} is not transparent (IP_TRANSPARENT needs CAP_NET_ADMIN): TPROXY rules "
          "will not reach it",
          spec.addr.str());
    } else {
      return fail("IP_TRANSPARENT", r.err, fd);
    }
  }
  r = calls.bind(fd, spec.addr.sa(), spec.addr.len());
  if (!r.ok()) return fail("bind", r.err, fd);
  r = calls.listen(fd, spec.backlog);
  if (!r.ok()) return fail("listen", r.err, fd);
  out->fd = fd;
  out->spec = spec;
  out->transparent = transparent;
  return Status::Ok();
}

}  // namespace snare::proxy
