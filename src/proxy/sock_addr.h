// SockAddr: an IPv4 or IPv6 socket address in 28 bytes, as the relay keeps it per connection.
//
// sockaddr_storage is 128 bytes; a connection keeps two addresses, and idle memory per connection
// is a target, so only the two families the proxy serves are stored. IPv4-mapped IPv6 addresses
// (a v4 client on a dual-stack socket) are folded into plain IPv4 on the way in.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace snare::proxy {

class SockAddr {
 public:
  SockAddr() { u_.v6 = {}; }
  // Copies a kernel sockaddr; anything but AF_INET/AF_INET6 gives an empty (family 0) address.
  static SockAddr from(const sockaddr* sa, socklen_t len);
  // "10.0.0.1:80", "[fd00::1]:80"; nullopt when malformed.
  static std::optional<SockAddr> parse(std::string_view text);
  // An address with port 0 from a bare IP literal ("127.0.0.6", "::6").
  static std::optional<SockAddr> parse_ip(std::string_view ip, uint16_t port = 0);

  int family() const { return u_.sa.sa_family; }
  bool empty() const { return family() == 0; }
  uint16_t port() const;
  void set_port(uint16_t port);
  bool is_loopback() const;
  bool same_ip(const SockAddr& other) const;
  const sockaddr* sa() const { return &u_.sa; }
  socklen_t len() const;
  std::string ip_str() const;
  std::string str() const;  // ip:port, IPv6 in brackets
  size_t hash() const;      // of family, IP and port only (what operator== compares)

  bool operator==(const SockAddr& o) const { return same_ip(o) && port() == o.port(); }
  bool operator!=(const SockAddr& o) const { return !(*this == o); }

 private:
  union {
    sockaddr sa;
    sockaddr_in v4;
    sockaddr_in6 v6;
  } u_;
};

}  // namespace snare::proxy
