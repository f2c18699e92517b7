// `snare ambient-host probe` arguments: add|del IP --pod-uid UID [--native-nftables], one error
// sentence for each bad argument, an IPv4-mapped address taken as the IPv4 one.
#include "config/probe_flags.h"

#include <catch2/catch.hpp>

using namespace snare;

namespace {

EnvLookup no_env() {
  return [](const std::string&) { return std::optional<std::string>(); };
}

Status parse(std::vector<std::string> args, ProbeRequest& out, EnvLookup env = no_env()) {
  return parse_probe_args(args, env, out);
}

}  // namespace

TEST_CASE("probe arguments: add and del with an IP and a pod UID") {
  ProbeRequest r;
  REQUIRE(parse({"add", "10.244.1.7", "--pod-uid", "0a1b-2c3d"}, r).ok());
  CHECK(r.add);
  CHECK(r.ip.text() == "10.244.1.7");
  CHECK(r.pod_uid == "0a1b-2c3d");
  CHECK(!r.native_nftables);
  ProbeRequest d;
  REQUIRE(parse({"del", "fd00::7", "--pod-uid=u1", "--native-nftables"}, d).ok());
  CHECK(!d.add);
  CHECK(d.ip.v6);
  CHECK(d.native_nftables);
  ProbeRequest m;
  REQUIRE(parse({"add", "::ffff:10.0.0.1", "--pod-uid", "u"}, m).ok());
  CHECK(!m.ip.v6);
  CHECK(m.ip.text() == "10.0.0.1");
  ProbeRequest e;
  REQUIRE(parse({"add", "10.0.0.1", "--pod-uid", "u"}, e, [](const std::string& k) {
            return k == "NATIVE_NFTABLES" ? std::optional<std::string>("true") : std::nullopt;
          }).ok());
  CHECK(e.native_nftables);
}

TEST_CASE("probe arguments: each bad one is one sentence naming it") {
  struct Bad {
    std::vector<std::string> args;
    const char* says;
  };
  const Bad cases[] = {
      {{}, "must be add or del"},
      {{"move", "10.0.0.1", "--pod-uid", "u"}, "must be add or del, not \"move\""},
      {{"add"}, "the pod IP is missing"},
      {{"add", "--pod-uid", "u"}, "the pod IP is missing"},
      {{"add", "10.0.0.300", "--pod-uid", "u"}, "\"10.0.0.300\" is not an IP address"},
      {{"add", "10.0.0.1"}, "--pod-uid is required"},
      {{"add", "10.0.0.1", "--pod-uid", "a\"b"}, "--pod-uid: \"a\"b\" is not a pod UID"},
      {{"add", "10.0.0.1", "--pod-uid", ""}, "is not a pod UID"},
      {{"add", "10.0.0.1", "--pod-uid", "--native-nftables"}, "is not a pod UID"},
      {{"add", "10.0.0.1", "--pod-uid", "u", "--native-nftables=maybe"}, "--native-nftables"},
      {{"add", "10.0.0.1", "--pod-uid", "u", "--bogus"}, "bogus"},
      {{"add", "10.0.0.1", "10.0.0.2", "--pod-uid", "u"}, "10.0.0.2"},
  };
  for (const Bad& b : cases) {
    ProbeRequest r;
    Status s = parse(b.args, r);
    INFO(b.says);
    REQUIRE(!s.ok());
    CHECK_THAT(s.error, Catch::Contains(b.says));
    CHECK(s.error.find('\n') == std::string::npos);
  }
}

TEST_CASE("probe arguments: --help") {
  ProbeRequest r;
  REQUIRE(parse({"--help"}, r).ok());
  CHECK(r.help);
  CHECK_THAT(r.help_text, Catch::Contains("--pod-uid UID"));
  CHECK_THAT(r.help_text, Catch::Contains("--native-nftables"));
}
