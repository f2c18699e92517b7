// run_rule_command on fakes: the order of its checks and the lock, the exit codes of every verb,
// the closing log line, the refusals (nftables state beside iptables mode's apply, no
// CAP_NET_ADMIN, a lock that cannot be taken), and clean's removal of istio's iptables-nft chains.
#include "apply/run.h"

#include <algorithm>
#include <catch2/catch.hpp>

#include "builder/builder.h"
#include "fakes/config_of.h"
#include "fakes/fake_nft.h"
#include "fakes/fake_run_seams.h"
#include "fakes/fake_tables.h"
#include "render/netlink_batch.h"

using namespace snare;
using snare::testing::config_of;
using snare::testing::FakeIpsets;
using snare::testing::FakeNft;
using snare::testing::FakeRunSeams;
using snare::testing::FakeTables;
using snare::testing::kXtIstioNat;
using snare::testing::kXtIstioNatRemoval;

namespace {

const std::vector<std::string> kFlags = {"-m", "REDIRECT", "-b", "*", "--enable-ipv6=false"};
const std::vector<std::string> kNftFlags = {"--native-nftables", "-b", "*", "--enable-ipv6=false"};

struct Rig {
  FakeTables tables;
  FakeNft nft;
  FakeRunSeams fake;
  int run(RuleVerb verb, const Config& cfg) {
    return run_rule_command(verb, cfg, build_plan(cfg), fake.seams(), {&tables, &nft});
  }
};

std::string field(const LogFields& f, const std::string& key) {
  for (const auto& [k, v] : f)
    if (k == key) return v;
  return "(none)";
}

}  // namespace

TEST_CASE("run: apply checks, detects, locks, then reads and writes, unlocks, logs one line") {
  Rig rig;
  rig.fake.waited_ms = 12.5;
  REQUIRE(rig.run(RuleVerb::apply, config_of(kFlags)) == 0);
  REQUIRE(rig.fake.events.size() == 6);
  CHECK(rig.fake.events[0] == "capability");
  CHECK(rig.fake.events[1] == "nft_tables");
  CHECK_THAT(rig.fake.events[2], Catch::StartsWith("lock "));
  CHECK(rig.fake.events[3] == "routes");
  CHECK(rig.fake.events[4] == "unlock");
  CHECK(rig.fake.events[5] == "done applied rules");
  CHECK_FALSE(rig.tables.writes.empty());
  CHECK(field(rig.fake.last_fields, "backend") == "fake");
  CHECK(field(rig.fake.last_fields, "lock_wait_ms") == "12.50");
  CHECK(field(rig.fake.last_fields, "tables") == "ipv4/nat");
  // Again: nothing to commit, and the line says so.
  rig.fake.events.clear();
  REQUIRE(rig.run(RuleVerb::apply, config_of(kFlags)) == 0);
  CHECK(rig.fake.events.back() == "done rules already in place, nothing committed");
}

TEST_CASE("run: without CAP_NET_ADMIN apply and clean exit 1, verify 2, and nothing else runs") {
  for (RuleVerb verb : {RuleVerb::apply, RuleVerb::clean, RuleVerb::verify}) {
    Rig rig;
    rig.fake.capability = Status::Fail("snare needs CAP_NET_ADMIN");
    CHECK(rig.run(verb, config_of(kFlags)) == (verb == RuleVerb::verify ? 2 : 1));
    CHECK(rig.fake.events == std::vector<std::string>{"capability"});
  }
}

TEST_CASE("run: iptables mode refuses an apply next to nftables state before the lock") {
  Rig rig;
  rig.fake.nft_state = {{"inet", "filter", 1, 1, false}};
  CHECK(rig.run(RuleVerb::apply, config_of(kFlags)) == 1);
  CHECK(rig.fake.events == std::vector<std::string>{"capability", "nft_tables", "unlock"});
  CHECK(rig.tables.writes.empty());
  const std::string msg = nftables_refusal(rig.fake.nft_state);
  CHECK_THAT(msg, Catch::Contains("table inet filter (1 chain, 1 rule)") &&
                      Catch::Contains("`nft delete table inet filter`") &&
                      Catch::Contains("--native-nftables") && Catch::Contains("`snare clean`"));
}

TEST_CASE("run: clean goes on whatever nftables holds (legacy istio rules must be cleanable)") {
  Rig rig;
  REQUIRE(rig.run(RuleVerb::apply, config_of(kFlags)) == 0);
  rig.fake.nft_state = {{"inet", "filter", 0, 0, false}};
  rig.fake.events.clear();
  REQUIRE(rig.run(RuleVerb::clean, config_of(kFlags)) == 0);
  CHECK(std::find(rig.fake.events.begin(), rig.fake.events.end(), "nft_tables") ==
        rig.fake.events.end());
  CHECK(rig.fake.events.back() == "done removed rules");
  rig.fake.events.clear();
  CHECK(rig.run(RuleVerb::verify, config_of(kFlags)) == 1);  // the rules are gone: drift
}

TEST_CASE("run: iptables mode's clean removes istio's iptables-nft chains, foreign rules stay") {
  Rig rig;
  rig.nft.ip_listings["ip nat"] = kXtIstioNat;
  REQUIRE(rig.run(RuleVerb::clean, config_of(kFlags)) == 0);
  REQUIRE(rig.nft.batches.size() == 1);
  std::string removal;
  for (const std::string& l : netlink_batch_lines(rig.nft.batches[0])) removal += l + "\n";
  CHECK(removal == kXtIstioNatRemoval);
  CHECK(rig.fake.events.back() == "done removed rules");
}

TEST_CASE("run: a lock that cannot be taken and a failed step exit 1, the lock is released") {
  Rig rig;
  rig.fake.lock_result = Status::Fail("timed out");
  CHECK(rig.run(RuleVerb::apply, config_of(kFlags)) == 1);
  CHECK(rig.tables.writes.empty());
  CHECK_THAT(rig.fake.events[rig.fake.events.size() - 2], Catch::StartsWith("lock "));
  CHECK(rig.fake.events.back() == "unlock");
  Rig failing;
  failing.tables.fail_write_at = 1;
  CHECK(failing.run(RuleVerb::apply, config_of(kFlags)) == 1);
  CHECK(failing.fake.events.back() == "unlock");
}

TEST_CASE(
    "run: nftables mode takes its namespace's apply lock, and the xtables lock first only "
    "for --reconcile's apply, which may write legacy tables") {
  Rig rig;
  Config cfg = config_of(kNftFlags);
  const std::string nft_lock = "lock nftables apply lock /run/snare/nftables-netns-test.lock";
  REQUIRE(rig.run(RuleVerb::apply, cfg) == 0);
  CHECK(rig.fake.events ==
        std::vector<std::string>{"capability", nft_lock, "routes", "unlock", "done applied rules"});
  rig.fake.events.clear();
  REQUIRE(rig.run(RuleVerb::clean, cfg) == 0);
  CHECK(rig.fake.events[1] == nft_lock);
  CHECK(rig.fake.events[2] == "routes");
  cfg.reconcile = true;
  rig.fake.events.clear();
  REQUIRE(rig.run(RuleVerb::apply, cfg) == 0);
  CHECK_THAT(rig.fake.events[1], Catch::StartsWith("lock xtables lock "));
  CHECK(rig.fake.events[2] == nft_lock);
  CHECK(field(rig.fake.last_fields, "backend") == "fake-nft");
  rig.fake.events.clear();
  rig.fake.lock_result = Status::Fail("timed out");
  CHECK(rig.run(RuleVerb::verify, config_of(kNftFlags)) != 2);  // verify takes no lock
  CHECK(std::count(rig.fake.events.begin(), rig.fake.events.end(), nft_lock) == 0);
}

TEST_CASE("run: verify exits 0 equal, 1 drift, 2 when it cannot read") {
  Rig rig;
  Config cfg = config_of(kFlags);
  CHECK(rig.run(RuleVerb::verify, cfg) == 1);
  REQUIRE(rig.run(RuleVerb::apply, cfg) == 0);
  rig.fake.events.clear();
  CHECK(rig.run(RuleVerb::verify, cfg) == 0);
  CHECK(rig.fake.events ==
        std::vector<std::string>{"capability", "routes",
                                 "done verify: the tables hold exactly what these flags create"});
  Rig nft;
  nft.nft.netlink["istio-proxy-nat"] = snare::testing::table_named("istio-proxy-nat");
  nft.nft.read_result = Status::Fail("netlink dump: Operation not permitted");
  CHECK(nft.run(RuleVerb::verify, config_of(kNftFlags)) == 2);
  Rig xt;  // istio's iptables-nft chains next to nftables mode: drift
  xt.nft.ip_listings["ip nat"] = kXtIstioNat;
  CHECK(xt.run(RuleVerb::verify, config_of(kNftFlags)) == 1);
}

TEST_CASE("run: iptables mode's verify: istio's iptables-nft chains are drift, unless unreadable") {
  Rig rig;
  Config cfg = config_of(kFlags);
  REQUIRE(rig.run(RuleVerb::apply, cfg) == 0);
  rig.nft.ip_listings["ip nat"] = kXtIstioNat;
  CHECK(rig.run(RuleVerb::verify, cfg) == 1);
  CHECK(rig.fake.events.back() == "done verify: drift found");
  rig.nft.open_result = Status::Fail("cannot load libnftables");  // an image without it
  CHECK(rig.run(RuleVerb::verify, cfg) == 0);
  rig.nft.open_result = Status::Ok();
  rig.nft.ip_listings["ip nat"] = "not json";  // loaded, but unreadable: trouble
  CHECK(rig.run(RuleVerb::verify, cfg) == 2);
}

TEST_CASE("run: iptables mode's clean goes on when iptables-nft's tables cannot be read") {
  Rig rig;
  rig.nft.ip_listings["ip nat"] = "not json";  // as if libnftables could not list it
  CHECK(rig.run(RuleVerb::clean, config_of(kFlags)) == 0);
  CHECK(rig.nft.batches.empty());
}

TEST_CASE("run: ambient-host in iptables mode takes its ipsets from the seam, in every verb") {
  Rig rig;
  FakeIpsets ipsets;
  rig.fake.ipsets = &ipsets;
  Config cfg;
  cfg.command = Command::ambient_host;
  REQUIRE(rig.run(RuleVerb::apply, cfg) == 0);
  CHECK(std::count(rig.fake.events.begin(), rig.fake.events.end(), "ipsets") == 1);
  CHECK(ipsets.sets.count("istio-inpod-probes-v4") == 1);
  CHECK(rig.run(RuleVerb::verify, cfg) == 0);
  ipsets.sets.erase("istio-inpod-probes-v4");  // as if destroyed by hand
  CHECK(rig.run(RuleVerb::verify, cfg) == 1);
  REQUIRE(rig.run(RuleVerb::apply, cfg) == 0);
  CHECK(rig.run(RuleVerb::verify, cfg) == 0);
  REQUIRE(rig.run(RuleVerb::clean, cfg) == 0);
  CHECK(ipsets.sets.empty());
  // A sidecar plan has no sets: the seam is not asked.
  rig.fake.events.clear();
  REQUIRE(rig.run(RuleVerb::apply, config_of(kFlags)) == 0);
  CHECK(std::count(rig.fake.events.begin(), rig.fake.events.end(), "ipsets") == 0);
}
