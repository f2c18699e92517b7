// `snare ambient` through the apply core with fake tables and routes: ambient's routing (its
// ip rule and table 100 per family, no ::6), re-runs, cleanup, and the refusal to run over the
// sidecar's rules (or the sidecar over ambient's).
#include <catch2/catch.hpp>

#include "apply/apply.h"
#include "builder/builder.h"
#include "fakes/config_of.h"
#include "fakes/fake_routes.h"
#include "fakes/fake_tables.h"

using namespace snare;
using snare::testing::FakeRouteOps;
using snare::testing::FakeTables;
using snare::testing::sidecar_config;

namespace {

Config ambient_config(bool ipv6) {
  Config c;
  c.command = Command::ambient;
  c.ipv6 = ipv6 ? Ipv6Mode::on : Ipv6Mode::off;
  c.ipv6_enabled = ipv6;
  return c;
}

struct Rig {
  FakeTables tables;
  FakeRouteOps routes;
  ApplyEnv env{&tables, &routes};
};

}  // namespace

TEST_CASE("ambient's apply writes its ip rule and route per family, not ::6, once") {
  Rig rig;
  const Config cfg = ambient_config(true);
  const Plan plan = build_plan(cfg);
  ApplyReport rep;
  REQUIRE(apply_plan(cfg, plan, rig.env, rep).ok());
  CHECK(rig.routes.rules.count({Family::v4, 0x111, 100}) == 1);
  CHECK(rig.routes.rules.count({Family::v6, 0x111, 100}) == 1);
  CHECK(rig.routes.routes.count({Family::v6, 100}) == 1);
  CHECK(!rig.routes.passthrough_addr);
  ApplyReport again;
  REQUIRE(apply_plan(cfg, plan, rig.env, again).ok());
  CHECK(again.committed.empty());
  CHECK(!again.changed);
  std::string diff, err;
  CHECK(verify_plan(cfg, plan, rig.env, diff, err) == 0);
  rig.routes.rules.erase({Family::v6, 0x111, 100});
  CHECK(verify_plan(cfg, plan, rig.env, diff, err) == 1);
  CHECK_THAT(diff, Catch::Contains("+ip -6 rule fwmark 0x111/0xfff pref 32764 lookup 100"));
  ApplyReport clean;
  REQUIRE(cleanup_plan(cfg, plan, rig.env, clean).ok());
  CHECK(rig.routes.empty());
}

TEST_CASE("with IPv6 off ambient routes IPv4 only") {
  Rig rig;
  const Config cfg = ambient_config(false);
  ApplyReport rep;
  REQUIRE(apply_plan(cfg, build_plan(cfg), rig.env, rep).ok());
  CHECK(rig.routes.rules.size() == 1);
  CHECK(rig.routes.rules.count({Family::v4, 0x111, 100}) == 1);
}

TEST_CASE("ambient and sidecar rules refuse each other, naming the chains, changing nothing") {
  Rig rig;
  const Config sidecar = sidecar_config(), ambient = ambient_config(false);
  ApplyReport rep;
  REQUIRE(apply_plan(sidecar, build_plan(sidecar), rig.env, rep).ok());
  ApplyReport refused;
  Status s = apply_plan(ambient, build_plan(ambient), rig.env, refused);
  CHECK(!s.ok());
  CHECK_THAT(s.error, Catch::Contains("sidecar rules (ipv4/nat ISTIO_INBOUND"));
  CHECK(refused.committed.empty());
  CHECK(rig.routes.rules.empty());
  ApplyReport clean_refused;
  CHECK(!cleanup_plan(ambient, build_plan(ambient), rig.env, clean_refused).ok());
  CHECK(clean_refused.committed.empty());

  Rig other;
  REQUIRE(apply_plan(ambient, build_plan(ambient), other.env, rep).ok());
  ApplyReport sidecar_refused;
  s = apply_plan(sidecar, build_plan(sidecar), other.env, sidecar_refused);
  CHECK_THAT(s.error,
             Catch::Contains("ambient rules (ipv4/raw ISTIO_PRERT, ipv4/mangle ISTIO_PRERT"));
  CHECK(sidecar_refused.committed.empty());
}

TEST_CASE(
    "ambient with IPv6 switched off removes its IPv6 ip rule and route, and verify sees them") {
  Rig rig;
  Config on = ambient_config(true);
  on.replace_earlier_rules = true;
  ApplyReport rep;
  REQUIRE(apply_plan(on, build_plan(on), rig.env, rep).ok());
  REQUIRE(rig.routes.rules.count({Family::v6, 0x111, 100}) == 1);
  Config off = ambient_config(false);
  off.replace_earlier_rules = true;
  const Plan plan = build_plan(off);
  std::string diff, err;
  CHECK(verify_plan(off, plan, rig.env, diff, err) == 1);
  CHECK_THAT(diff, Catch::Contains("-ip -6 rule fwmark 0x111/0xfff pref 32764 lookup 100"));
  ApplyReport second;
  REQUIRE(apply_plan(off, plan, rig.env, second).ok());
  CHECK(rig.routes.rules.count({Family::v6, 0x111, 100}) == 0);
  CHECK(rig.routes.routes.count({Family::v6, 100}) == 0);
  CHECK(rig.routes.rules.count({Family::v4, 0x111, 100}) == 1);
  diff.clear();
  CHECK(verify_plan(off, plan, rig.env, diff, err) == 0);
}
