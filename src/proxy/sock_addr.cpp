// SockAddr: conversions to and from the kernel and text (see sock_addr.h).
#include "proxy/sock_addr.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <charconv>
#include <cstring>

namespace snare::proxy {

SockAddr SockAddr::from(const sockaddr* sa, socklen_t len) {
  SockAddr a;
  if (sa == nullptr) return a;
  if (sa->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    std::memcpy(&a.u_.v4, sa, sizeof(sockaddr_in));
  } else if (sa->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    sockaddr_in6 v6;
    std::memcpy(&v6, sa, sizeof v6);
    if (IN6_IS_ADDR_V4MAPPED(&v6.sin6_addr)) {
      a.u_.v4 = {};
      a.u_.v4.sin_family = AF_INET;
      a.u_.v4.sin_port = v6.sin6_port;
      std::memcpy(&a.u_.v4.sin_addr, &v6.sin6_addr.s6_addr[12], 4);
    } else {
      a.u_.v6 = v6;
    }
  }
  return a;
}

std::optional<SockAddr> SockAddr::parse_ip(std::string_view ip, uint16_t port) {
  std::string s(ip);
  SockAddr a;
  if (inet_pton(AF_INET, s.c_str(), &a.u_.v4.sin_addr) == 1) {
    a.u_.v4.sin_family = AF_INET;
  } else if (inet_pton(AF_INET6, s.c_str(), &a.u_.v6.sin6_addr) == 1) {
    a.u_.v6.sin6_family = AF_INET6;
  } else {
    return std::nullopt;
  }
  a.set_port(port);
  return a;
}

std::optional<SockAddr> SockAddr::parse(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find("]:");
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  unsigned p = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || end != port.data() + port.size() || port.empty() || p > 65535) {
    return std::nullopt;
  }
  auto a = parse_ip(host, static_cast<uint16_t>(p));
  if (a && a->family() == AF_INET6 && text.front() != '[') return std::nullopt;
  return a;
}

uint16_t SockAddr::port() const {
  if (family() == AF_INET) return ntohs(u_.v4.sin_port);
  if (family() == AF_INET6) return ntohs(u_.v6.sin6_port);
  return 0;
}

void SockAddr::set_port(uint16_t port) {
  if (family() == AF_INET) u_.v4.sin_port = htons(port);
  if (family() == AF_INET6) u_.v6.sin6_port = htons(port);
}

bool SockAddr::is_loopback() const {
  if (family() == AF_INET) return (ntohl(u_.v4.sin_addr.s_addr) >> 24) == 127;
  if (family() == AF_INET6) return IN6_IS_ADDR_LOOPBACK(&u_.v6.sin6_addr);
  return false;
}

bool SockAddr::same_ip(const SockAddr& o) const {
  if (family() != o.family()) return false;
  if (family() == AF_INET) return u_.v4.sin_addr.s_addr == o.u_.v4.sin_addr.s_addr;
  if (family() == AF_INET6) {
    return std::memcmp(&u_.v6.sin6_addr, &o.u_.v6.sin6_addr, sizeof(in6_addr)) == 0;
  }
  return true;
}

socklen_t SockAddr::len() const {
  if (family() == AF_INET) return sizeof(sockaddr_in);
  if (family() == AF_INET6) return sizeof(sockaddr_in6);
  return 0;
}

std::string SockAddr::ip_str() const {
  char buf[INET6_ADDRSTRLEN] = "";
  if (family() == AF_INET) inet_ntop(AF_INET, &u_.v4.sin_addr, buf, sizeof buf);
  if (family() == AF_INET6) inet_ntop(AF_INET6, &u_.v6.sin6_addr, buf, sizeof buf);
  if (family() != AF_INET && family() != AF_INET6) return "-";
  return buf;
}

size_t SockAddr::hash() const {
  // FNV-1a over the compared fields; sin_zero, flow info and scope are left out.
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](const void* p, size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  };
  const uint16_t p = port();
  const int f = family();
  mix(&f, sizeof f);
  mix(&p, sizeof p);
  if (f == AF_INET) mix(&u_.v4.sin_addr, sizeof(in_addr));
  if (f == AF_INET6) mix(&u_.v6.sin6_addr, sizeof(in6_addr));
  return static_cast<size_t>(h);
}

std::string SockAddr::str() const {
  // fmt rather than operator+: g++ 12 at -O3 reports a false -Wrestrict inside the inlined
  // string concatenation ("[" + s + "]:").
  if (family() == AF_INET6) return fmt::format("[{}]:{}", ip_str(), port());
  if (family() == AF_INET) return fmt::format("{}:{}", ip_str(), port());
  return "-";
}

}  // namespace snare::proxy
