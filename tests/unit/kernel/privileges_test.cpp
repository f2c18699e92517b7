// Privileges: the capability decision and its messages.
#include "kernel/privileges.h"

#include <linux/capability.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <string>

TEST_CASE("CAP_NET_ADMIN missing is named with what to do", "[privileges]") {
  snare::CapSet none;
  auto s = snare::check_net_admin(none);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error ==
        "snare needs CAP_NET_ADMIN in the pod's network namespace: run as root, or add NET_ADMIN "
        "(and NET_RAW) to the init container's capabilities");
}

TEST_CASE("CAP_NET_RAW missing alone is named", "[privileges]") {
  snare::CapSet caps{1ULL << CAP_NET_ADMIN};
  auto s = snare::check_net_admin(caps);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error.find("CAP_NET_RAW") != std::string::npos);
}

TEST_CASE("both capabilities pass", "[privileges]") {
  snare::CapSet caps{(1ULL << CAP_NET_ADMIN) | (1ULL << CAP_NET_RAW)};
  CHECK(snare::check_net_admin(caps).ok());
}

// The kernel's own account of this thread's effective set, independent of capget: what
// /proc/thread-self/status prints as CapEff (hex). Root in a container may lack NET_ADMIN, so the
// test compares the two readings instead of assuming what the environment grants.
static uint64_t cap_eff_from_proc() {
  std::ifstream in("/proc/thread-self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("CapEff:", 0) == 0) return std::stoull(line.substr(7), nullptr, 16);
  FAIL("no CapEff line in /proc/thread-self/status");
  return 0;
}

TEST_CASE("read_caps reports the effective set the kernel shows in /proc", "[privileges]") {
  snare::CapSet caps;
  REQUIRE(snare::read_caps(caps).ok());
  CHECK(caps.effective == cap_eff_from_proc());
  CHECK(snare::check_net_admin().ok() == snare::check_net_admin(caps).ok());
}
