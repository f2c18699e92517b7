// Network namespaces: argument errors that name the path or PID and say what to pass, and the
// host-namespace decision. Entering a real namespace is tested in tests/root/netns.sh.
#include "kernel/netns.h"

#include <catch2/catch.hpp>

using snare::NetnsKind;

TEST_CASE("enter_netns with nothing given stays put", "[netns]") {
  CHECK(snare::enter_netns("", 0).ok());
}

TEST_CASE("enter_netns refuses a path and a PID together", "[netns]") {
  auto s = snare::enter_netns("/var/run/netns/x", 42);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error ==
        "--network-namespace /var/run/netns/x and --netns-pid 42 both given: pass only one");
}

TEST_CASE("enter_netns names a missing path and says what to pass", "[netns]") {
  auto s = snare::enter_netns("/var/run/netns/snare-does-not-exist", 0);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error ==
        "network namespace /var/run/netns/snare-does-not-exist does not exist: pass the pod's "
        "netns path (/var/run/netns/... or /proc/PID/ns/net) or the PID of a process in the pod");
}

TEST_CASE("enter_netns names a missing process", "[netns]") {
  // Above the largest pid_max the kernel allows (4194304), so it cannot exist.
  auto s = snare::enter_netns("", 999999999);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error.rfind("process 999999999 does not exist (no /proc/999999999/ns/net): ", 0) == 0);
}

TEST_CASE("enter_netns refuses a file that is not a network namespace", "[netns]") {
  const char* path = GENERATE("/proc/self/ns/uts", "/etc/hostname");
  auto s = snare::enter_netns(path, 0);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error.find(std::string(path) + " is not a network namespace") != std::string::npos);
}

TEST_CASE("the host's namespace is refused unless allowed", "[netns]") {
  auto refused = snare::check_not_host_netns(NetnsKind::initial, false);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error.find("--allow-host-netns") != std::string::npos);
  CHECK(refused.error.find("--network-namespace") != std::string::npos);
  CHECK(snare::check_not_host_netns(NetnsKind::initial, true).ok());
  CHECK(snare::check_not_host_netns(NetnsKind::other, false).ok());
  CHECK(snare::check_not_host_netns(NetnsKind::unknown, false).ok());
}
