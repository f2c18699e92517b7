// Apply, cleanup, verify over TablesBackend and RouteOps. See apply.h for the guarantees (all or
// nothing, commit order, re-runs) and reconcile.h for what counts as istio's.
#include "apply/apply.h"

#include <fmt/format.h>

#include <algorithm>

#include "apply/routing.h"
#include "apply/tables.h"
#include "apply/verify.h"
#include "apply/xt_nft.h"
#include "base/clock.h"
#include "base/log.h"
#include "render/diff.h"

namespace snare {
namespace {

std::vector<TableWork*> in_order(std::vector<TableWork>& work, bool reverse) {
  std::vector<TableWork*> order;
  for (TableWork& w : work) order.push_back(&w);
  if (reverse) std::reverse(order.begin(), order.end());
  return order;
}

bool has_planned(const TableModel& t) {
  for (const Chain& c : t.chains)
    for (const Entry& e : c.entries)
      if (e.planned) return true;
  return false;
}

// Sidecar and ambient rules in one namespace would both capture the same traffic, so an apply or
// cleanup of one refuses to touch the other's: ambient's chains are ISTIO_PRERT (ISTIO_POSTRT on
// a node), the sidecar's ISTIO_INBOUND, ISTIO_REDIRECT and the rest; ISTIO_OUTPUT is both's.
Status check_other_program(const Plan& plan, const std::vector<TableWork>& work) {
  const bool ambient = plan.rule_set != RuleSet::sidecar;
  std::vector<std::string> found;
  for (const TableWork& w : work)
    for (const Chain& c : w.tp.current.chains) {
      if (!is_istio_chain(c.name) || c.name == "ISTIO_OUTPUT") continue;
      const bool ambient_chain = c.name == "ISTIO_PRERT" || c.name == "ISTIO_POSTRT";
      if (ambient_chain != ambient) found.push_back(fmt::format("{} {}", w.label(), c.name));
    }
  if (found.empty()) return Status::Ok();
  return Status::Fail(fmt::format(
      "this network namespace holds istio's {} rules ({}); {} rules next to them would capture "
      "the same traffic twice. Remove them first (`snare {}clean` with the flags that made "
      "them)",
      ambient ? "sidecar" : "ambient", fmt::join(found, ", "), ambient ? "ambient" : "sidecar",
      ambient ? "" : "ambient "));
}

// Plans every table; refuses (with the difference) when earlier istio state differs and the
// flags do not say to replace it. istio state the plan only adds to is not refused: it is
// what the same flags left when a run was killed between commits (istio's injector passes no
// --reconcile, so a restarted init container must complete it).
Status plan_apply(const Config& cfg, const Plan& plan, std::vector<TableWork>& work,
                  ApplyReport& rep) {
  const bool replace = cfg.reconcile || cfg.force_apply || cfg.replace_earlier_rules;
  bool residue = false, differs = false, only_adds = true;
  for (TableWork& w : work) {
    if (Status s = plan_table(plan, replace, w.tp); !s.ok()) return s;
    residue |= w.tp.residue;
    differs |= !w.tp.same;
    only_adds &= w.tp.only_adds;
    w.commit = !w.tp.same || (cfg.force_apply && (w.tp.residue || has_planned(w.tp.desired)));
  }
  if (!residue || !differs || replace || only_adds) return Status::Ok();
  for (TableWork& w : work)
    if (!w.tp.same) rep.diff += diff_tables(w.tp.current, w.tp.desired);
  return Status::Fail(
      "istio rules from an earlier run differ from what these flags create; rerun with "
      "--reconcile to replace them (the difference follows in iptables-save form)");
}

}  // namespace

Status apply_plan(const Config& cfg, const Plan& plan, ApplyEnv& env, ApplyReport& rep) {
  auto t = Clock::now();
  std::vector<TableWork> work;
  if (Status s = read_tables(*env.tables, work); !s.ok()) return s;
  rep.read_ms = ms_since(t);
  if (Status s = check_other_program(plan, work); !s.ok()) return s;
  t = Clock::now();
  Status s = plan_apply(cfg, plan, work, rep);
  rep.build_ms = ms_since(t);
  if (!s.ok()) return s;

  std::vector<TableWork*> done;
  if (s = commit_or_roll_back(in_order(work, false), *env.tables, rep, done); !s.ok()) return s;
  if (!env.routes) return Status::Ok();
  s = apply_routes_step(cfg, plan, *env.routes,
                        cfg.reconcile || cfg.force_apply || cfg.replace_earlier_rules, rep);
  if (s.ok()) return s;
  const std::string rb = roll_back(done, *env.tables, rep);
  return Status::Fail(s.error + rb + (done.empty() ? "" : "; tables restored"));
}

Status cleanup_plan(const Config& cfg, const Plan& plan, ApplyEnv& env, ApplyReport& rep) {
  auto t = Clock::now();
  std::vector<TableWork> work;
  if (Status s = read_tables(*env.tables, work); !s.ok()) return s;
  rep.read_ms = ms_since(t);
  if (Status s = check_other_program(plan, work); !s.ok()) return s;
  t = Clock::now();
  for (TableWork& w : work) {
    if (Status s = cleanup_table(plan, w.tp); !s.ok()) return s;
    w.commit = !w.tp.same;
  }
  rep.build_ms = ms_since(t);
  std::vector<TableWork*> done;
  // Reverse of the apply order: nat (the capture) goes first.
  if (Status s = commit_or_roll_back(in_order(work, true), *env.tables, rep, done); !s.ok())
    return s;
  if (!env.routes) return Status::Ok();
  if (Status s = cleanup_routes_step(cfg, plan, *env.routes, rep); !s.ok())
    return Status::Fail("rules removed, but " + s.error);
  return Status::Ok();
}

int verify_plan(const Config& cfg, const Plan& plan, ApplyEnv& env, std::string& diff,
                std::string& error) {
  std::vector<TableWork> work;
  Status s = read_tables(*env.tables, work);
  for (size_t i = 0; s.ok() && i < work.size(); ++i) {
    s = plan_table(plan, false, work[i].tp);
    if (s.ok() && !work[i].tp.same) diff += diff_tables(work[i].tp.current, work[i].tp.desired);
  }
  std::string not_checked;
  if (s.ok() && env.nft) s = xt_istio_drift(*env.nft, diff, not_checked);
  if (!not_checked.empty())
    log_warn(
        "verify: iptables-nft's tables were not checked for istio chains, so the result speaks "
        "for the legacy tables only ({})",
        not_checked);
  return verify_outcome(s, cfg, plan, env.routes, diff, error);
}

}  // namespace snare
