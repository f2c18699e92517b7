// FakeRouteOps: an in-memory RouteOps that records every call, for tests of the apply.
//
// It keeps the state the netlink implementation would leave (which rules, routes and the ::6
// address exist), so that "added twice = same state" and "rollback removes only what this call
// created" can be asserted without root; `fail_at` makes one call fail, to exercise rollbacks.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "kernel/routes.h"

namespace snare::testing {

class FakeRouteOps : public RouteOps {
 public:
  // One line per call, e.g. "add_tproxy_routes ipv4 1337 133", "del_passthrough_addr".
  std::vector<std::string> calls;
  // Live state.
  std::set<std::tuple<Family, uint32_t, uint32_t>> rules;  // (family, mark, table)
  std::set<std::pair<Family, uint32_t>> routes;            // (family, table)
  bool passthrough_addr = false;
  // When set, the call whose line starts with this text fails (after recording it) and changes
  // nothing, e.g. "add_tproxy_routes ipv6" or "add_passthrough_addr".
  std::string fail_at;
  std::string fail_message = "injected failure";

  Status add_tproxy_routes(Family f, const TproxyRoute& r, Added& created) override {
    const uint32_t mark = r.mark, table = r.table;
    created = {};
    if (record(fmt::format("add_tproxy_routes {} {} {}", family_name(f), mark, table))) {
      return Status::Fail(fail_message);
    }
    created.rule = rules.insert({f, mark, table}).second;
    created.route = routes.insert({f, table}).second;
    return Status::Ok();
  }

  Status del_tproxy_routes(Family f, const TproxyRoute& r, const Added& which) override {
    const uint32_t mark = r.mark, table = r.table;
    if (record(fmt::format("del_tproxy_routes {} {} {}", family_name(f), mark, table))) {
      return Status::Fail(fail_message);
    }
    if (which.rule) rules.erase({f, mark, table});
    if (which.route) routes.erase({f, table});
    return Status::Ok();
  }

  Status query_tproxy_routes(Family f, const TproxyRoute& r, Added& present) override {
    const uint32_t mark = r.mark, table = r.table;
    present.rule = rules.count({f, mark, table}) > 0;
    present.route = routes.count({f, table}) > 0;
    return Status::Ok();
  }
  Status list_tproxy_routes(Family f, std::vector<TproxyRoute>& out) override {
    out.clear();
    // A rule whose table holds the local default route: what an istio TPROXY setup leaves.
    for (const auto& [fam, mark, table] : rules)
      if (fam == f && routes.count({f, table})) out.push_back({mark, table, 0xffffffff, 0});
    return Status::Ok();
  }
  Status query_passthrough_addr(bool& present) override {
    present = passthrough_addr;
    return Status::Ok();
  }

  Status add_passthrough_addr(bool& created) override {
    created = false;
    if (record("add_passthrough_addr")) return Status::Fail(fail_message);
    created = !passthrough_addr;
    passthrough_addr = true;
    return Status::Ok();
  }

  Status del_passthrough_addr() override {
    if (record("del_passthrough_addr")) return Status::Fail(fail_message);
    passthrough_addr = false;
    return Status::Ok();
  }

  bool empty() const { return rules.empty() && routes.empty() && !passthrough_addr; }

 private:
  // Records the call; true when it is the one to fail.
  bool record(std::string line) {
    bool fail = !fail_at.empty() && line.rfind(fail_at, 0) == 0;
    calls.push_back(std::move(line));
    return fail;
  }
};

}  // namespace snare::testing
