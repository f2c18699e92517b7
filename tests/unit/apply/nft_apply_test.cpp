// The nftables apply, cleanup and verify on fakes: the batches it sends (their rules compared with
// istio's goldens), re-runs, replacement, rollback, the legacy refusal and migration, verify's
// difference. The kernel's side is the fake's netlink tables; that the netlink form of a plan is
// what nft makes of istio's text is tests/unit/ext's and the kernel's business
// (tests/root/nft_*.sh repeat this for real).
#include "apply/nft_apply.h"

#include <catch2/catch.hpp>

#include "apply/fault.h"
#include "builder/builder.h"
#include "ext/nft_netlink_form.h"
#include "fakes/config_of.h"
#include "fakes/fake_nft.h"
#include "fakes/fake_routes.h"
#include "fakes/fake_tables.h"
#include "render/netlink_batch.h"
#include "render/nft.h"

using namespace snare;
using namespace snare::testing;  // the fakes and their kernel listings

namespace {

const std::string kGolden = std::string(SNARE_SOURCE_DIR) + "/tests/golden/istio/";

// The Config the flags make in nftables mode.
Config nft_config_of(std::vector<std::string> args, snare::testing::FakeHostFacts host = {}) {
  args.push_back("--native-nftables");
  return snare::testing::config_of(args, std::move(host));
}

const std::vector<std::string> kEmpty = {"--enable-ipv6=false"};  // istio's "empty" case
const std::vector<std::string> kTproxy = {"-m",
                                          "TPROXY",
                                          "-b",
                                          "*",
                                          "-x",
                                          "1.1.0.0/16",
                                          "-i",
                                          "9.9.0.0/16",
                                          "--redirect-dns",
                                          "-g",
                                          "1337",
                                          "-u",
                                          "1337",
                                          "-c",
                                          "not-istio-nic",
                                          "--enable-ipv6=true",
                                          "--dns-servers=127.0.0.53"};

struct Rig {
  FakeNft nft;
  FakeTables legacy;
  FakeRouteOps routes;
  NftEnv env{&nft, &legacy, &routes};
};

std::string golden_text(const std::string& c) {
  return read_file(kGolden + "nftables-capture/" + c + ".golden");
}
// The tables the flags make, as the kernel holds them after an apply.
NlForm form_of(const std::vector<std::string>& args) {
  return nft_netlink_form(build_plan(nft_config_of(args)));
}

// The rule lines of a transaction's text or of a batch (its rules' labels), sorted: istio's text
// inserts some rules, a batch appends every chain's rules in their final order.
std::vector<std::string> rule_lines(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const std::string& l : lines)
    if (l.rfind("add rule ", 0) == 0 || l.rfind("insert rule ", 0) == 0) out.push_back(l);
  std::sort(out.begin(), out.end());
  return out;
}
std::vector<std::string> golden_rules(const std::string& c) {
  std::vector<std::string> lines;
  std::istringstream in(golden_text(c));
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return rule_lines(lines);
}
std::vector<std::string> batch_rules(const NlBatch& b) {
  return rule_lines(netlink_batch_lines(b));
}
std::string batch_text(const NlBatch& b) {
  std::string out;
  for (const std::string& l : netlink_batch_lines(b)) out += l + "\n";
  return out;
}

Status apply(Rig& rig, const Config& cfg, ApplyReport& rep) {
  return nft_apply_plan(cfg, build_plan(cfg), rig.env, rep);
}

// istio's "empty" case applied over what the rig's kernel holds, failing after its first
// commit, when the kernel holds `after_commit` (what the commit wrote, or another writer's tables).
Status apply_failing_after_commit(Rig& rig, const NlForm& after_commit, ApplyReport& rep) {
  FaultInjectingNft faulty(rig.nft, 1);
  rig.env.nft = &faulty;
  rig.nft.after_commit_form = after_commit;
  Status s = apply(rig, nft_config_of(kEmpty), rep);
  rig.env.nft = &rig.nft;
  rig.nft.after_commit_form.reset();
  return s;
}

}  // namespace

TEST_CASE("a fresh apply sends istio's rules in one batch, and the same flags again send nothing") {
  Rig rig;
  Config cfg = nft_config_of(kEmpty);
  ApplyReport rep;
  REQUIRE(apply(rig, cfg, rep).ok());
  REQUIRE(rig.nft.batches.size() == 1);
  CHECK(batch_rules(rig.nft.batches[0]) == golden_rules("empty"));
  CHECK(rep.changed);
  ApplyReport again;
  REQUIRE(apply(rig, cfg, again).ok());
  CHECK(rig.nft.batches.size() == 1);
  CHECK_FALSE(again.changed);
}

TEST_CASE("an apply names its rules with the numbers config resolved, the dry-run keeps names") {
  snare::testing::FakeHostFacts host;
  host.groups["java"] = 2020;
  Config cfg = nft_config_of({"--outbound-owner-groups", "java,202", "--enable-ipv6=false"}, host);
  Rig rig;
  ApplyReport rep;
  (void)apply(rig, cfg, rep);  // only the batch sent matters here
  REQUIRE(!rig.nft.batches.empty());
  CHECK_THAT(
      batch_text(rig.nft.batches[0]),
      Catch::Contains("skgid != 2020 skgid != 202 counter return") && !Catch::Contains("java"));
  CHECK_THAT(render_nft(build_plan(cfg)),
             Catch::Contains("skgid != java skgid != 202 counter return"));
}

TEST_CASE("earlier istio tables are deleted in the same batch that writes the new ones") {
  Rig rig;
  rig.nft.seed(form_of(kTproxy));
  Config cfg = nft_config_of(kEmpty);
  ApplyReport rep;
  REQUIRE(apply(rig, cfg, rep).ok());
  REQUIRE(rig.nft.batches.size() == 1);
  CHECK_THAT(batch_text(rig.nft.batches[0]),
             Catch::StartsWith("delete table inet istio-proxy-nat\n"
                               "delete table inet istio-proxy-mangle\n"
                               "delete table inet istio-proxy-raw\n"
                               "add table inet istio-proxy-nat\n"));
  CHECK(batch_rules(rig.nft.batches[0]) == golden_rules("empty"));
  CHECK(rig.nft.netlink.size() == 1);  // only istio-proxy-nat is left
}

TEST_CASE("a failure after the commit puts the earlier tables back in one more batch") {
  Rig rig;
  const NlForm before = form_of(kTproxy);
  rig.nft.seed(before);
  ApplyReport rep;
  Status s = apply_failing_after_commit(rig, form_of(kEmpty), rep);
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.error, Catch::Contains("SNARE_FAULT_AFTER_COMMITS=1") &&
                          Catch::Contains("nftables tables restored"));
  REQUIRE(rig.nft.batches.size() == 2);
  // The rollback deletes the table there is, then writes what was read before.
  CHECK_THAT(batch_text(rig.nft.batches[1]),
             Catch::StartsWith("delete table inet istio-proxy-nat\nadd table inet istio-proxy-"));
  CHECK(netlink_normal_form(rig.nft.read_all()) == netlink_normal_form(before));
}

TEST_CASE("a failing route step restores the tables and removes the routes it added") {
  Rig rig;
  const NlForm before = form_of(kEmpty);
  rig.nft.seed(before);
  rig.routes.fail_at = "add_tproxy_routes ipv6";
  ApplyReport rep;
  Status s = apply(rig, nft_config_of(kTproxy), rep);
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.error, Catch::Contains("TPROXY routes (ipv6)") && Catch::Contains("restored"));
  CHECK(rig.routes.empty());
  REQUIRE(rig.nft.batches.size() == 2);
  CHECK(netlink_normal_form(rig.nft.read_all()) == netlink_normal_form(before));
}

TEST_CASE("a failed batch changes nothing and quotes the kernel's message") {
  Rig rig;
  rig.nft.fail_batch_at = 1;
  ApplyReport rep;
  Status s = apply(rig, nft_config_of(kEmpty), rep);
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.error, Catch::Contains("nftables transaction: nftables: injected: add rule"));
  CHECK(rig.nft.batches.size() == 1);  // no rollback: nothing was committed
  CHECK(rig.nft.netlink.empty());
}

TEST_CASE("legacy istio rules are refused by name, --reconcile removes them and keeps the rest") {
  Rig rig;
  for (Family f : {Family::v4, Family::v6}) {
    rig.legacy.add_foreign(f, Table::nat, "ISTIO_OUTPUT",
                           Rule{Table::nat, Scope::both, "", 0, {}, JumpTarget{"RETURN"}});
    rig.legacy.add_foreign(
        f, Table::nat, "OUTPUT",
        Rule{Table::nat, Scope::both, "", 0, {ProtoMatch{"tcp"}}, JumpTarget{"ISTIO_OUTPUT"}});
    rig.legacy.add_foreign(
        f, Table::nat, "OUTPUT",
        Rule{Table::nat, Scope::both, "", 0, {ProtoMatch{"udp"}}, JumpTarget{"RETURN"}});
  }
  Config cfg = nft_config_of(kEmpty);
  ApplyReport rep;
  Status s = apply(rig, cfg, rep);
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.error, Catch::Contains("ipv4 nat (ISTIO_OUTPUT)") && Catch::Contains("--reconcile"));
  CHECK(rig.nft.batches.empty());
  CHECK(rig.legacy.writes.empty());
  cfg.reconcile = true;
  REQUIRE(apply(rig, cfg, rep).ok());
  CHECK(rig.nft.batches.size() == 1);
  const std::string left = rig.legacy.dump();
  CHECK_THAT(left, !Catch::Contains("ISTIO"));
  CHECK_THAT(left, Catch::Contains("-A OUTPUT -p udp -j RETURN"));
}

TEST_CASE("verify: 0 when the kernel holds the flags' tables, else the missing rule by its text") {
  Rig rig;
  rig.env.routes = nullptr;
  Config cfg = nft_config_of(kEmpty);
  rig.nft.seed(form_of(kEmpty));
  std::string diff, err;
  CHECK(nft_verify_plan(cfg, build_plan(cfg), rig.env, diff, err) == 0);
  CHECK(diff.empty());
  // The kernel without the rule in istio-inbound.
  for (NlChain& c : rig.nft.netlink["istio-proxy-nat"].chains)
    if (c.name == "istio-inbound") c.rules.erase(c.rules.begin());
  CHECK(nft_verify_plan(cfg, build_plan(cfg), rig.env, diff, err) == 1);
  // The missing rule by istio's own line (empty.golden's).
  CHECK_THAT(diff,
             Catch::Contains("\n+add rule inet istio-proxy-nat istio-inbound meta l4proto tcp "
                             "tcp dport 15008 counter return\n"));
}

TEST_CASE("cleanup deletes the istio tables there are, and nothing else") {
  Rig rig;
  rig.nft.seed(form_of(kTproxy));
  rig.nft.netlink["filter"] = table_named("filter");
  ApplyReport rep;
  REQUIRE(nft_cleanup_plan(nft_config_of(kTproxy), build_plan(nft_config_of(kTproxy)), rig.env, rep)
              .ok());
  REQUIRE(rig.nft.batches.size() == 1);
  CHECK_THAT(batch_text(rig.nft.batches[0]), !Catch::Contains("filter"));
  CHECK(rig.nft.netlink.size() == 1);
  ApplyReport again;
  REQUIRE(
      nft_cleanup_plan(nft_config_of(kTproxy), build_plan(nft_config_of(kTproxy)), rig.env, again)
          .ok());
  CHECK(rig.nft.batches.size() == 1);
  CHECK_FALSE(again.changed);
}

TEST_CASE(
    "iptables-nft istio chains: refused by name, --reconcile removes them in the same "
    "batch, even when the nftables tables are already right") {
  Rig rig;
  rig.nft.ip_listings["ip nat"] = kXtIstioNat;
  Config cfg = nft_config_of(kEmpty);
  rig.nft.seed(form_of(kEmpty));
  ApplyReport rep;
  Status s = apply(rig, cfg, rep);
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.error, Catch::Contains("iptables-nft's tables hold istio rules (ip nat "
                                      "(ISTIO_OUTPUT))") &&
                          Catch::Contains("--reconcile"));
  CHECK(rig.nft.batches.empty());
  cfg.reconcile = true;
  REQUIRE(apply(rig, cfg, rep).ok());
  REQUIRE(rig.nft.batches.size() == 1);
  CHECK(batch_rules(rig.nft.batches[0]) == golden_rules("empty"));
  CHECK_THAT(batch_text(rig.nft.batches[0]), Catch::EndsWith(kXtIstioNatRemoval));
  CHECK(rig.nft.ip_listings.empty());
  std::string diff, err;
  CHECK(nft_verify_plan(cfg, build_plan(cfg), rig.env, diff, err) == 0);
}

TEST_CASE("iptables-nft migration: the routes come first, and go again if the batch fails") {
  Rig rig;
  rig.nft.ip_listings["ip nat"] = kXtIstioNat;
  Config cfg = nft_config_of(kTproxy);
  cfg.reconcile = true;
  rig.nft.fail_batch_at = 1;
  ApplyReport rep;
  REQUIRE_FALSE(apply(rig, cfg, rep).ok());
  REQUIRE_FALSE(rig.routes.calls.empty());
  CHECK_THAT(rig.routes.calls[0], Catch::StartsWith("add_tproxy_routes"));
  CHECK(rig.routes.empty());  // undone
  // A route failure: nothing was sent to nftables at all.
  Rig routes_fail;
  routes_fail.nft.ip_listings["ip nat"] = kXtIstioNat;
  routes_fail.routes.fail_at = "add_tproxy_routes ipv6";
  REQUIRE_FALSE(apply(routes_fail, cfg, rep).ok());
  CHECK(routes_fail.nft.batches.empty());
  CHECK(routes_fail.routes.empty());
  CHECK(routes_fail.nft.ip_listings.size() == 1);
}

TEST_CASE("cleanup removes istio's iptables-nft chains with the istio tables") {
  Rig rig;
  rig.nft.seed(form_of(kTproxy));
  rig.nft.ip_listings["ip nat"] = kXtIstioNat;
  ApplyReport rep;
  REQUIRE(nft_cleanup_plan(nft_config_of(kTproxy), build_plan(nft_config_of(kTproxy)), rig.env, rep)
              .ok());
  REQUIRE(rig.nft.batches.size() == 1);
  CHECK_THAT(batch_text(rig.nft.batches[0]), Catch::EndsWith(kXtIstioNatRemoval));
  CHECK(rig.nft.ip_listings.empty());
}

TEST_CASE(
    "iptables-nft migration with the tables already right: a failure after the commit "
    "still puts the istio tables back") {
  Rig rig;
  rig.nft.seed(form_of(kEmpty));
  rig.nft.ip_listings["ip nat"] = kXtIstioNat;
  FaultInjectingNft faulty(rig.nft, 1);
  rig.env.nft = &faulty;
  Config cfg = nft_config_of(kEmpty);
  cfg.reconcile = true;
  ApplyReport rep;
  REQUIRE_FALSE(apply(rig, cfg, rep).ok());
  REQUIRE(rig.nft.batches.size() == 2);
  CHECK(batch_rules(rig.nft.batches[1]) == golden_rules("empty"));
}

TEST_CASE("a dormant istio table is drift, and a re-apply replaces it") {
  Rig rig;
  rig.env.routes = nullptr;
  Config cfg = nft_config_of(kEmpty);
  rig.nft.seed(form_of(kEmpty));
  rig.nft.netlink["istio-proxy-nat"].flags = 1;  // NFT_TABLE_F_DORMANT: captures nothing
  std::string diff, err;
  CHECK(nft_verify_plan(cfg, build_plan(cfg), rig.env, diff, err) == 1);
  CHECK_THAT(diff, Catch::Contains("\n-add table inet istio-proxy-nat { flags dormant ; }\n") &&
                       Catch::Contains("\n+add table inet istio-proxy-nat\n"));
  CHECK_THAT(diff, !Catch::Contains("add rule"));  // its chains were read: only the flags differ
  ApplyReport rep;
  REQUIRE(apply(rig, cfg, rep).ok());
  REQUIRE(rig.nft.batches.size() == 1);
  CHECK_THAT(
      batch_text(rig.nft.batches[0]),
      Catch::StartsWith("delete table inet istio-proxy-nat\nadd table inet istio-proxy-nat\n"));
  CHECK(rep.changed);
}

TEST_CASE("a set or a device chain inside an istio table is drift, and a re-apply removes it") {
  Rig rig;
  rig.env.routes = nullptr;
  Config cfg = nft_config_of(kEmpty);
  rig.nft.seed(form_of(kEmpty));
  rig.nft.netlink["istio-proxy-nat"].sets.push_back(ipv4_set("extra"));
  std::string diff, err;
  CHECK(nft_verify_plan(cfg, build_plan(cfg), rig.env, diff, err) == 1);
  CHECK_THAT(diff, Catch::Contains("\n-add set inet istio-proxy-nat extra { type 7 len 4"));
  ApplyReport rep;
  REQUIRE(apply(rig, cfg, rep).ok());
  CHECK(rig.nft.batches.size() == 1);
  diff.clear();
  CHECK(nft_verify_plan(cfg, build_plan(cfg), rig.env, diff, err) == 0);
  // A base chain's device is part of the chain's line.
  for (NlChain& c : rig.nft.netlink["istio-proxy-nat"].chains)
    if (c.name == "output") c.device = "eth0";
  CHECK(nft_verify_plan(cfg, build_plan(cfg), rig.env, diff, err) == 1);
  CHECK_THAT(diff, Catch::Contains("device \"eth0\""));
}

TEST_CASE("a rollback leaves tables alone that another writer changed after its commit") {
  Rig rig;
  rig.nft.seed(form_of(kTproxy));
  ApplyReport rep;
  // After the commit the kernel holds another rule set than this apply's (a concurrent writer).
  Status s = apply_failing_after_commit(rig, form_of(kTproxy), rep);
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.error, Catch::Contains("NOT restored") && Catch::Contains("concurrent"));
  CHECK(rig.nft.batches.size() == 1);  // no restore batch
  CHECK_FALSE(rep.rolled_back);
}

TEST_CASE("verify prints interface names the way nft reads them") {
  Rig rig;
  rig.env.routes = nullptr;
  Config cfg = nft_config_of({"-k", "x#", "-b", "*", "--enable-ipv6=false"});
  std::string diff, err;
  CHECK(nft_verify_plan(cfg, build_plan(cfg), rig.env, diff, err) == 1);  // nothing in the kernel
  CHECK_THAT(diff, Catch::Contains("prerouting iifname \"x#\" counter return\n"));
  CHECK_THAT(diff, Catch::Contains("oifname lo "));  // istio's plain names stay bare
}
