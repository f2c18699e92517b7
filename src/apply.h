// Apply, cleanup and verify: the plan into the kernel, all or nothing.
//
// apply_rules reads every table the flags concern (nat, mangle, raw; IPv4, and IPv6 when on),
// computes what each must become (reconcile.h), and commits only the tables that change, one
// atomic libiptc commit each, under the xtables lock. Then it adds the TPROXY routes and ::6. If
// any commit or route step fails, every table already committed is written back from the
// snapshot taken when it was read (foreign rules byte for byte, counters included) and the routes
// this run added are removed; the error names the step and the reason.
//
// Commit order: raw, then mangle, then nat (IPv4 before IPv6 in each). raw only sets conntrack
// zones and mangle only marks (or, in TPROXY mode, diverts inbound) — nat is what sends outbound
// connections and DNS to the proxy's ports (15001, 15006, 15053). Committing nat last means the
// short mixed state never redirects to a port whose helpers (the DNS conntrack zones, the marks
// the routes key on) are not yet in place; cleanup commits in the reverse order, so capture stops
// before its helpers go.
//
// Re-runs. Same flags again: nothing is committed (a no-op; the routes are still ensured). istio
// state that differs: without --reconcile, fail and print the difference in iptables-save form;
// with it, replace istio's part in the same all-or-nothing apply. --force-apply: commit every
// table the plan touches even when nothing differs (rewriting them in place; foreign rules kept),
// and, like --reconcile, replace differing istio state instead of failing. (istio's --force-apply
// runs its restore regardless and then fails on the existing chains; snare makes it useful.)
//
// Exit codes: apply/cleanup 0 ok, 1 failure; verify 0 equal, 1 drift, 2 trouble.
#pragma once

#include <string>
#include <vector>

#include "config.h"
#include "iptc_backend.h"
#include "routes.h"
#include "rule.h"
#include "status.h"

namespace snare {

int apply_rules(const Config& cfg, const Plan& plan);
int cleanup_rules(const Config& cfg, const Plan& plan);
int verify_rules(const Config& cfg, const Plan& plan);

// --- the core, with the kernel behind seams (unit tests pass fakes) ---

struct ApplyEnv {
  TablesBackend* tables = nullptr;
  RouteOps* routes = nullptr;  // null: leave routes alone (apply, cleanup) or unchecked (verify)
  // SNARE_FAULT_AFTER_COMMITS: fail after this many table commits (after the last when fewer);
  // -1: off.
  int fault_after_commits = -1;
};

struct ApplyReport {
  std::vector<std::string> committed;  // "ipv4/nat", in commit order
  bool changed = false;                // some table was committed
  bool rolled_back = false;
  std::string diff;  // apply refused for drift (no --reconcile): the difference
  int rules = 0;     // rules in the committed tables
  double read_ms = 0, build_ms = 0, commit_ms = 0, routes_ms = 0;
};

// SNARE_FAULT_AFTER_COMMITS from the environment, -1 when unset or not a number.
int fault_after_commits_from_env();

// The routes this plan needs: TPROXY mode with inbound capture on.
bool plan_needs_tproxy_routes(const Config& cfg);

Status apply_plan(const Config& cfg, const Plan& plan, ApplyEnv& env, ApplyReport& report);
Status cleanup_plan(const Config& cfg, const Plan& plan, ApplyEnv& env, ApplyReport& report);
// 0 equal, 1 drift (diff filled), 2 trouble (error filled).
int verify_plan(const Config& cfg, const Plan& plan, ApplyEnv& env, std::string& diff,
                std::string& error);

}  // namespace snare
