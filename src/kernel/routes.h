// TPROXY routing: the policy route that hands marked packets to the local stack, via libnl-route-3.
//
// In TPROXY mode istio marks inbound packets (mangle ISTIO_TPROXY) and needs
//   ip rule add fwmark <mark> lookup <table>
//   ip route add local default dev lo table <table>
// per family so that the marked packets are delivered locally to the proxy; with IPv6 on it also
// adds ::6/128 to lo, the source the proxy uses for inbound passthrough. RouteOps is the seam the
// apply uses: the netlink implementation here, and a recording fake in tests/unit.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/status.h"
#include "model/rule.h"

namespace snare {

class RouteOps {
 public:
  virtual ~RouteOps() = default;
  // What an add call created, so that a rollback removes only that. On failure it still tells
  // what the call had created before the failing step.
  struct Added {
    bool rule = false;
    bool route = false;
  };
  // A policy route: `ip rule fwmark <mark>[/<mask>] [pref <priority>] lookup <table>` and `ip
  // route local default dev lo table <table>`. The sidecar's TPROXY mode writes the mark alone
  // and lets the kernel number the rule; ambient mode writes 0x111/0xfff, pref 32764, table 100.
  struct TproxyRoute {
    uint32_t mark = 0;
    uint32_t table = 0;
    uint32_t mask = 0xffffffff;
    uint32_t priority = 0;  // 0: the kernel numbers it (32765 in a fresh namespace)
    // ambient (istio-cni): no IPv6 route when lo has IPv6 disabled (net.ipv6.conf.lo.
    // disable_ipv6 = 1), where the kernel refuses it; the rule is written all the same.
    bool v6_route_needs_lo_ipv6 = false;
    bool operator==(const TproxyRoute&) const = default;
  };
  // Adds the rule and the route; idempotent: an existing rule or route is kept and reported as
  // not created.
  virtual Status add_tproxy_routes(Family f, const TproxyRoute& r, Added& created) = 0;
  // Removes the parts `which` names: every such rule, and the route; what is already gone is
  // fine. Cleanup removes both; a rollback only what its add created.
  virtual Status del_tproxy_routes(Family f, const TproxyRoute& r, const Added& which) = 0;
  // What of the above is in place (for `snare verify`).
  virtual Status query_tproxy_routes(Family f, const TproxyRoute& r, Added& present) = 0;
  // Every routing setup of the shape istio's TPROXY mode leaves: a rule `fwmark M lookup T` with
  // no other selector (and no mask), whose table T holds exactly `local default dev lo`. Nothing
  // else routes that way, so one found that the flags do not ask for is earlier istio state.
  virtual Status list_tproxy_routes(Family f, std::vector<TproxyRoute>& out) = 0;
  virtual Status query_passthrough_addr(bool& present) = 0;
  // ::6/128 on lo (istio does this when IPv6 is on); an existing address is not created.
  virtual Status add_passthrough_addr(bool& created) = 0;
  virtual Status del_passthrough_addr() = 0;
};

// The libnl implementation. Its netlink socket is opened on the first call, in the calling
// thread's network namespace at that moment, and stays bound to it: make the first call after
// enter_netns. The rule is added the way istio adds it (no priority, so the kernel numbers it like
// `ip rule add` does, 32765 in a fresh namespace); because such a rule is never "the same" to the
// kernel, idempotency comes from listing the rules first and skipping an equal one.
std::unique_ptr<RouteOps> make_netlink_route_ops();

}  // namespace snare
