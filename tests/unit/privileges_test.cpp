// Privileges: the capability decision and its messages.
#include "privileges.h"

#include <linux/capability.h>

#include <catch2/catch.hpp>

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

TEST_CASE("the process's own capabilities are readable", "[privileges]") {
  snare::CapSet caps;
  REQUIRE(snare::read_caps(caps).ok());
  if (geteuid() == 0) CHECK(snare::check_net_admin().ok());
}
