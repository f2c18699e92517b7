// The apply core with fake tables and routes: all or nothing, fault knob, re-runs, reconcile,
// cleanup and verify, without root. tests/root/apply_rollback.sh repeats the key ones for real.
#include "apply/apply.h"

#include <catch2/catch.hpp>

#include "apply/fault.h"
#include "apply/reconcile.h"
#include "builder/builder.h"
#include "fakes/config_of.h"
#include "fakes/fake_routes.h"
#include "fakes/fake_tables.h"

using namespace snare;
using snare::testing::FakeRouteOps;
using snare::testing::FakeTables;
using snare::testing::sidecar_config;

namespace {

Config tproxy_config() {
  Config c = sidecar_config();
  c.mode = InterceptMode::tproxy;
  c.redirect_dns = true;
  c.capture_all_dns = true;
  c.exclude_interfaces = {"not-istio-nic"};
  c.ipv6 = Ipv6Mode::on;
  c.ipv6_enabled = true;
  return c;
}

Config redirect_config() {
  Config c = tproxy_config();
  c.mode = InterceptMode::redirect;
  c.exclude_interfaces.clear();
  return c;
}

void add_foreign(FakeTables& fake) {
  for (Family f : {Family::v4, Family::v6}) {
    fake.add_foreign(f, Table::nat, "OUTPUT",
                     Rule{Table::nat,
                          Scope::both,
                          "OUTPUT",
                          0,
                          {ProtoMatch{"udp"}, PortMatch{"udp", false, false, "9999"}},
                          JumpTarget{"RETURN"}});
    fake.add_foreign(f, Table::mangle, "FOREIGN",
                     Rule{Table::mangle, Scope::both, "FOREIGN", 0, {}, JumpTarget{"ACCEPT"}});
  }
}

struct Rig {
  FakeTables tables;
  FakeRouteOps routes;
  ApplyEnv env{&tables, &routes};
};

// The tables a fresh apply of `cfg` makes over add_foreign's rules: what a --reconcile run
// over earlier state must leave.
std::string fresh_dump(const Config& cfg) {
  Rig fresh;
  add_foreign(fresh.tables);
  ApplyReport rep;
  REQUIRE(apply_plan(cfg, build_plan(cfg), fresh.env, rep).ok());
  return fresh.tables.dump();
}

// The start most tests share (TEST_CASE_METHOD): fresh fakes, then apply_fresh applies one
// Config's plan to them and requires success, keeping the Config, plan and report.
class Applied {
 protected:
  Rig rig;
  Config cfg;
  Plan plan;
  ApplyReport rep;

  void apply_fresh(Config c) {
    cfg = std::move(c);
    plan = build_plan(cfg);
    REQUIRE(apply_plan(cfg, plan, rig.env, rep).ok());
  }
};

}  // namespace

TEST_CASE_METHOD(Applied,
                 "apply commits raw, mangle, nat in that order, a second apply commits nothing") {
  apply_fresh(tproxy_config());
  CHECK(rep.committed == std::vector<std::string>{"ipv4/raw", "ipv6/raw", "ipv4/mangle",
                                                  "ipv6/mangle", "ipv4/nat", "ipv6/nat"});
  CHECK(rig.routes.rules.size() == 2);
  CHECK(rig.routes.passthrough_addr);
  const std::string after = rig.tables.dump();
  ApplyReport again;
  REQUIRE(apply_plan(cfg, plan, rig.env, again).ok());
  CHECK(again.committed.empty());
  CHECK(!again.changed);
  CHECK(rig.tables.dump() == after);
  std::string diff, err;
  CHECK(verify_plan(cfg, plan, rig.env, diff, err) == 0);
  CHECK(diff.empty());
}

TEST_CASE("the fault decorator fails the Nth commit after it went through, all comes back") {
  // TPROXY v4+v6 with DNS commits six tables: raw, mangle, nat in both families.
  for (int n : {0, 1, 2, 5, 6}) {
    Rig rig;
    add_foreign(rig.tables);
    const std::string before = rig.tables.dump();
    FaultInjectingTables faulty(rig.tables, n);
    ApplyEnv env{&faulty, &rig.routes};
    Config cfg = tproxy_config();
    ApplyReport rep;
    Status s = apply_plan(cfg, build_plan(cfg), env, rep);
    INFO("N=" << n << ": " << s.error);
    CHECK(!s.ok());
    CHECK_THAT(s.error, Catch::Contains("SNARE_FAULT_AFTER_COMMITS"));
    CHECK(static_cast<int>(rep.committed.size()) == std::max(n - 1, 0));
    CHECK(rig.tables.dump() == before);
    CHECK(rig.routes.empty());
  }
  // Past the last commit nothing is injected.
  Rig rig;
  FaultInjectingTables faulty(rig.tables, 7);
  ApplyEnv env{&faulty, &rig.routes};
  Config cfg = tproxy_config();
  ApplyReport rep;
  CHECK(apply_plan(cfg, build_plan(cfg), env, rep).ok());
}

TEST_CASE("a failing commit restores the tables committed before it and names the table") {
  Rig rig;
  add_foreign(rig.tables);
  const std::string before = rig.tables.dump();
  rig.tables.fail_write_at = 4;  // ipv6/mangle
  Config cfg = tproxy_config();
  ApplyReport rep;
  Status s = apply_plan(cfg, build_plan(cfg), rig.env, rep);
  REQUIRE(!s.ok());
  CHECK_THAT(s.error, Catch::Contains("commit ipv6/mangle") && Catch::Contains("Invalid argument"));
  CHECK(rep.rolled_back);
  CHECK(rig.tables.dump() == before);
}

TEST_CASE("a failing route step rolls the tables back and removes the routes it added") {
  Rig rig;
  add_foreign(rig.tables);
  const std::string before = rig.tables.dump();
  rig.routes.fail_at = "add_tproxy_routes ipv6";
  Config cfg = tproxy_config();
  ApplyReport rep;
  Status s = apply_plan(cfg, build_plan(cfg), rig.env, rep);
  REQUIRE(!s.ok());
  CHECK_THAT(s.error, Catch::Contains("TPROXY routes (ipv6)"));
  CHECK(rig.tables.dump() == before);
  CHECK(rig.routes.empty());
}

TEST_CASE("a rollback keeps the TPROXY rule or route that was there before the apply") {
  Rig rig;
  // An ip rule left by an earlier run, but no route: the apply adds only the route.
  rig.routes.rules.insert({Family::v4, 1337, 133});
  rig.routes.fail_at = "add_tproxy_routes ipv6";
  Config cfg = tproxy_config();
  ApplyReport rep;
  REQUIRE_FALSE(apply_plan(cfg, build_plan(cfg), rig.env, rep).ok());
  CHECK(rig.routes.rules.count({Family::v4, 1337, 133}) == 1);
  CHECK(rig.routes.routes.empty());
}

TEST_CASE_METHOD(Applied, "different istio state: refused with a diff, replaced with --reconcile") {
  add_foreign(rig.tables);
  apply_fresh(tproxy_config());
  const std::string applied = rig.tables.dump();

  Config rd = redirect_config();
  ApplyReport refused;
  Status s = apply_plan(rd, build_plan(rd), rig.env, refused);
  REQUIRE(!s.ok());
  CHECK_THAT(s.error, Catch::Contains("--reconcile"));
  CHECK_THAT(refused.diff, Catch::Contains("-A ISTIO_TPROXY"));
  CHECK(rig.tables.dump() == applied);

  rd.reconcile = true;
  ApplyReport replaced;
  REQUIRE(apply_plan(rd, build_plan(rd), rig.env, replaced).ok());
  // Equal to a fresh apply of the same flags over the same foreign rules.
  CHECK(rig.tables.dump() == fresh_dump(rd));
}

TEST_CASE_METHOD(
    Applied, "a run killed between commits is completed by the same flags, without --reconcile") {
  add_foreign(rig.tables);
  apply_fresh(tproxy_config());
  const std::string whole = rig.tables.dump();
  // raw and mangle committed, nat not (nor the routes): nat as it was before the run.
  FakeTables before;
  add_foreign(before);
  for (Family f : {Family::v4, Family::v6})
    rig.tables.tables[{f, Table::nat}] = before.tables[{f, Table::nat}];
  rig.routes = FakeRouteOps{};

  ApplyReport rerun;
  Status s = apply_plan(cfg, plan, rig.env, rerun);
  INFO(s.error << rerun.diff);
  REQUIRE(s.ok());
  CHECK(rerun.committed == std::vector<std::string>{"ipv4/nat", "ipv6/nat"});
  CHECK(rig.tables.dump() == whole);
  CHECK(rig.routes.rules.size() == 2);
  std::string diff, err;
  CHECK(verify_plan(cfg, plan, rig.env, diff, err) == 0);
}

TEST_CASE_METHOD(Applied,
                 "force-apply (--force-apply) rewrites the tables even when nothing differs") {
  apply_fresh(redirect_config());
  const std::string after = rig.tables.dump();
  cfg.force_apply = true;
  ApplyReport forced;
  REQUIRE(apply_plan(cfg, plan, rig.env, forced).ok());
  CHECK(!forced.committed.empty());
  CHECK(rig.tables.dump() == after);
}

TEST_CASE_METHOD(
    Applied, "cleanup removes what the flags create, routes and ::6 too, and keeps foreign rules") {
  add_foreign(rig.tables);
  const std::string before = rig.tables.dump();
  apply_fresh(tproxy_config());
  ApplyReport clean;
  REQUIRE(cleanup_plan(cfg, plan, rig.env, clean).ok());
  CHECK(clean.committed.front() == "ipv6/nat");  // reverse order: the capture goes first
  CHECK(rig.tables.dump() == before);
  CHECK(rig.routes.empty());
  std::string diff, err;
  CHECK(verify_plan(cfg, plan, rig.env, diff, err) == 1);
  CHECK_THAT(diff, Catch::Contains("+-A ISTIO_TPROXY"));
}

TEST_CASE_METHOD(Applied, "verify reports a manual change as drift in iptables-save form") {
  apply_fresh(redirect_config());
  TableModel& nat = rig.tables.tables[{Family::v4, Table::nat}];
  Chain* out = nat.find("ISTIO_OUTPUT");
  REQUIRE(out);
  REQUIRE(!out->entries.empty());
  out->entries.pop_back();
  std::string diff, err;
  CHECK(verify_plan(cfg, plan, rig.env, diff, err) == 1);
  CHECK_THAT(diff, Catch::Contains("+-A ISTIO_OUTPUT"));
  CHECK_THAT(diff, Catch::Contains("*nat"));
}

TEST_CASE_METHOD(Applied, "verify reports a missing TPROXY route and ::6 as drift") {
  apply_fresh(tproxy_config());
  std::string diff, err;
  REQUIRE(verify_plan(cfg, plan, rig.env, diff, err) == 0);
  CHECK(diff.empty());
  rig.routes.routes.erase({Family::v6, 133});
  rig.routes.passthrough_addr = false;
  CHECK(verify_plan(cfg, plan, rig.env, diff, err) == 1);
  CHECK_THAT(diff, Catch::Contains("+ip -6 route local default dev lo table 133"));
  CHECK_THAT(diff, Catch::Contains("+ip -6 addr ::6/128 dev lo"));
  CHECK_THAT(diff, !Catch::Contains("+ip rule"));
}

TEST_CASE_METHOD(
    Applied,
    "istio state in the family the flags leave out is drift, --reconcile and clean remove it") {
  add_foreign(rig.tables);
  apply_fresh(tproxy_config());
  const Config dual = cfg;
  Config v4 = redirect_config();
  v4.ipv6 = Ipv6Mode::off;
  v4.ipv6_enabled = false;
  std::string diff, err;
  CHECK(verify_plan(v4, build_plan(v4), rig.env, diff, err) == 1);
  CHECK_THAT(diff, Catch::Contains("# ipv6 nat") && Catch::Contains("-:ISTIO_OUTPUT"));
  CHECK_THAT(diff, Catch::Contains("-ip -6 rule fwmark 0x539 lookup 133"));
  ApplyReport refused;
  CHECK_FALSE(apply_plan(v4, build_plan(v4), rig.env, refused).ok());
  v4.reconcile = true;
  ApplyReport replaced;
  REQUIRE(apply_plan(v4, build_plan(v4), rig.env, replaced).ok());
  CHECK(rig.routes.rules.empty());
  CHECK(rig.routes.routes.empty());
  // Equal to a fresh apply of the IPv4-only flags over the same foreign rules.
  CHECK(rig.tables.dump() == fresh_dump(v4));
  CHECK(verify_plan(v4, build_plan(v4), rig.env, diff = "", err) == 0);

  // clean with IPv6 off over a dual-stack apply takes the IPv6 istio part too (in IPv4 it
  // removes what its own flags create, as always), and the TPROXY routes.
  Rig again;
  add_foreign(again.tables);
  REQUIRE(apply_plan(dual, build_plan(dual), again.env, rep).ok());
  ApplyReport clean;
  REQUIRE(cleanup_plan(v4, build_plan(v4), again.env, clean).ok());
  for (const auto& [key, table] : again.tables.tables)
    if (key.first == Family::v6) CHECK_THAT(render_save_table(table), !Catch::Contains("ISTIO"));
  CHECK(again.routes.rules.empty());
}

TEST_CASE_METHOD(Applied, "a TPROXY route of another mark and table is earlier istio state") {
  apply_fresh(redirect_config());
  RouteOps::Added a;
  REQUIRE(rig.routes.add_tproxy_routes(Family::v4, {0x777, 150}, a).ok());
  std::string diff, err;
  CHECK(verify_plan(cfg, plan, rig.env, diff, err) == 1);
  CHECK_THAT(diff, Catch::Contains("-ip rule fwmark 0x777 lookup 150"));
  // A plain re-run leaves routes alone; --reconcile takes them away.
  REQUIRE(apply_plan(cfg, plan, rig.env, rep).ok());
  CHECK(rig.routes.rules.size() == 1);
  cfg.reconcile = true;
  REQUIRE(apply_plan(cfg, plan, rig.env, rep).ok());
  CHECK(rig.routes.rules.empty());
}
