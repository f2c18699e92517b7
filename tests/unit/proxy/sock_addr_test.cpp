// SockAddr: text forms, v4-mapped folding, equality and hashing.
#include "proxy/sock_addr.h"

#include <arpa/inet.h>

#include <catch2/catch.hpp>
#include <cstring>

using snare::proxy::SockAddr;

TEST_CASE("SockAddr parses and prints both families", "[proxy][sock_addr]") {
  auto text =
      GENERATE(as<std::string>{}, "10.1.2.3:80", "[fd51::2]:7000", "127.0.0.6:0", "[::6]:15002");
  auto a = SockAddr::parse(text);
  REQUIRE(a);
  CHECK(a->str() == text);
}

TEST_CASE("SockAddr rejects malformed text", "[proxy][sock_addr]") {
  auto text = GENERATE(as<std::string>{}, "", "10.1.2.3", "10.1.2.3:", "10.1.2.3:65536",
                       "fd51::2:80", "[fd51::2]80", "host:80", "10.1.2.3:8x");
  CHECK_FALSE(SockAddr::parse(text));
}

TEST_CASE("SockAddr folds v4-mapped IPv6 into IPv4", "[proxy][sock_addr]") {
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  v6.sin6_port = htons(443);
  inet_pton(AF_INET6, "::ffff:10.9.8.7", &v6.sin6_addr);
  auto a = SockAddr::from(reinterpret_cast<sockaddr*>(&v6), sizeof v6);
  CHECK(a.family() == AF_INET);
  CHECK(a.str() == "10.9.8.7:443");
}

TEST_CASE("SockAddr equality and hash ignore padding", "[proxy][sock_addr]") {
  sockaddr_in x{};
  x.sin_family = AF_INET;
  x.sin_port = htons(1);
  x.sin_addr.s_addr = htonl(0x7f000001);
  sockaddr_in y = x;
  std::memset(y.sin_zero, 0xab, sizeof y.sin_zero);
  auto a = SockAddr::from(reinterpret_cast<sockaddr*>(&x), sizeof x);
  auto b = SockAddr::from(reinterpret_cast<sockaddr*>(&y), sizeof y);
  CHECK(a == b);
  CHECK(a.hash() == b.hash());
  CHECK(a.is_loopback());
  CHECK(a != *SockAddr::parse("127.0.0.1:2"));
  CHECK(SockAddr::parse("[::1]:1")->is_loopback());
  CHECK_FALSE(SockAddr::parse("10.0.0.1:1")->is_loopback());
}

TEST_CASE("SockAddr stays small", "[proxy][sock_addr]") {
  // Two of these per connection: idle memory per connection is a target.
  CHECK(sizeof(SockAddr) == sizeof(sockaddr_in6));
}
