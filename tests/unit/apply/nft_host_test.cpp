// ambient-host in nftables mode on fakes: the probe sets are objects of inet istio-ambient-nat,
// declared before the rules; a change empties the table (flush, chains deleted) instead of
// deleting it, so the sets and their members survive; a set of another definition is refused;
// verify compares the sets (not their members); clean deletes the table. The kernel's side is
// the fake's netlink tables.
#include <algorithm>
#include <catch2/catch.hpp>
#include <sstream>

#include "apply/nft_apply.h"
#include "builder/builder.h"
#include "ext/nft_netlink_form.h"
#include "fakes/fake_nft.h"
#include "fakes/fake_routes.h"
#include "render/netlink_batch.h"
#include "render/nft.h"

using namespace snare;
using namespace snare::testing;

namespace {

// istio's nft host test: IPv6 on, kubelet UID 1000, its in-pod tests' IPv6 SNAT address.
Config host_config() {
  Config c;
  c.command = Command::ambient_host;
  c.native_nftables = true;
  c.ipv6 = Ipv6Mode::on;
  c.ipv6_enabled = true;
  c.ambient.kubelet_uid = 1000;
  c.ambient.probe_snat_v6 = "e9ac:1e77:90ca:399f:4d6d:ece2:2f9b:3164";
  return c;
}

const char* kDeclareSets =
    "add table inet istio-ambient-nat\n"
    "add set inet istio-ambient-nat istio-inpod-probes-v4\n"
    "add set inet istio-ambient-nat istio-inpod-probes-v6\n"
    "flush table inet istio-ambient-nat\n";

std::string batch_text(const NlBatch& b) {
  std::string out;
  for (const std::string& l : netlink_batch_lines(b)) out += l + "\n";
  return out;
}

// The rule lines of a text, sorted (a batch appends each chain's rules in their final order).
std::vector<std::string> rule_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (l.rfind("add rule ", 0) == 0 || l.rfind("insert rule ", 0) == 0) out.push_back(l);
  std::sort(out.begin(), out.end());
  return out;
}

NlTable& nat(FakeNft& nft) { return nft.netlink["istio-ambient-nat"]; }

struct Rig {
  FakeNft nft;
  FakeRouteOps routes;
  NftEnv env{&nft, nullptr, &routes};
};

}  // namespace

TEST_CASE("nft ambient-host: the sets come first, then istio's rules, and a re-run is a no-op") {
  Rig rig;
  const Config cfg = host_config();
  const Plan plan = build_plan(cfg);
  ApplyReport rep;
  REQUIRE(nft_apply_plan(cfg, plan, rig.env, rep).ok());
  REQUIRE(rig.nft.batches.size() == 1);
  const std::string tx = batch_text(rig.nft.batches[0]);
  CHECK(tx.rfind(kDeclareSets, 0) == 0);
  CHECK(rule_lines(tx) == rule_lines(render_nft(plan, true)));
  std::string diff, err;
  CHECK(nft_verify_plan(cfg, plan, rig.env, diff, err) == 0);
  ApplyReport again;
  REQUIRE(nft_apply_plan(cfg, plan, rig.env, again).ok());
  CHECK(rig.nft.batches.size() == 1);
  CHECK(!again.changed);
}

TEST_CASE("nft ambient-host: members do not count, and a change keeps the sets") {
  Rig rig;
  const Config cfg = host_config();
  const Plan plan = build_plan(cfg);
  rig.nft.seed(nft_netlink_form(plan));
  std::string diff, err;
  CHECK(nft_verify_plan(cfg, plan, rig.env, diff, err) == 0);
  // A chain and a counter the flags do not make: emptied and deleted, the sets declared and kept.
  nat(rig.nft).chains.push_back(chain_named("extra"));
  nat(rig.nft).objects.push_back("counter c1");
  CHECK(nft_verify_plan(cfg, plan, rig.env, diff, err) == 1);
  ApplyReport rep;
  REQUIRE(nft_apply_plan(cfg, plan, rig.env, rep).ok());
  REQUIRE(rig.nft.batches.size() == 1);
  const std::string tx = batch_text(rig.nft.batches[0]);
  CHECK(tx.rfind(kDeclareSets, 0) == 0);
  CHECK_THAT(tx, Catch::Contains("delete chain inet istio-ambient-nat postrouting\n"));
  CHECK_THAT(tx, Catch::Contains("delete chain inet istio-ambient-nat extra\n"));
  CHECK_THAT(tx, Catch::Contains("delete counter inet istio-ambient-nat c1\n"));
  CHECK(tx.find("delete table") == std::string::npos);
  CHECK(tx.find("delete set") == std::string::npos);
  CHECK(nat(rig.nft).sets.size() == 2);
}

TEST_CASE("nft ambient-host: a probe set of another type is refused, nothing run") {
  Rig rig;
  const Config cfg = host_config();
  rig.nft.seed(nft_netlink_form(build_plan(cfg)));
  for (NlSet& set : nat(rig.nft).sets)
    if (set.name == "istio-inpod-probes-v4") set.key_len = 16;  // as an ipv6_addr set's
  ApplyReport rep;
  Status s = nft_apply_plan(cfg, build_plan(cfg), rig.env, rep);
  REQUIRE(!s.ok());
  CHECK_THAT(s.error, Catch::Contains("holds set istio-inpod-probes-v4 as"));
  CHECK_THAT(s.error,
             Catch::Contains("nft delete set inet istio-ambient-nat istio-inpod-probes-v4"));
  CHECK(rig.nft.batches.empty());
}

TEST_CASE("nft ambient-host: a missing set is drift, IPv6 off drops the -v6 set, clean deletes") {
  Rig rig;
  Config cfg = host_config();
  rig.nft.seed(nft_netlink_form(build_plan(cfg)));
  std::erase_if(nat(rig.nft).sets,
                [](const NlSet& s) { return s.name == "istio-inpod-probes-v4"; });
  std::string diff, err;
  CHECK(nft_verify_plan(cfg, build_plan(cfg), rig.env, diff, err) == 1);
  CHECK_THAT(diff, Catch::Contains("+add set inet istio-ambient-nat istio-inpod-probes-v4"));
  // IPv6 off: the -v6 set (and its rule) are earlier state; the apply removes them.
  rig.nft.netlink.clear();
  rig.nft.seed(nft_netlink_form(build_plan(cfg)));
  cfg.ipv6 = Ipv6Mode::off;
  cfg.ipv6_enabled = false;
  ApplyReport rep;
  REQUIRE(nft_apply_plan(cfg, build_plan(cfg), rig.env, rep).ok());
  CHECK_THAT(batch_text(rig.nft.batches.back()),
             Catch::Contains("delete set inet istio-ambient-nat istio-inpod-probes-v6\n"));
  ApplyReport clean;
  REQUIRE(nft_cleanup_plan(cfg, build_plan(cfg), rig.env, clean).ok());
  CHECK_THAT(batch_text(rig.nft.batches.back()),
             Catch::Contains("delete table inet istio-ambient-nat\n"));
}
