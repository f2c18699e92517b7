// RouteOps seam: the recording fake behaves like the netlink implementation (idempotent adds that
// report what they created, deletes that tolerate absence), so apply tests can rely on it.
#include "routes.h"

#include <catch2/catch.hpp>

#include "fake_route_ops.h"

using snare::Family;
using snare::RouteOps;
using snare::testing::FakeRouteOps;

TEST_CASE("fake tproxy routes: a second add creates nothing and keeps the state", "[routes]") {
  const Family f = GENERATE(Family::v4, Family::v6);
  FakeRouteOps ops;
  RouteOps::Added first, second;
  REQUIRE(ops.add_tproxy_routes(f, 1337, 133, first).ok());
  CHECK(first.rule);
  CHECK(first.route);
  auto rules = ops.rules;
  auto routes = ops.routes;
  REQUIRE(ops.add_tproxy_routes(f, 1337, 133, second).ok());
  CHECK_FALSE(second.rule);
  CHECK_FALSE(second.route);
  CHECK(ops.rules == rules);
  CHECK(ops.routes == routes);
  CHECK(ops.calls.size() == 2);
  CHECK(ops.calls[0] == std::string("add_tproxy_routes ") + snare::family_name(f) + " 1337 133");
}

TEST_CASE("fake tproxy routes: delete removes, and deleting again is fine", "[routes]") {
  const Family f = GENERATE(Family::v4, Family::v6);
  FakeRouteOps ops;
  RouteOps::Added created;
  REQUIRE(ops.add_tproxy_routes(f, 1337, 133, created).ok());
  REQUIRE(ops.del_tproxy_routes(f, 1337, 133, {true, true}).ok());
  CHECK(ops.empty());
  CHECK(ops.del_tproxy_routes(f, 1337, 133, {true, true}).ok());
}

TEST_CASE("fake tproxy routes: a partial delete removes only the named part", "[routes]") {
  const Family f = GENERATE(Family::v4, Family::v6);
  FakeRouteOps ops;
  RouteOps::Added created;
  REQUIRE(ops.add_tproxy_routes(f, 1337, 133, created).ok());
  REQUIRE(ops.del_tproxy_routes(f, 1337, 133, {false, true}).ok());
  CHECK(ops.rules.size() == 1);
  CHECK(ops.routes.empty());
}

TEST_CASE("fake passthrough address: created once", "[routes]") {
  FakeRouteOps ops;
  bool created = false;
  REQUIRE(ops.add_passthrough_addr(created).ok());
  CHECK(created);
  REQUIRE(ops.add_passthrough_addr(created).ok());
  CHECK_FALSE(created);
  REQUIRE(ops.del_passthrough_addr().ok());
  CHECK_FALSE(ops.passthrough_addr);
}

TEST_CASE("fake route ops: an injected failure changes nothing and is recorded", "[routes]") {
  FakeRouteOps ops;
  ops.fail_at = "add_tproxy_routes ipv6";
  RouteOps::Added created;
  REQUIRE(ops.add_tproxy_routes(Family::v4, 1337, 133, created).ok());
  auto s = ops.add_tproxy_routes(Family::v6, 1337, 133, created);
  CHECK_FALSE(s.ok());
  CHECK(s.error == "injected failure");
  CHECK_FALSE(created.rule);
  CHECK_FALSE(created.route);
  CHECK(ops.rules.size() == 1);
  CHECK(ops.calls.back() == "add_tproxy_routes ipv6 1337 133");
}
