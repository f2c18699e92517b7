// `snare ambient` / `snare ambient-host` flags: istio-cni's defaults, the environment variables
// of its helm chart, the per-pod settings, and one clear error per bad value.
#include "config/ambient_flags.h"

#include <catch2/catch.hpp>
#include <map>

using namespace snare;

namespace {

struct Result {
  Status status;
  Config cfg;
};

Result parse(Command c, std::vector<std::string> args,
             std::map<std::string, std::string> env = {}) {
  AmbientRawFlags raw;
  Result p;
  EnvLookup lookup = [env](const std::string& n) -> std::optional<std::string> {
    auto it = env.find(n);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  p.status = parse_ambient_flags(c, args, lookup, "snare ambient", raw);
  if (!p.status.ok()) return p;
  p.status = make_ambient_config(c, raw, p.cfg);
  return p;
}

}  // namespace

TEST_CASE("ambient defaults are istio's helm defaults") {
  auto p = parse(Command::ambient, {"--dry-run"});
  REQUIRE(p.status.ok());
  CHECK(p.cfg.command == Command::ambient);
  CHECK(p.cfg.ambient.dns_capture);
  CHECK(!p.cfg.ambient.pod_dns_capture.has_value());
  CHECK(p.cfg.ambient.dns_effective());
  CHECK(!p.cfg.ambient.bypass_inbound_capture);
  CHECK(p.cfg.ambient.virtual_interfaces.empty());
  CHECK(p.cfg.ipv6_enabled);
  CHECK(p.cfg.ambient.probe_snat_v4 == "169.254.7.127");
  CHECK(p.cfg.ambient.probe_snat_v6 == "fd16:9254:7127:1337:ffff:ffff:ffff:ffff");
  CHECK(!p.cfg.native_nftables);
}

TEST_CASE("the pod's DNS setting wins over the global one, unset follows it") {
  auto off =
      parse(Command::ambient, {"--dry-run", "--dns-capture=true", "--pod-dns-capture=false"});
  REQUIRE(off.status.ok());
  CHECK(!off.cfg.ambient.dns_effective());
  auto on =
      parse(Command::ambient, {"--dry-run", "--pod-dns-capture"}, {{"AMBIENT_DNS_CAPTURE", "0"}});
  REQUIRE(on.status.ok());
  CHECK(on.cfg.ambient.dns_effective());
  auto global = parse(Command::ambient, {"--dry-run"}, {{"AMBIENT_DNS_CAPTURE", "false"}});
  REQUIRE(global.status.ok());
  CHECK(!global.cfg.ambient.dns_effective());
}

TEST_CASE("environment AMBIENT_IPV6 and NATIVE_NFTABLES, the flag over the environment") {
  auto p = parse(Command::ambient, {"--dry-run"},
                 {{"AMBIENT_IPV6", "false"}, {"NATIVE_NFTABLES", "true"}});
  REQUIRE(p.status.ok());
  CHECK(!p.cfg.ipv6_enabled);
  CHECK(p.cfg.native_nftables);
  auto q = parse(Command::ambient, {"--dry-run", "--enable-ipv6"}, {{"AMBIENT_IPV6", "false"}});
  REQUIRE(q.status.ok());
  CHECK(q.cfg.ipv6_enabled);
}

TEST_CASE("probe SNAT addresses print canonically, virtual interfaces keep their order") {
  auto p = parse(Command::ambient, {"--dry-run", "--probe-snat-ipv6", "FD16:0:0::1",
                                    "--reroute-virtual-interfaces", "b1,,a0"});
  REQUIRE(p.status.ok());
  CHECK(p.cfg.ambient.probe_snat_v6 == "fd16::1");
  CHECK(p.cfg.ambient.virtual_interfaces == std::vector<std::string>{"b1", "a0"});
}

TEST_CASE("every bad ambient value gets one error naming the flag and the value") {
  struct Bad {
    Command c;
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    const char* says;
  };
  const Bad cases[] = {
      {Command::ambient, {"--dns-capture=maybe"}, {}, "--dns-capture: \"maybe\""},
      {Command::ambient, {"--pod-dns-capture="}, {}, "--pod-dns-capture: \"\""},
      {Command::ambient, {}, {{"AMBIENT_IPV6", "yes"}}, "environment AMBIENT_IPV6: \"yes\""},
      {Command::ambient, {"--probe-snat-ipv4", "::1"}, {}, "--probe-snat-ipv4: \"::1\""},
      {Command::ambient, {"--probe-snat-ipv6", "1.2.3.4"}, {}, "--probe-snat-ipv6: \"1.2.3.4\""},
      {Command::ambient, {"--probe-snat-ipv4", "1.2.3"}, {}, "--probe-snat-ipv4: \"1.2.3\""},
      {Command::ambient,
       {"--reroute-virtual-interfaces", "a b"},
       {},
       "--reroute-virtual-interfaces"},
      {Command::ambient, {"--output-format", "json"}, {}, "--output-format: \"json\""},
      {Command::ambient, {"--netns-pid", "0"}, {}, "--netns-pid: \"0\""},
      {Command::ambient_host, {"--kubelet-uid", "kubelet"}, {}, "--kubelet-uid: \"kubelet\""},
  };
  for (const Bad& b : cases) {
    std::vector<std::string> args = b.args;
    args.push_back("--dry-run");
    auto p = parse(b.c, args, b.env);
    INFO(b.says);
    CHECK(!p.status.ok());
    CHECK_THAT(p.status.error, Catch::Contains(b.says));
  }
}

TEST_CASE("each command takes only its own flags") {
  CHECK_THAT(parse(Command::ambient_host, {"--dns-capture"}).status.error,
             Catch::Contains("unknown flag: --dns-capture"));
  CHECK_THAT(parse(Command::ambient_host, {"--network-namespace", "/x"}).status.error,
             Catch::Contains("unknown flag: --network-namespace"));
  CHECK_THAT(parse(Command::ambient, {"--kubelet-uid", "1"}).status.error,
             Catch::Contains("unknown flag: --kubelet-uid"));
  // Another command's environment variable is not read either.
  CHECK(parse(Command::ambient_host, {"--dry-run"}, {{"AMBIENT_DNS_CAPTURE", "bad"}}).status.ok());
}

TEST_CASE("both commands apply in both modes, ambient-host with a kubelet UID given or not") {
  CHECK(parse(Command::ambient, {"--native-nftables"}).status.ok());
  CHECK(parse(Command::ambient_host, {}).status.ok());
  CHECK(parse(Command::ambient_host, {"--native-nftables"}).status.ok());
  CHECK(parse(Command::ambient_host, {"--dry-run", "--native-nftables", "--kubelet-uid", "0x3e8"})
            .cfg.ambient.kubelet_uid == std::optional<uint32_t>(1000));
}
