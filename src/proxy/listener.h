// Listener: the capture sockets the rules send traffic to (outbound 15001, inbound 15006).
//
// One socket per family: an IPv6 listener is IPV6_V6ONLY so that IPv4 clients never arrive as
// v4-mapped addresses, whose original destination would need the IPv4 getsockopt on an IPv6
// socket. The inbound listener is IP_TRANSPARENT so that the same process serves TPROXY rules;
// setting it needs CAP_NET_ADMIN, so listeners are made before privileges are dropped.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "proxy/sock_addr.h"
#include "proxy/socket_calls.h"

namespace snare::proxy {

enum class Direction : uint8_t { outbound, inbound, validation };
const char* direction_name(Direction d);

struct ListenerSpec {
  SockAddr addr;  // 0.0.0.0:15001, [::]:15006, 127.0.0.1:15006 ...
  Direction direction = Direction::outbound;
  bool transparent = false;  // IP_TRANSPARENT / IPV6_TRANSPARENT
  bool reuseport = false;    // SO_REUSEPORT: one socket per worker
  int backlog = 4096;
};

// alignas(8): the event loop tags pointers to listeners in their three low bits.
struct alignas(8) Listener {
  int fd = -1;
  ListenerSpec spec;
  bool transparent = false;  // what the kernel accepted (see open_listener)
};

// Opens, binds and listens. When `spec.transparent` is asked but refused with EPERM (not root, no
// CAP_NET_ADMIN), the listener still opens without it and `warning` says so: REDIRECT rules keep
// working, TPROXY rules would not.
Status open_listener(SocketCalls& calls, const ListenerSpec& spec, Listener* out,
                     std::string* warning);

}  // namespace snare::proxy
