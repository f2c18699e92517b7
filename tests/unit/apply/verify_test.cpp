// verify's exit-code rule for both backends: 0 same, 1 drift, 2 trouble, trouble winning over
// drift, and the routing half read only after the tables were.
#include "apply/verify.h"

#include <catch2/catch.hpp>

#include "fakes/fake_routes.h"

using namespace snare;
using snare::testing::FakeRouteOps;

TEST_CASE("verify_outcome: 0 without a difference, 1 with one, 2 when a part could not be read") {
  const Config cfg;
  const Plan plan;
  std::string diff, error;
  CHECK(verify_outcome(Status::Ok(), cfg, plan, nullptr, diff, error) == 0);
  diff = "-A OUTPUT -j ISTIO_OUTPUT\n";
  CHECK(verify_outcome(Status::Ok(), cfg, plan, nullptr, diff, error) == 1);
  CHECK(error.empty());
  CHECK(verify_outcome(Status::Fail("cannot read nat"), cfg, plan, nullptr, diff, error) == 2);
  CHECK(error == "cannot read nat");
}

TEST_CASE("verify_outcome: the routes' drift counts, tables that could not be read stop there") {
  const Config cfg;  // no TPROXY: an istio route from earlier flags is drift
  const Plan plan;
  FakeRouteOps routes;
  routes.rules.insert({Family::v4, 0x539, 133});
  routes.routes.insert({Family::v4, 133});
  std::string diff, error;
  CHECK(verify_outcome(Status::Ok(), cfg, plan, &routes, diff, error) == 1);
  CHECK(diff == "-ip rule fwmark 0x539 lookup 133\n-ip route local default dev lo table 133\n");
  diff.clear();
  CHECK(verify_outcome(Status::Fail("cannot read nat"), cfg, plan, &routes, diff, error) == 2);
  CHECK(diff.empty());
}
