// Original destination: where an intercepted connection was headed before the rules diverted it.
//
// REDIRECT rewrites the destination and conntrack remembers the original one: SO_ORIGINAL_DST
// (IPv4) or IP6T_SO_ORIGINAL_DST (IPv6) reads it back. TPROXY rewrites nothing: the local address
// of the IP_TRANSPARENT socket is the original destination. A connection made straight to the
// listener was not diverted at all; its "original" destination is the listener itself, and
// relaying it would connect the proxy to itself.
#pragma once

#include "proxy/sock_addr.h"
#include "proxy/socket_calls.h"

namespace snare::proxy {

enum class DstSource {
  nat,          // conntrack NAT mapping (REDIRECT)
  transparent,  // local address of a transparent socket (TPROXY)
  none,         // not diverted: the connection was made to the listener itself
};

const char* dst_source_name(DstSource s);

struct OriginalDst {
  SockAddr addr;  // empty when source == none
  DstSource source = DstSource::none;
};

// `fd` is an accepted socket of `family` from a listener on `listener_port`; `transparent` says
// whether that listener has IP_TRANSPARENT set. Costs one getsockopt in the common REDIRECT case
// (the original port differs from the listener's, so it cannot be the listener), plus one
// getsockname otherwise.
OriginalDst original_dst(SocketCalls& calls, int fd, int family, uint16_t listener_port,
                         bool transparent);

}  // namespace snare::proxy
