// Original destination: REDIRECT, TPROXY and not-diverted connections, per family.
#include "proxy/original_dst.h"

#include <catch2/catch.hpp>

#include "fakes/fake_socket_calls.h"

using snare::proxy::DstSource;
using snare::proxy::original_dst;
using snare::proxy::SockAddr;
using snare::proxy::testing::FakeSocketCalls;

namespace {
SockAddr addr(const char* text) { return *SockAddr::parse(text); }
}  // namespace

TEST_CASE("REDIRECT: SO_ORIGINAL_DST gives the destination", "[proxy][original_dst]") {
  struct Case {
    const char* local;
    const char* orig;
    int level;
  };
  auto c = GENERATE(Case{"127.0.0.1:15001", "10.0.0.2:7000", SOL_IP},
                    Case{"[::1]:15001", "[fd00::2]:7000", SOL_IPV6});
  FakeSocketCalls fake;
  fake.local = addr(c.local);
  fake.orig_dst = addr(c.orig);
  auto od = original_dst(fake, 5, fake.local.family(), 15001, false);
  CHECK(od.source == DstSource::nat);
  CHECK(od.addr.str() == c.orig);
  // The common case costs one getsockopt (level SOL_IP or SOL_IPV6, option 80) and nothing else.
  REQUIRE(fake.calls.size() == 1);
  CHECK(fake.calls[0] == "getsockopt " + std::to_string(c.level) + " 80");
}

TEST_CASE("REDIRECT to a destination on the listener's port still compares addresses",
          "[proxy][original_dst]") {
  FakeSocketCalls fake;
  fake.local = addr("127.0.0.1:15001");
  fake.orig_dst = addr("10.0.0.9:15001");
  auto od = original_dst(fake, 5, AF_INET, 15001, false);
  CHECK(od.source == DstSource::nat);
  CHECK(od.addr.str() == "10.0.0.9:15001");
}

TEST_CASE("a direct connection to the listener has no original destination",
          "[proxy][original_dst]") {
  FakeSocketCalls fake;
  fake.local = addr("127.0.0.1:15001");
  SECTION("conntrack entry without NAT: the original destination is the listener itself") {
    fake.orig_dst = fake.local;
  }
  SECTION("no conntrack entry") { fake.orig_dst_ok = false; }
  auto od = original_dst(fake, 5, AF_INET, 15001, false);
  CHECK(od.source == DstSource::none);
  CHECK(od.addr.empty());
}

TEST_CASE("TPROXY: the transparent socket's local address is the destination",
          "[proxy][original_dst]") {
  auto local = GENERATE(as<std::string>{}, "10.0.0.5:8080", "[fd00::5]:8080");
  FakeSocketCalls fake;
  fake.local = addr(local.c_str());
  SECTION("conntrack has no entry") { fake.orig_dst_ok = false; }
  SECTION("conntrack has a non-NAT entry") { fake.orig_dst = fake.local; }
  auto od = original_dst(fake, 5, fake.local.family(), 15006, true);
  CHECK(od.source == DstSource::transparent);
  CHECK(od.addr.str() == local);
}

TEST_CASE("a transparent listener still prefers a NAT mapping (REDIRECT rules)",
          "[proxy][original_dst]") {
  FakeSocketCalls fake;
  fake.local = addr("10.0.0.5:15006");
  fake.orig_dst = addr("10.0.0.5:8080");
  auto od = original_dst(fake, 5, AF_INET, 15006, true);
  CHECK(od.source == DstSource::nat);
  CHECK(od.addr.str() == "10.0.0.5:8080");
}
