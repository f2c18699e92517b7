// ambient-host's iptables mode with its probe sets, on fakes: the sets come before the rules
// (created when missing, left alone when there, refused when of another definition), the rules
// carry the sets' kernel indices, a failed apply removes the sets it created, clean destroys the
// sets after the rules (a set still in use stays), and verify calls a missing set drift.
#include "apply/ipsets.h"

#include <catch2/catch.hpp>

#include "builder/builder.h"
#include "ext/forms.h"
#include "fakes/fake_ipsets.h"
#include "fakes/fake_tables.h"

using namespace snare;
using snare::testing::FakeIpsets;
using snare::testing::FakeTables;

namespace {

Config host_config(bool ipv6) {
  Config c;
  c.command = Command::ambient_host;
  c.ipv6 = ipv6 ? Ipv6Mode::on : Ipv6Mode::off;
  c.ipv6_enabled = ipv6;
  return c;
}

struct Rig {
  FakeTables tables;
  FakeIpsets ipsets;
  ApplyEnv env{&tables, nullptr};
};

// The set match's index in the kernel's ISTIO_POSTRT rule of `f`.
std::optional<uint16_t> rule_index(FakeTables& t, Family f) {
  TableModel m;
  t.read(f, Table::nat, m);
  const Chain* c = m.find("ISTIO_POSTRT");
  if (!c || c->entries.empty()) return std::nullopt;
  DecodedRule d = decode_entry(f, c->entries[0].bytes.data(), "SNAT");
  for (const Match& x : d.rule.matches)
    if (auto* s = std::get_if<SetMatch>(&x)) return s->index;
  return std::nullopt;
}

}  // namespace

TEST_CASE("ambient-host creates its probe sets before the rules, with their kernel indices") {
  Rig rig;
  rig.ipsets.put("some-other-set");  // index 0: the probe sets get 1 and 2
  const Config cfg = host_config(true);
  const Plan plan = build_plan(cfg);
  ApplyReport rep;
  REQUIRE(apply_with_ipsets(cfg, plan, rig.env, rig.ipsets, rep).ok());
  CHECK(rig.ipsets.calls ==
        std::vector<std::string>{"create istio-inpod-probes-v4", "create istio-inpod-probes-v6"});
  CHECK(rig.ipsets.sets.at("istio-inpod-probes-v6").info.family == "inet6");
  CHECK(rule_index(rig.tables, Family::v4) == rig.ipsets.index_of("istio-inpod-probes-v4"));
  CHECK(rule_index(rig.tables, Family::v6) == rig.ipsets.index_of("istio-inpod-probes-v6"));
  rig.ipsets.calls.clear();
  ApplyReport again;
  REQUIRE(apply_with_ipsets(cfg, plan, rig.env, rig.ipsets, again).ok());
  CHECK(rig.ipsets.calls.empty());
  CHECK(!again.changed);
  std::string diff, err;
  CHECK(verify_with_ipsets(cfg, plan, rig.env, rig.ipsets, diff, err) == 0);
}

TEST_CASE("ambient-host with IPv6 off makes no -v6 set, and keeps the members of a set there") {
  Rig rig;
  rig.ipsets.put("istio-inpod-probes-v4");
  rig.ipsets.add("istio-inpod-probes-v4", "10.0.0.7", "pod-a");
  rig.ipsets.calls.clear();
  const Config cfg = host_config(false);
  ApplyReport rep;
  REQUIRE(apply_with_ipsets(cfg, build_plan(cfg), rig.env, rig.ipsets, rep).ok());
  CHECK(rig.ipsets.calls.empty());
  CHECK(rig.ipsets.sets.count("istio-inpod-probes-v6") == 0);
  CHECK(rig.ipsets.member("istio-inpod-probes-v4", "10.0.0.7")->comment == "pod-a");
}

TEST_CASE("a probe set of another definition is refused, naming it and what to do") {
  Rig rig;
  rig.ipsets.put("istio-inpod-probes-v4", "hash:net");
  const Config cfg = host_config(false);
  ApplyReport rep;
  Status s = apply_with_ipsets(cfg, build_plan(cfg), rig.env, rig.ipsets, rep);
  REQUIRE(!s.ok());
  CHECK_THAT(s.error,
             Catch::Contains("ipset istio-inpod-probes-v4 exists as hash:net family inet"));
  CHECK_THAT(s.error, Catch::Contains("ipset destroy istio-inpod-probes-v4"));
  CHECK(rig.tables.writes.empty());
  rig.ipsets.put("istio-inpod-probes-v4", "hash:ip", "inet", false);  // no comments
  CHECK(!apply_with_ipsets(cfg, build_plan(cfg), rig.env, rig.ipsets, rep).ok());
}

TEST_CASE("a failed rule commit removes the sets the apply created, not one that was there") {
  Rig rig;
  rig.ipsets.put("istio-inpod-probes-v4");
  rig.tables.fail_write_at = 1;
  const Config cfg = host_config(true);
  ApplyReport rep;
  Status s = apply_with_ipsets(cfg, build_plan(cfg), rig.env, rig.ipsets, rep);
  REQUIRE(!s.ok());
  CHECK_THAT(s.error, Catch::Contains("the ipsets it created removed"));
  CHECK(rig.ipsets.sets.count("istio-inpod-probes-v4") == 1);
  CHECK(rig.ipsets.sets.count("istio-inpod-probes-v6") == 0);
}

TEST_CASE("clean removes the rules, then the sets, and a set still in use stays") {
  Rig rig;
  const Config cfg = host_config(true);
  const Plan plan = build_plan(cfg);
  ApplyReport rep;
  REQUIRE(apply_with_ipsets(cfg, plan, rig.env, rig.ipsets, rep).ok());
  rig.ipsets.sets.at("istio-inpod-probes-v6").info.references = 1;  // a foreign rule's
  ApplyReport clean;
  REQUIRE(cleanup_with_ipsets(cfg, plan, rig.env, rig.ipsets, clean).ok());
  CHECK(rig.ipsets.sets.count("istio-inpod-probes-v4") == 0);
  CHECK(rig.ipsets.sets.count("istio-inpod-probes-v6") == 1);
  CHECK(rig.tables.dump().find("ISTIO") == std::string::npos);
  // With IPv6 off, clean still removes an -v6 set of earlier flags.
  rig.ipsets.sets.at("istio-inpod-probes-v6").info.references = 0;
  const Config v4 = host_config(false);
  REQUIRE(cleanup_with_ipsets(v4, build_plan(v4), rig.env, rig.ipsets, clean).ok());
  CHECK(rig.ipsets.sets.empty());
}

TEST_CASE("verify: a missing probe set is drift, printed as ipset's create line") {
  Rig rig;
  const Config cfg = host_config(false);
  const Plan plan = build_plan(cfg);
  ApplyReport rep;
  REQUIRE(apply_with_ipsets(cfg, plan, rig.env, rig.ipsets, rep).ok());
  rig.ipsets.sets.clear();
  std::string diff, err;
  CHECK(verify_with_ipsets(cfg, plan, rig.env, rig.ipsets, diff, err) == 1);
  CHECK_THAT(diff, Catch::Contains("+create istio-inpod-probes-v4 hash:ip family inet comment"));
  rig.ipsets.put("istio-inpod-probes-v4", "hash:net");
  diff.clear();
  CHECK(verify_with_ipsets(cfg, plan, rig.env, rig.ipsets, diff, err) == 1);
  CHECK_THAT(diff, Catch::Contains("-create istio-inpod-probes-v4 hash:net family inet comment"));
}
