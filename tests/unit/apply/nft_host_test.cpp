// ambient-host in nftables mode on fakes: the probe sets are objects of inet istio-ambient-nat,
// declared before the rules; a change empties the table (flush, chains deleted) instead of
// deleting it, so the sets and their members survive; a set of another definition is refused;
// verify compares the sets (not their members); clean deletes the table. The kernel's side is
// the listing nft printed for istio's hostprobe_ipv6 golden (ambient-kernel-form).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "apply/nft_apply.h"
#include "builder/builder.h"
#include "fakes/fake_nft.h"
#include "fakes/fake_routes.h"
#include "render/nft.h"

using namespace snare;
using namespace snare::testing;

namespace {

const std::string kForm = std::string(SNARE_SOURCE_DIR) +
                          "/tests/golden/istio/ambient-kernel-form/nft-hostprobe_ipv6.json";

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

// The kernel form with `extra` items appended and a member in -v4.
std::string listing_with(const std::vector<nlohmann::json>& extra) {
  nlohmann::json doc = nlohmann::json::parse(read_file(kForm));
  for (auto& item : doc["nftables"])
    if (item.contains("set") && item["set"]["name"] == "istio-inpod-probes-v4")
      item["set"]["elem"] = {{{"elem", {{"val", "10.0.0.7"}, {"comment", "pod-a"}}}}};
  for (const auto& e : extra) doc["nftables"].push_back(e);
  return doc.dump();
}

const char* kDeclareSets =
    "add table inet istio-ambient-nat\n"
    "add set inet istio-ambient-nat istio-inpod-probes-v4 { type ipv4_addr ; comment \"UUID of "
    "the pods that are part of ambient mesh\" ; }\n"
    "add set inet istio-ambient-nat istio-inpod-probes-v6 { type ipv6_addr ; comment \"UUID of "
    "the pods that are part of ambient mesh\" ; }\n"
    "flush table inet istio-ambient-nat\n";

struct Rig {
  FakeNft nft;
  FakeRouteOps routes;
  NftEnv env{&nft, nullptr, &routes};
};

}  // namespace

TEST_CASE(
    "nft ambient-host: the sets come first, then istio's transaction, and a re-run is a no-op") {
  Rig rig;
  const Config cfg = host_config();
  const Plan plan = build_plan(cfg);
  rig.nft.after_commit = read_file(kForm);
  ApplyReport rep;
  REQUIRE(nft_apply_plan(cfg, plan, rig.env, rep).ok());
  REQUIRE(rig.nft.runs.size() == 1);
  CHECK(rig.nft.runs[0] == kDeclareSets + render_nft(plan, true));
  std::string diff, err;
  CHECK(nft_verify_plan(cfg, plan, rig.env, diff, err) == 0);
  ApplyReport again;
  REQUIRE(nft_apply_plan(cfg, plan, rig.env, again).ok());
  CHECK(rig.nft.runs.size() == 1);
  CHECK(!again.changed);
}

TEST_CASE("nft ambient-host: members do not count, and a change keeps the sets") {
  Rig rig;
  const Config cfg = host_config();
  const Plan plan = build_plan(cfg);
  rig.nft.set_ruleset(listing_with({}));
  std::string diff, err;
  CHECK(nft_verify_plan(cfg, plan, rig.env, diff, err) == 0);  // a member is not drift
  // A chain and a counter the flags do not make: emptied and deleted, the sets declared and kept.
  rig.nft.set_ruleset(listing_with(
      {{{"chain", {{"family", "inet"}, {"table", "istio-ambient-nat"}, {"name", "extra"}}}},
       {{"counter",
         {{"family", "inet"}, {"table", "istio-ambient-nat"}, {"name", "c1"}, {"packets", 0}}}}}));
  CHECK(nft_verify_plan(cfg, plan, rig.env, diff, err) == 1);
  ApplyReport rep;
  REQUIRE(nft_apply_plan(cfg, plan, rig.env, rep).ok());
  REQUIRE(rig.nft.runs.size() == 1);
  const std::string& tx = rig.nft.runs[0];
  CHECK(tx.rfind(kDeclareSets, 0) == 0);
  CHECK_THAT(tx, Catch::Contains("delete chain inet istio-ambient-nat postrouting\n"));
  CHECK_THAT(tx, Catch::Contains("delete chain inet istio-ambient-nat extra\n"));
  CHECK_THAT(tx, Catch::Contains("delete counter inet istio-ambient-nat c1\n"));
  CHECK(tx.find("delete table") == std::string::npos);
  CHECK(tx.find("delete set") == std::string::npos);
}

TEST_CASE("nft ambient-host: a probe set of another type is refused, nothing run") {
  Rig rig;
  const Config cfg = host_config();
  nlohmann::json doc = nlohmann::json::parse(read_file(kForm));
  for (auto& item : doc["nftables"])
    if (item.contains("set") && item["set"]["name"] == "istio-inpod-probes-v4")
      item["set"]["type"] = "ipv6_addr";
  rig.nft.set_ruleset(doc.dump());
  ApplyReport rep;
  Status s = nft_apply_plan(cfg, build_plan(cfg), rig.env, rep);
  REQUIRE(!s.ok());
  CHECK_THAT(s.error, Catch::Contains("holds set istio-inpod-probes-v4 as"));
  CHECK_THAT(s.error,
             Catch::Contains("nft delete set inet istio-ambient-nat istio-inpod-probes-v4"));
  CHECK(rig.nft.runs.empty());
}

TEST_CASE("nft ambient-host: a missing set is drift, IPv6 off drops the -v6 set, clean deletes") {
  Rig rig;
  Config cfg = host_config();
  nlohmann::json doc = nlohmann::json::parse(read_file(kForm));
  nlohmann::json kept = nlohmann::json::array();
  for (auto& item : doc["nftables"])
    if (!(item.contains("set") && item["set"]["name"] == "istio-inpod-probes-v4"))
      kept.push_back(item);
  rig.nft.set_ruleset(nlohmann::json{{"nftables", kept}}.dump());
  std::string diff, err;
  CHECK(nft_verify_plan(cfg, build_plan(cfg), rig.env, diff, err) == 1);
  CHECK_THAT(diff, Catch::Contains("+add set inet istio-ambient-nat istio-inpod-probes-v4"));
  // IPv6 off: the -v6 set (and its rule) are earlier state; the apply removes them.
  cfg.ipv6 = Ipv6Mode::off;
  cfg.ipv6_enabled = false;
  rig.nft.set_ruleset(read_file(kForm));
  ApplyReport rep;
  REQUIRE(nft_apply_plan(cfg, build_plan(cfg), rig.env, rep).ok());
  CHECK_THAT(rig.nft.runs.back(),
             Catch::Contains("delete set inet istio-ambient-nat istio-inpod-probes-v6\n"));
  ApplyReport clean;
  REQUIRE(nft_cleanup_plan(cfg, build_plan(cfg), rig.env, clean).ok());
  CHECK_THAT(rig.nft.runs.back(), Catch::Contains("delete table inet istio-ambient-nat\n"));
}
