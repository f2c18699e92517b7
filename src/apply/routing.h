// The routing half of an apply, cleanup or verify: TPROXY's policy routes (per family) and ::6 on
// lo, over the RouteOps seam, with what a rollback must undo. Internal to src/apply/.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "apply/apply.h"

namespace snare {

using TproxyRoute = RouteOps::TproxyRoute;

// The route changes one run made, so that a rollback undoes exactly those.
struct RouteChanges {
  struct Added {
    Family family;
    TproxyRoute route;
    RouteOps::Added parts;  // the rule, the route: what this run created
  };
  std::vector<Added> added;                             // the routes the flags need
  std::vector<std::pair<Family, TproxyRoute>> removed;  // earlier istio routes taken away
  bool passthrough_added = false;                       // ::6/128 on lo
  bool any() const;
};

// istio's policy routes in `f` of the namespace `routes` reads: the sidecar TPROXY mode's (by
// their shape) and ambient's (its fixed rule and table), where both rule and route are there
// (snare trace --network-namespace).
Status istio_policy_routes(Family f, RouteOps& routes, std::vector<TproxyRoute>& out);

// The TPROXY routes the flags need (mark and table), in each family of the plan.
std::vector<std::pair<Family, TproxyRoute>> needed_routes(const Config& cfg, const Plan& plan);

// Earlier istio routes that the flags do not need: the sidecar's TPROXY routes in either family,
// or ambient's rule and table in a family the flags do not enable.
Status stale_routes(const Config& cfg, const Plan& plan, RouteOps& routes,
                    std::vector<std::pair<Family, TproxyRoute>>& out);

// Adds what the flags need and, with `remove_stale`, removes earlier istio routes. On failure
// `changes` says what to undo.
Status set_up_routes(const Config& cfg, const Plan& plan, RouteOps& routes, bool remove_stale,
                     RouteChanges& changes);
// Puts back what `changes` records, best effort, logging what could not be undone.
void undo_routes(RouteOps& routes, const RouteChanges& changes);

// Cleanup's part: the flags' routes, earlier istio routes, and ::6 when the flags use IPv6.
Status remove_routes(const Config& cfg, const Plan& plan, RouteOps& routes, RouteChanges& changes);

// The routes step of an apply, timed into the report: set up what the flags need and, on failure,
// undo what this run changed before returning the error.
Status apply_routes_step(const Config& cfg, const Plan& plan, RouteOps& routes, bool remove_stale,
                         ApplyReport& report);
// The routes step of a cleanup, timed into the report.
Status cleanup_routes_step(const Config& cfg, const Plan& plan, RouteOps& routes,
                           ApplyReport& report);

// verify's part: "+" lines for missing routes and ::6, "-" lines for earlier istio routes.
Status routes_drift(const Config& cfg, const Plan& plan, RouteOps& routes, std::string& diff);

}  // namespace snare
