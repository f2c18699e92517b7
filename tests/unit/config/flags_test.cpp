// Flag parsing: istio's names, precedence (CLI > alias env > primary env > default), empty
// values, list splitting, and one clear error per bad value.
#include "config/flags.h"

#include <catch2/catch.hpp>
#include <map>

using namespace snare;

namespace {

struct Result {
  Status status;
  Config cfg;
  std::vector<std::string> warnings;
};

Result parse(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
  RawFlags raw;
  Result p;
  EnvLookup lookup = [env](const std::string& n) -> std::optional<std::string> {
    auto it = env.find(n);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  p.status = parse_flags(args, lookup, "snare", raw);
  if (!p.status.ok()) return p;
  p.status = make_config(raw, p.cfg, p.warnings);
  return p;
}

}  // namespace

TEST_CASE("defaults are istio's") {
  auto p = parse({});
  REQUIRE(p.status.ok());
  CHECK(p.cfg.proxy_port == "15001");
  CHECK(p.cfg.inbound_capture_port == "15006");
  CHECK(p.cfg.inbound_tunnel_port == "15008");
  CHECK(p.cfg.mode == InterceptMode::redirect);
  CHECK(p.cfg.tproxy_mark_value == 1337);
  CHECK(p.cfg.tproxy_route_table_value == 133);
  CHECK_FALSE(p.cfg.inbound_ports_all);
  CHECK(p.cfg.inbound_ports.empty());
  CHECK_FALSE(p.cfg.outbound_cidrs_all);
  CHECK(p.cfg.owner_groups_all);
  CHECK(p.cfg.ipv4_loopback_cidr == "127.0.0.1/32");
  CHECK(p.cfg.probe_port == 15002);
  CHECK(p.cfg.probe_timeout == std::chrono::seconds(5));
  CHECK(p.cfg.ipv6 == Ipv6Mode::automatic);
}

TEST_CASE("the injector's arguments parse, empty -x included") {
  auto p = parse({"-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-x", "",
                  "-b", "*", "-d", "15090,15021,15020", "--log_output_level=default:info"});
  REQUIRE(p.status.ok());
  CHECK(p.cfg.outbound_cidrs_all);
  CHECK(p.cfg.exclude_cidrs_v4.empty());
  CHECK(p.cfg.inbound_ports_all);
  CHECK(p.cfg.inbound_exclude == std::vector<std::string>{"15090", "15021", "15020"});
  CHECK(p.cfg.proxy_uids == std::vector<OwnerId>{{"1337", 1337}});
}

TEST_CASE("pflag spellings: -x=value, -xvalue, --flag=, --flag=value, bool=false") {
  auto p = parse(
      {"-b=80,81", "-q8080", "--istio-service-exclude-cidr=", "--dry-run=false", "--drop-invalid"});
  REQUIRE(p.status.ok());
  CHECK(p.cfg.inbound_ports == std::vector<std::string>{"80", "81"});
  CHECK(p.cfg.outbound_ports == std::vector<std::string>{"8080"});
  CHECK_FALSE(p.cfg.dry_run);
  CHECK(p.cfg.drop_invalid);
}

TEST_CASE("lists drop empty elements and keep order") {
  auto p = parse({"-d", "6000,7000,", "-b", "*", "-o", ",1,,2"});
  REQUIRE(p.status.ok());
  CHECK(p.cfg.inbound_exclude == std::vector<std::string>{"6000", "7000"});
  CHECK(p.cfg.outbound_ports_exclude == std::vector<std::string>{"1", "2"});
}

TEST_CASE("precedence: CLI > alias env > primary env > default") {
  SECTION("primary env") {
    auto p = parse({}, {{"REDIRECT_DNS", "true"}});
    REQUIRE(p.status.ok());
    CHECK(p.cfg.redirect_dns);
  }
  SECTION("alias env beats primary env") {
    auto p = parse({}, {{"REDIRECT_DNS", "true"}, {"ISTIO_META_DNS_CAPTURE", "false"}});
    REQUIRE(p.status.ok());
    CHECK_FALSE(p.cfg.redirect_dns);
    auto q = parse({}, {{"DROP_INVALID", "false"}, {"INVALID_DROP", "true"}});
    CHECK(q.cfg.drop_invalid);
    auto r = parse({}, {{"DUAL_STACK", "0"}, {"ISTIO_DUAL_STACK", "1"}});
    CHECK(r.cfg.dual_stack);
  }
  SECTION("CLI beats env") {
    auto p = parse({"--redirect-dns=false", "-b", "80"},
                   {{"ISTIO_META_DNS_CAPTURE", "true"}, {"ISTIO_INBOUND_PORTS", "90"}});
    REQUIRE(p.status.ok());
    CHECK_FALSE(p.cfg.redirect_dns);
    CHECK(p.cfg.inbound_ports == std::vector<std::string>{"80"});
  }
  SECTION("-p has no environment variable (ENVOY_PORT has had no effect since istio 1.21)") {
    auto p = parse({}, {{"ENVOY_PORT", "9999"}});
    CHECK(p.cfg.proxy_port == "15001");
  }
  SECTION("env-only istio knobs have flags too") {
    auto p = parse({}, {{"ISTIO_OUTBOUND_OWNER_GROUPS", "java,202"},
                        {"ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR", "127.0.0.1/8"},
                        {"ENABLE_INBOUND_IPV6", "true"}});
    REQUIRE(p.status.ok());
    CHECK_FALSE(p.cfg.owner_groups_all);
    CHECK(p.cfg.owner_groups_include == std::vector<OwnerId>{{"java", std::nullopt}, {"202", 202}});
    CHECK(p.cfg.ipv4_loopback_cidr == "127.0.0.1/8");
    CHECK(p.cfg.ipv6 == Ipv6Mode::on);
  }
}

TEST_CASE("the interception mode (-m) takes REDIRECT or TPROXY in any case") {
  CHECK(parse({"-m", "tproxy"}).cfg.mode == InterceptMode::tproxy);
  CHECK(parse({"-m", "Redirect"}).cfg.mode == InterceptMode::redirect);
  auto bad = parse({"-m", "NONE"});
  REQUIRE_FALSE(bad.status.ok());
  CHECK(bad.status.error.find("-m (--istio-inbound-interception-mode)") != std::string::npos);
  CHECK(bad.status.error.find("NONE") != std::string::npos);
}

TEST_CASE("an empty -m is refused, an empty environment variable means unset, as in istio") {
  auto bad = parse({"-m", ""});
  REQUIRE_FALSE(bad.status.ok());
  CHECK(bad.status.error.find("-m (--istio-inbound-interception-mode)") != std::string::npos);
  CHECK(bad.status.error.find("\"\" is not an interception mode") != std::string::npos);
  auto env = parse({}, {{"ISTIO_INBOUND_INTERCEPTION_MODE", ""}});
  REQUIRE(env.status.ok());
  CHECK(env.cfg.mode == InterceptMode::redirect);
  CHECK(parse({}).cfg.mode == InterceptMode::redirect);
}

TEST_CASE("CIDRs are split by family in istio's spelling") {
  auto p = parse({"-i", "10.0.0.1/8,2001:DB8::/32", "-x", "fd00::/8,1.1.0.0/16"});
  REQUIRE(p.status.ok());
  CHECK(p.cfg.outbound_cidrs_v4 == std::vector<std::string>{"10.0.0.1/8"});
  CHECK(p.cfg.outbound_cidrs_v6 == std::vector<std::string>{"2001:db8::/32"});
  CHECK(p.cfg.exclude_cidrs_v4 == std::vector<std::string>{"1.1.0.0/16"});
  CHECK(p.cfg.exclude_cidrs_v6 == std::vector<std::string>{"fd00::/8"});
  CHECK(parse({"-i", "127.1.2.3/32"}).cfg.outbound_cidrs_have_loopback);
}

TEST_CASE("inbound excludes (-d) without -b '*' warns, as istio silently ignores it") {
  auto p = parse({"-b", "80", "-d", "90"});
  REQUIRE(p.status.ok());
  REQUIRE(p.warnings.size() == 1);
  CHECK(p.warnings[0].find("-d (--istio-local-exclude-ports)") != std::string::npos);
}

TEST_CASE("booleans and durations mean the same on the command line and in the environment") {
  for (const char* t : {"1", "t", "T", "TRUE", "true", "True"}) {
    CHECK(parse({std::string("--dry-run=") + t}).cfg.dry_run);
    CHECK(parse({}, {{"DRY_RUN", t}}).cfg.dry_run);
  }
  CHECK(parse({"--probe-timeout", "1.5s"}).cfg.probe_timeout == std::chrono::milliseconds(1500));
  CHECK(parse({}, {{"PROBE_TIMEOUT", "1m30s"}}).cfg.probe_timeout == std::chrono::seconds(90));
}

TEST_CASE("unsupported flags are refused, not ignored (and --native-nftables is taken)") {
  CHECK(parse({"--native-nftables"}).status.ok());
  CHECK(parse({}, {{"NATIVE_NFTABLES", "true"}}).cfg.native_nftables);
  CHECK(parse({"--cni-mode"}).status.error.find("not supported yet") != std::string::npos);
  CHECK(parse({"--force-iptables-binary", "nft"}).status.error.find("not supported yet") !=
        std::string::npos);
  CHECK(parse({"--force-iptables-binary", "legacy"}).status.ok());
  CHECK_FALSE(parse({"--restore-format"}).status.ok());  // removed in istio 1.24
}

TEST_CASE("every bad value gets one error naming the flag and the value") {
  struct Case {
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    std::string flag, value;
  };
  std::vector<Case> cases = {
      {{"-p", "0"}, {}, "-p (--envoy-port)", "\"0\""},
      {{"-z", "65536"}, {}, "-z (--inbound-capture-port)", "\"65536\""},
      {{"-e", "abc"}, {}, "-e (--inbound-tunnel-port)", "\"abc\""},
      {{"-b", "80, 443"}, {}, "-b (--istio-inbound-ports)", "\" 443\""},
      {{"-b", "*,80"}, {}, "-b (--istio-inbound-ports)", "\"*\""},
      {{"-b", "2000:1000"}, {}, "-b (--istio-inbound-ports)", "\"2000:1000\""},
      {{"-d", "x"}, {}, "-d (--istio-local-exclude-ports)", "\"x\""},
      {{"-q", "*"}, {}, "-q (--istio-outbound-ports)", "\"*\""},
      {{"-o", "70000"}, {}, "-o (--istio-local-outbound-ports-exclude)", "\"70000\""},
      {{"-i", "10.0.0.1"}, {}, "-i (--istio-service-cidr)", "\"10.0.0.1\""},
      {{"-i", "10.0.0.0/33"}, {}, "-i (--istio-service-cidr)", "\"10.0.0.0/33\""},
      {{"-i", "10.0.0.0/2147483648"}, {}, "-i (--istio-service-cidr)", "\"10.0.0.0/2147483648\""},
      {{"-x", "10.0.0.0/4294967295"}, {}, "-x (--istio-service-exclude-cidr)", "4294967295"},
      {{"--host-ipv4-loopback-cidr", "127.0.0.1/2147483648"},
       {},
       "--host-ipv4-loopback-cidr",
       "2147483648"},
      {{},
       {{"ISTIO_SERVICE_CIDR", "10.0.0.0/4294967295"}},
       "environment ISTIO_SERVICE_CIDR",
       "4294967295"},
      {{"--dry-run=yes"}, {}, "-n (--dry-run)", "\"yes\""},
      {{}, {{"DRY_RUN", "yes"}}, "environment DRY_RUN", "\"yes\""},
      {{"-x", "*"}, {}, "-x (--istio-service-exclude-cidr)", "'*'"},
      {{"-x", "fe80::1%eth0/64"}, {}, "-x (--istio-service-exclude-cidr)", "fe80::1%eth0/64"},
      {{"-c", "a/b"}, {}, "-c (--istio-exclude-interfaces)", "\"a/b\""},
      {{"-k", "averyveryverylongname"}, {}, "-k (--kube-virt-interfaces)", "averyveryverylongname"},
      {{"-t", "0x"}, {}, "-t (--istio-inbound-tproxy-mark)", "\"0x\""},
      {{"-t", "1338"}, {}, "-t (--istio-inbound-tproxy-mark)", "\"1338\""},
      {{"-r", "254"}, {}, "-r (--istio-inbound-tproxy-route-table)", "\"254\""},
      {{"-u", "1337;rm"}, {}, "-u (--proxy-uid)", "1337;rm"},
      {{"-g", "4294967295"}, {}, "-g (--proxy-gid)", "4294967295"},
      {{"--probe-timeout", "5"}, {}, "--probe-timeout", "\"5\""},
      {{"--iptables-probe-port", "0"}, {}, "--iptables-probe-port", "\"0\""},
      {{"--host-ipv4-loopback-cidr", "10.0.0.0/8"}, {}, "--host-ipv4-loopback-cidr", "10.0.0.0/8"},
      {{"--host-ipv4-loopback-cidr", "127.0.0.0/7"},
       {},
       "--host-ipv4-loopback-cidr",
       "127.0.0.0/7"},
      {{"--enable-ipv6", "maybe"}, {}, "--enable-ipv6", "maybe"},
      {{"--dns-servers", "1.2.3"}, {}, "--dns-servers", "1.2.3"},
      {{"--log_output_level", "loud"}, {}, "--log_output_level", "loud"},
      {{"--output-format", "json"}, {}, "--output-format", "json"},
      {{}, {{"ISTIO_INBOUND_PORTS", "http"}}, "environment ISTIO_INBOUND_PORTS", "\"http\""},
      {{}, {{"ISTIO_META_DNS_CAPTURE", "yes"}}, "environment ISTIO_META_DNS_CAPTURE", "\"yes\""},
      {{}, {{"PROBE_TIMEOUT", "10"}}, "environment PROBE_TIMEOUT", "\"10\""},
  };
  for (const auto& c : cases) {
    INFO("args: " << (c.args.empty() ? std::string("(env)") : c.args[0] + " " + c.args.back()));
    auto p = parse(c.args, c.env);
    REQUIRE_FALSE(p.status.ok());
    CHECK(p.status.error.find(c.flag) != std::string::npos);
    CHECK(p.status.error.find(c.value) != std::string::npos);
    CHECK(p.status.error.find('\n') == std::string::npos);
  }
}

TEST_CASE("at most 64 owner groups") {
  std::string groups;
  for (int i = 0; i < 65; ++i) groups += std::to_string(1000 + i) + ",";
  auto p = parse({"--outbound-owner-groups", groups});
  REQUIRE_FALSE(p.status.ok());
  CHECK(p.status.error.find("64") != std::string::npos);
  groups = groups.substr(0, groups.rfind(',', groups.size() - 2));
  CHECK(parse({"--outbound-owner-groups", groups}).status.ok());
}

TEST_CASE("unknown flags are errors") {
  auto p = parse({"--no-such-flag"});
  REQUIRE_FALSE(p.status.ok());
  CHECK(p.status.error.find("no-such-flag") != std::string::npos);
}

TEST_CASE("nftables mode refuses interface names nft cannot write, naming the flag") {
  auto bad = parse({"--native-nftables", "-k", "eth0,x\""});
  REQUIRE_FALSE(bad.status.ok());
  CHECK(bad.status.error.find("-k (--kube-virt-interfaces)") != std::string::npos);
  CHECK(bad.status.error.find("x\"") != std::string::npos);
  REQUIRE_FALSE(parse({"--native-nftables", "-c", "x\\"}).status.ok());
  CHECK(parse({"-k", "x\""}).status.ok());  // iptables mode writes any kernel name
  CHECK(parse({"--native-nftables", "-k", "x#,x;,x},x$,eth+,x*"}).status.ok());
}
