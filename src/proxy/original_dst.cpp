// Original destination lookup (see original_dst.h).
#include "proxy/original_dst.h"

#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>

namespace snare::proxy {

const char* dst_source_name(DstSource s) {
  switch (s) {
    case DstSource::nat:
      return "nat";
    case DstSource::transparent:
      return "tproxy";
    case DstSource::none:
      return "none";
  }
  return "none";
}

OriginalDst original_dst(SocketCalls& calls, int fd, int family, uint16_t listener_port,
                         bool transparent) {
  OriginalDst out;
  sockaddr_in6 raw{};  // large enough for both families
  socklen_t len = sizeof raw;
  SysResult r;
  if (family == AF_INET6) {
    r = calls.getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &raw, &len);
  } else {
    len = sizeof(sockaddr_in);
    r = calls.getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &raw, &len);
  }
  SockAddr got;
  if (r.ok()) got = SockAddr::from(reinterpret_cast<const sockaddr*>(&raw), len);
  if (!got.empty() && got.port() != listener_port && !transparent) {
    out.addr = got;
    out.source = DstSource::nat;
    return out;
  }
  sockaddr_in6 local_raw{};
  socklen_t local_len = sizeof local_raw;
  SysResult n = calls.getsockname(fd, reinterpret_cast<sockaddr*>(&local_raw), &local_len);
  SockAddr local;
  if (n.ok()) local = SockAddr::from(reinterpret_cast<const sockaddr*>(&local_raw), local_len);
  // Conntrack tracks connections it did not NAT too: then the "original" destination equals the
  // local address. Under TPROXY that is right (the local address is the foreign destination);
  // on a plain listener it means the client connected to the listener itself.
  if (!got.empty() && got != local) {
    out.addr = got;
    out.source = DstSource::nat;
    return out;
  }
  if (transparent && !local.empty()) {
    out.addr = local;
    out.source = DstSource::transparent;
  }
  return out;
}

}  // namespace snare::proxy
