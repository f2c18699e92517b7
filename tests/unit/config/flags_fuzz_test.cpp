// A seeded argument-mutation test of the flag parser (bounded: a fixed number of cases, well
// under a second): random flags from the table with hostile values, on the command line and in
// the environment. Whatever comes in, parse_flags and make_config return (no exception, no
// abort: an overflow like std::stoi's on a 10-digit prefix length fails here, and under the
// sanitizer build any undefined behaviour does), and a refusal is one line that names a flag or
// variable. Every configuration accepted (filled as an apply fills it) reaches the kernel whole:
// each rule of its iptables plan encodes in each family, and its nftables plan renders and has
// a kernel form, so the encoders' error paths are left for a validation that missed something.
// A failing case prints its seed and arguments.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <map>
#include <random>

#include "builder/builder.h"
#include "config/fill_config.h"
#include "config/flags.h"
#include "ext/forms.h"
#include "ext/nft_kernel_form.h"
#include "fakes/fake_host_facts.h"
#include "model/nft_layout.h"
#include "render/nft.h"
#include "render/nft_form_json.h"

using namespace snare;

namespace {

const char* kFlags[] = {"-p",
                        "-z",
                        "-e",
                        "-u",
                        "-g",
                        "-m",
                        "-t",
                        "-r",
                        "-b",
                        "-d",
                        "-c",
                        "-i",
                        "-x",
                        "-q",
                        "-o",
                        "-k",
                        "--redirect-dns",
                        "--capture-all-dns",
                        "--dns-servers",
                        "--drop-invalid",
                        "--enable-ipv6",
                        "--outbound-owner-groups",
                        "--outbound-owner-groups-exclude",
                        "--host-ipv4-loopback-cidr",
                        "--output-format",
                        "--netns-pid",
                        "--iptables-probe-port",
                        "--probe-timeout",
                        "--log_output_level"};
const char* kEnv[] = {"ISTIO_SERVICE_CIDR",
                      "ISTIO_SERVICE_EXCLUDE_CIDR",
                      "ISTIO_INBOUND_PORTS",
                      "INBOUND_CAPTURE_PORT",
                      "PROXY_UID",
                      "ISTIO_INBOUND_TPROXY_MARK",
                      "REDIRECT_DNS",
                      "DRY_RUN",
                      "PROBE_TIMEOUT",
                      "ISTIO_OUTBOUND_OWNER_GROUPS",
                      "ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR",
                      "IPTABLES_PROBE_PORT"};

// Values near every boundary the parsers have: lengths, digit counts, signs, separators.
std::string hostile_value(std::mt19937& rnd) {
  static const char* kPieces[] = {"10.0.0.0/8",
                                  "/",
                                  "2147483648",
                                  "4294967295",
                                  "99999999999999999999",
                                  "0x",
                                  "0x1ffffffff",
                                  "-1",
                                  "*",
                                  ",",
                                  "::",
                                  "fe80::1%eth0",
                                  "1:2",
                                  "65536",
                                  "0",
                                  "1.5s",
                                  "1e3",
                                  " ",
                                  "\t",
                                  "127.0.0.1",
                                  "java",
                                  "default:debug",
                                  "true",
                                  "yes",
                                  "",
                                  "%",
                                  "\xff",
                                  "0000000000010"};
  std::string v;
  const int n = std::uniform_int_distribution<int>(0, 4)(rnd);
  for (int i = 0; i < n; ++i)
    v += kPieces[std::uniform_int_distribution<size_t>(0, std::size(kPieces) - 1)(rnd)];
  return v;
}

// The machine an apply would read: a pod address of each family, a resolv.conf, and "java" (one
// of the hostile pieces) as a user and a group; other names do not exist.
snare::testing::FakeHostFacts fake_pod() {
  snare::testing::FakeHostFacts host;
  host.addresses = {"10.0.0.5", "fd00::5"};
  host.files["/etc/resolv.conf"] = "nameserver 10.96.0.10\nnameserver fd00::a\n";
  host.users["java"] = 1000;
  host.groups["java"] = 1001;
  return host;
}

// Both plans of an accepted Config reach the kernel: every iptables rule encodes in each family
// it belongs to, the nftables plan renders, and its kernel form reads back as a listing.
void require_encodes(Config cfg) {
  cfg.native_nftables = false;
  const Plan ipt = build_plan(cfg);
  std::string entry;
  for (const Rule& r : ipt.rules) {
    for (Family f : {Family::v4, Family::v6}) {
      if (!in_family(r, f)) continue;
      entry.clear();
      if (Status e = encode_rule(f, r, entry); !e.ok())
        FAIL(fmt::format("{} {}: {}", family_name(f), r.chain, e.error));
    }
  }
  cfg.native_nftables = true;
  const Plan nft = build_plan(cfg);
  NftForm form, back;
  REQUIRE_NOTHROW(render_nft(nft));
  REQUIRE_NOTHROW(form = nft_expected_form(nft));
  REQUIRE(nft_form_from_listing(nft_form_json(form), istio_nft_tables(), back).ok());
}

}  // namespace

TEST_CASE(
    "random hostile arguments never escape the parser, refusals are one line, the rest encodes") {
  std::mt19937 rnd(20261129);
  snare::testing::FakeHostFacts host = fake_pod();
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    const int nflags = std::uniform_int_distribution<int>(0, 6)(rnd);
    for (int f = 0; f < nflags; ++f) {
      args.push_back(kFlags[std::uniform_int_distribution<size_t>(0, std::size(kFlags) - 1)(rnd)]);
      args.push_back(hostile_value(rnd));
    }
    if (rnd() % 3 == 0) env[kEnv[rnd() % std::size(kEnv)]] = hostile_value(rnd);
    EnvLookup lookup = [&env](const std::string& n) -> std::optional<std::string> {
      auto it = env.find(n);
      return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    INFO("case " << i << ": " << fmt::format("{}", fmt::join(args, " ")));
    RawFlags raw;
    Config cfg;
    std::vector<std::string> warnings;
    Status s = parse_flags(args, lookup, "snare", raw);
    if (s.ok() && !raw.help) s = make_config(raw, cfg, warnings);
    // Filled as an apply fills it (a dry-run may leave a name unresolved: it reaches no kernel).
    cfg.dry_run = false;
    if (s.ok() && !raw.help) s = fill_config(cfg, host, lookup, warnings);
    if (s.ok()) {
      if (!raw.help) require_encodes(cfg);
      continue;
    }
    REQUIRE(s.error.find('\n') == std::string::npos);
    const bool names_one = s.error.rfind("-", 0) == 0 || s.error.rfind("environment ", 0) == 0 ||
                           s.error.rfind("unknown", 0) == 0 ||
                           s.error.rfind("flag needs", 0) == 0 ||
                           s.error.rfind("unexpected", 0) == 0;
    REQUIRE(names_one);
  }
}
