// Apply, cleanup and verify: the plan into the kernel, all or nothing, over the seams
// (TablesBackend, RouteOps; verify also reads iptables-nft's tables through NftBackend), so that
// unit tests run them on fakes.
//
// apply_plan reads every table istio writes (raw, mangle, nat) in both families, computes what
// each must become (apply/reconcile.h), and commits only the tables that change, one atomic
// commit each. Then it sets up the TPROXY routes and ::6. If any commit or route step fails,
// every table already committed (and the one that failed) is written back from the snapshot
// taken when it was read (foreign rules byte for byte, counters included) and the route changes
// are undone; the error names the step and the reason.
//
// Commit order: raw, then mangle, then nat (IPv4 before IPv6 in each). raw only sets conntrack
// zones and mangle only marks (or, in TPROXY mode, diverts inbound); nat is what sends outbound
// connections and DNS to the proxy's ports. Committing nat last means the short mixed state never
// redirects to a port whose helpers (the DNS conntrack zones, the marks the routes key on) are
// not in place yet; cleanup commits in the reverse order, so capture stops before its helpers go.
//
// Re-runs. Same flags again: nothing is committed (the routes are still ensured). istio state
// the plan only adds to (an earlier run of the same flags killed between its commits: a table
// missing, a chain missing its last rules) is completed. istio state that differs otherwise, in
// either family: without --reconcile, fail and print the difference; with it, replace istio's
// part in the same all-or-nothing apply, earlier TPROXY routes included.
// --force-apply commits every table the plan touches even when nothing differs, and, like
// --reconcile, replaces differing istio state instead of failing.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "config/config.h"
#include "kernel/nft_backend.h"
#include "kernel/routes.h"
#include "kernel/tables.h"
#include "model/rule.h"

namespace snare {

struct ApplyEnv {
  TablesBackend* tables = nullptr;
  RouteOps* routes = nullptr;  // null: leave routes alone (apply, cleanup) or unchecked (verify)
  // verify: iptables-nft's tables, where istio's chains capture next to the legacy rules and so
  // are drift (apply/xt_nft.h). Null: not checked.
  NftBackend* nft = nullptr;
};

struct ApplyReport {
  std::vector<std::string> committed;  // "ipv4/nat", in commit order
  // Some table or route was changed: each step ORs in what it changed, none resets it.
  bool changed = false;
  bool rolled_back = false;
  std::string diff;  // apply refused for drift (no --reconcile): the difference
  size_t rules = 0;  // rules in the committed tables
  double read_ms = 0, build_ms = 0, commit_ms = 0, routes_ms = 0;
};

// The routes this configuration needs: TPROXY mode with inbound capture on.
bool plan_needs_tproxy_routes(const Config& cfg);

Status apply_plan(const Config& cfg, const Plan& plan, ApplyEnv& env, ApplyReport& report);
Status cleanup_plan(const Config& cfg, const Plan& plan, ApplyEnv& env, ApplyReport& report);
// 0 equal, 1 drift (diff filled), 2 trouble (error filled). When libnftables cannot be loaded,
// iptables-nft's tables go unchecked with a warning, not trouble.
int verify_plan(const Config& cfg, const Plan& plan, ApplyEnv& env, std::string& diff,
                std::string& error);

}  // namespace snare
