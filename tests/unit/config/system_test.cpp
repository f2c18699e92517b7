// Filling a Config from the system: default proxy IDs, IPv6 detection, resolv.conf, names.
#include "config/system.h"

#include <catch2/catch.hpp>

#include "builder/builder.h"
#include "fakes/fake_system.h"

using namespace snare;
using snare::testing::FakeSystem;

namespace {
EnvLookup no_env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

TEST_CASE("proxy UID defaults to the istio-proxy user, else 1337, GID follows UID") {
  FakeSystem sys;
  std::vector<std::string> w;
  Config c;
  c.ipv6 = Ipv6Mode::off;
  REQUIRE(fill_config(c, sys, no_env, w).ok());
  CHECK(c.proxy_uids == std::vector<std::string>{"1337"});
  CHECK(c.proxy_gids == std::vector<std::string>{"1337"});
  sys.users["istio-proxy"] = 1234;
  Config d;
  d.ipv6 = Ipv6Mode::off;
  REQUIRE(fill_config(d, sys, no_env, w).ok());
  CHECK(d.proxy_uids == std::vector<std::string>{"1234"});
  sys.users["envoy"] = 99;
  Config e;
  e.ipv6 = Ipv6Mode::off;
  EnvLookup env = [](const std::string& n) -> std::optional<std::string> {
    if (n == "ENVOY_USER") return "envoy";
    return std::nullopt;
  };
  REQUIRE(fill_config(e, sys, env, w).ok());
  CHECK(e.proxy_uids == std::vector<std::string>{"99"});
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
  FakeSystem sys;
  sys.addresses = {"127.0.0.1", "::1"};
  Config c;
  std::vector<std::string> w;
  REQUIRE(fill_config(c, sys, no_env, w).ok());
  CHECK_FALSE(c.ipv6_enabled);
  REQUIRE(w.size() == 1);
  CHECK(w[0].find("--enable-ipv6") != std::string::npos);
}

TEST_CASE("DNS servers come from resolv.conf unless --dns-servers or capture-all") {
  FakeSystem sys;
  sys.files["/etc/resolv.conf"] =
      "# comment\nsearch svc.cluster.local\nnameserver 10.96.0.10\nnameserver fd00:0::a\n";
  Config c;
  c.ipv6 = Ipv6Mode::on;
  c.redirect_dns = true;
  std::vector<std::string> w;
  REQUIRE(fill_config(c, sys, no_env, w).ok());
  CHECK(c.dns_servers_v4 == std::vector<std::string>{"10.96.0.10"});
  CHECK(c.dns_servers_v6 == std::vector<std::string>{"fd00::a"});
  Config d;
  d.redirect_dns = true;
  d.ipv6 = Ipv6Mode::off;
  FakeSystem none;
  CHECK_FALSE(fill_config(d, none, no_env, w).ok());
}

TEST_CASE("names resolve to numbers, and an unknown one is an error that names it") {
  FakeSystem sys;
  sys.groups["java"] = 2020;
  Config c;
  c.ipv6 = Ipv6Mode::off;
  c.owner_groups_all = false;
  c.owner_groups_include = {"java", "202"};
  std::vector<std::string> w;
  REQUIRE(fill_config(c, sys, no_env, w).ok());
  Plan p = build_plan(c);
  REQUIRE(resolve_names(p, sys, c).ok());
  bool saw = false;
  for (const auto& r : p.rules)
    for (const auto& m : r.matches)
      if (auto* o = std::get_if<OwnerMatch>(&m); o && o->id == "2020") saw = true;
  CHECK(saw);
  c.owner_groups_include = {"nosuchgroup"};
  Plan q = build_plan(c);
  Status s = resolve_names(q, sys, c);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error.find("nosuchgroup") != std::string::npos);
  CHECK(s.error.rfind("--outbound-owner-groups:", 0) == 0);
}

TEST_CASE("kubelet's UID is found as istio-cni finds it") {
  snare::testing::FakeSystem sys;
  using namespace std::string_literals;
  auto proc = [&](const std::string& pid, const std::string& comm, const std::string& cmdline,
                  const std::string& uid) {
    sys.dirs["/proc"].push_back(pid);
    sys.files["/proc/" + pid + "/comm"] = comm + "\n";
    sys.files["/proc/" + pid + "/cmdline"] = cmdline;
    sys.files["/proc/" + pid + "/status"] =
        "Name:\t" + comm + "\nUid:\t" + uid + "\t0\t0\t0\nGid:\t0\t0\t0\t0\n";
  };
  sys.dirs["/proc"] = {"self", "sys"};
  CHECK(!snare::find_kubelet_uid(sys).has_value());
  proc("7", "systemd", "/sbin/init\0"s, "0");
  proc("12", "kubelet-x", "/usr/bin/kubelet\0"s, "5");      // comm must be exact
  proc("20", "kubelet", "/opt/bin/agent\0--flag\0"s, "6");  // no argument names kubelet
  proc("31", "kubelite", "/snap/kubelite\0--KUBELET-args=x\0"s, "1000");
  proc("40", "kubelet", "/usr/bin/kubelet\0"s, "7");
  CHECK(snare::find_kubelet_uid(sys) == std::optional<std::string>("1000"));

  snare::Config cfg;
  cfg.command = snare::Command::ambient_host;
  cfg.native_nftables = true;
  REQUIRE(snare::fill_ambient_config(cfg, sys).ok());
  CHECK(cfg.ambient.kubelet_uid == "1000");
  cfg.ambient.kubelet_uid = "42";  // given: kept
  REQUIRE(snare::fill_ambient_config(cfg, sys).ok());
  CHECK(cfg.ambient.kubelet_uid == "42");
  snare::testing::FakeSystem none;
  cfg.ambient.kubelet_uid.clear();
  snare::Status s = snare::fill_ambient_config(cfg, none);
  CHECK(!s.ok());
  CHECK_THAT(s.error, Catch::Contains("--kubelet-uid"));
}
