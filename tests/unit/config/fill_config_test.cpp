// Filling a Config from the host's facts: default proxy IDs, IPv6 detection, resolv.conf, names.
#include "config/fill_config.h"

#include <catch2/catch.hpp>

#include "fakes/fake_host_facts.h"

using namespace snare;
using snare::testing::FakeHostFacts;

namespace {
EnvLookup no_env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

TEST_CASE("proxy UID defaults to the istio-proxy user, else 1337, GID follows UID") {
  FakeHostFacts host;
  std::vector<std::string> w;
  Config c;
  c.ipv6 = Ipv6Mode::off;
  REQUIRE(fill_config(c, host, no_env, w).ok());
  CHECK(c.proxy_uids == std::vector<OwnerId>{{"1337", 1337}});
  CHECK(c.proxy_gids == std::vector<OwnerId>{{"1337", 1337}});
  host.users["istio-proxy"] = 1234;
  Config d;
  d.ipv6 = Ipv6Mode::off;
  REQUIRE(fill_config(d, host, no_env, w).ok());
  CHECK(d.proxy_uids == std::vector<OwnerId>{{"1234", 1234}});
  host.users["envoy"] = 99;
  Config e;
  e.ipv6 = Ipv6Mode::off;
  EnvLookup env = [](const std::string& n) -> std::optional<std::string> {
    if (n == "ENVOY_USER") return "envoy";
    return std::nullopt;
  };
  REQUIRE(fill_config(e, host, env, w).ok());
  CHECK(e.proxy_uids == std::vector<OwnerId>{{"99", 99}});
}

TEST_CASE("IPv6 auto-detection follows istio's getLocalIP") {
  bool found = false;
  CHECK_FALSE(ipv6_from_addresses({"127.0.0.1", "::1", "10.0.0.5", "fd00::5"}, false, found));
  CHECK(found);
  CHECK(ipv6_from_addresses({"127.0.0.1", "fe80::1", "fd00::5", "10.0.0.5"}, false, found));
  CHECK(ipv6_from_addresses({"10.0.0.5", "fd00::5"}, true, found));
  CHECK_FALSE(ipv6_from_addresses({"10.0.0.5"}, true, found));
  CHECK_FALSE(ipv6_from_addresses({"127.0.0.1", "::1", "fe80::1"}, false, found));
  CHECK_FALSE(found);
}

TEST_CASE("auto IPv6 with no usable address: IPv4 only and a warning") {
  FakeHostFacts host;
  host.addresses = {"127.0.0.1", "::1"};
  Config c;
  std::vector<std::string> w;
  REQUIRE(fill_config(c, host, no_env, w).ok());
  CHECK_FALSE(c.ipv6_enabled);
  REQUIRE(w.size() == 1);
  CHECK(w[0].find("--enable-ipv6") != std::string::npos);
}

TEST_CASE("DNS servers come from resolv.conf unless --dns-servers or capture-all") {
  FakeHostFacts host;
  host.files["/etc/resolv.conf"] =
      "# comment\nsearch svc.cluster.local\nnameserver 10.96.0.10\nnameserver fd00:0::a\n";
  Config c;
  c.ipv6 = Ipv6Mode::on;
  c.redirect_dns = true;
  std::vector<std::string> w;
  REQUIRE(fill_config(c, host, no_env, w).ok());
  CHECK(c.dns_servers_v4 == std::vector<std::string>{"10.96.0.10"});
  CHECK(c.dns_servers_v6 == std::vector<std::string>{"fd00::a"});
  Config d;
  d.redirect_dns = true;
  d.ipv6 = Ipv6Mode::off;
  FakeHostFacts none;
  CHECK_FALSE(fill_config(d, none, no_env, w).ok());
}

TEST_CASE("fill_config resolves owner names once, keeping their spelling") {
  FakeHostFacts host;
  host.users["envoy"] = 101;
  host.groups["envoy"] = 102;
  host.groups["java"] = 2020;
  Config c;
  c.ipv6 = Ipv6Mode::off;
  c.proxy_uids = {{"envoy", std::nullopt}};
  c.owner_groups_all = false;
  c.owner_groups_include = {{"java", std::nullopt}, {"202", 202}};
  std::vector<std::string> w;
  REQUIRE(fill_config(c, host, no_env, w).ok());
  CHECK(c.proxy_uids == std::vector<OwnerId>{{"envoy", 101}});
  // -g defaults to -u's values, looked up as groups.
  CHECK(c.proxy_gids == std::vector<OwnerId>{{"envoy", 102}});
  CHECK(c.owner_groups_include == std::vector<OwnerId>{{"java", 2020}, {"202", 202}});
}

namespace {
// fill_config's error for a Config with `set` applied, or "" when it succeeds.
template <typename Set>
std::string fill_error(Set set) {
  FakeHostFacts host;
  host.users["envoy"] = 101;
  Config c;
  c.ipv6 = Ipv6Mode::off;
  set(c);
  std::vector<std::string> w;
  Status s = fill_config(c, host, no_env, w);
  return s.ok() ? "" : s.error;
}
}  // namespace

TEST_CASE("an unknown owner name is one line naming its flag, no fallback number") {
  auto starts = [](const std::string& e, const std::string& flag) {
    INFO(e);
    CHECK(e.rfind(flag + ": ", 0) == 0);
    CHECK(e.find('\n') == std::string::npos);
  };
  starts(fill_error([](Config& c) {
           c.proxy_uids = {{"nosuchuser", std::nullopt}};
         }),
         "--proxy-uid");
  starts(fill_error([](Config& c) {
           c.proxy_uids = {{"1", 1}};
           c.proxy_gids = {{"nosuchgroup", std::nullopt}};
         }),
         "--proxy-gid");
  // -u envoy exists as a user, not as a group: -g's default names both flags.
  starts(fill_error([](Config& c) {
           c.proxy_uids = {{"envoy", std::nullopt}};
         }),
         "--proxy-gid (which defaults to --proxy-uid)");
  const std::string e = fill_error([](Config& c) {
    c.owner_groups_all = false;
    c.owner_groups_include = {{"nosuchgroup", std::nullopt}};
  });
  starts(e, "--outbound-owner-groups");
  CHECK_THAT(e, Catch::Contains("\"nosuchgroup\""));
  starts(fill_error([](Config& c) {
           c.owner_groups_exclude = {{"nosuchgroup", std::nullopt}};
         }),
         "--outbound-owner-groups-exclude");
  // An exclude list that is ignored (the include list is not '*') is not looked up, as before.
  CHECK(fill_error([](Config& c) {
          c.owner_groups_all = false;
          c.owner_groups_exclude = {{"nosuchgroup", std::nullopt}};
        }) == "");
}

TEST_CASE("a restore-form dry-run prints an unknown name as given, the save form needs numbers") {
  auto dry_run = [](OutputFormat f) {
    return fill_error([f](Config& c) {
      c.dry_run = true;
      c.output_format = f;
      c.owner_groups_all = false;
      c.owner_groups_include = {{"nosuchgroup", std::nullopt}};
    });
  };
  CHECK(dry_run(OutputFormat::restore) == "");
  CHECK(dry_run(OutputFormat::save).rfind("--outbound-owner-groups: ", 0) == 0);
}

TEST_CASE("with IPv6 off, nftables mode warns that IPv6 is still captured and its values dropped") {
  FakeHostFacts host;
  std::vector<std::string> w;
  Config c;
  c.ipv6 = Ipv6Mode::off;
  c.native_nftables = true;
  c.exclude_cidrs_v6 = {"fd00::/8"};
  REQUIRE(fill_config(c, host, no_env, w).ok());
  REQUIRE(w.size() == 1);
  CHECK(w[0].find("fd00::/8") != std::string::npos);
  CHECK(w[0].find("still capture IPv6") != std::string::npos);
  c.native_nftables = false;  // iptables mode: IPv6 off means no IPv6 rule at all
  w.clear();
  REQUIRE(fill_config(c, host, no_env, w).ok());
  REQUIRE(w.size() == 1);
  CHECK(w[0].find("still capture") == std::string::npos);
  c.native_nftables = true;
  c.ipv6 = Ipv6Mode::on;
  w.clear();
  REQUIRE(fill_config(c, host, no_env, w).ok());
  CHECK(w.empty());
}
