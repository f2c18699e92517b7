// One rule command against the kernel (see run.h).
#include "apply/run.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>

#include "apply/apply.h"
#include "apply/ipsets.h"
#include "apply/nft_apply.h"
#include "apply/xt_nft.h"
#include "base/clock.h"
#include "kernel/xtables_lock.h"

namespace snare {
namespace {

constexpr auto kLockTimeout = std::chrono::seconds(30);

const char* verb_name(RuleVerb v) {
  return v == RuleVerb::apply ? "apply" : v == RuleVerb::clean ? "cleanup" : "verify";
}

bool nftables_mode(const Plan& plan) { return plan.dialect == Dialect::nftables; }

std::string ms_text(double ms) { return fmt::format("{:.2f}", ms); }

void log_failure(const Config& cfg, const std::string& what, const std::string& diff) {
  if (cfg.log_as_json || diff.empty()) {
    LogFields f;
    if (!diff.empty()) f.emplace_back("diff", diff);
    log_line(LogLevel::error, what, f);
    return;
  }
  log_line(LogLevel::error, what);
  std::fputs(diff.c_str(), stderr);
}

// iptables mode's apply next to nftables state: true when it must stop. Only the apply: a clean
// writes no second rule set, and it is what the refusals ask for (legacy istio rules must go
// whatever nftables holds).
bool refused_for_nftables(const RunSeams& seams) {
  std::vector<NftTableInfo> tables;
  if (Status s = seams.nft_tables(tables); !s.ok()) {
    log_warn("could not check for nftables state ({}); going on with legacy iptables", s.error);
    return false;
  }
  if (tables.empty()) return false;
  log_error("apply: {}", nftables_refusal(tables));
  return true;
}

// Whether the command writes legacy tables, and so takes the xtables lock.
bool writes_legacy(RuleVerb verb, const Config& cfg, const Plan& plan) {
  if (!nftables_mode(plan)) return true;
  return verb == RuleVerb::apply && cfg.reconcile;  // the migration
}

bool take_lock(RuleVerb verb, const char* what, const std::string& path, const RunSeams& seams,
               double& waited_ms) {
  double waited = 0;
  Status s = seams.lock(what, path, kLockTimeout, waited);
  waited_ms += waited;
  if (s.ok()) return true;
  log_error("{}: {} {}: {}", verb_name(verb), what, path, s.error);
  return false;
}

// What apply and clean check and take before they touch anything. False (after logging) when
// they must not go on.
bool preflight(RuleVerb verb, const Config& cfg, const Plan& plan, const RunSeams& seams,
               double& waited_ms) {
  if (!nftables_mode(plan) && verb == RuleVerb::apply && refused_for_nftables(seams)) return false;
  if (writes_legacy(verb, cfg, plan) &&
      !take_lock(verb, "xtables lock", xtables_lock_path(cfg.network_namespace, cfg.netns_pid),
                 seams, waited_ms))
    return false;
  // After the xtables lock, always in this order, so that two --reconcile applies cannot each
  // hold one of the two.
  return !nftables_mode(plan) ||
         take_lock(verb, "nftables apply lock", seams.nft_lock_path(), seams, waited_ms);
}

LogFields timing_fields(const std::string& backend, double waited_ms, const ApplyReport& rep,
                        Clock::time_point start) {
  return {
      {"backend", backend},
      {"tables", rep.committed.empty() ? "none" : fmt::format("{}", fmt::join(rep.committed, ","))},
      {"rules", std::to_string(rep.rules)},
      {"lock_wait_ms", ms_text(waited_ms)},
      {"read_ms", ms_text(rep.read_ms)},
      {"build_ms", ms_text(rep.build_ms)},
      {"commit_ms", ms_text(rep.commit_ms)},
      {"routes_ms", ms_text(rep.routes_ms)},
      {"total_ms", ms_text(ms_since(start))}};
}

// iptables mode's clean, after the legacy tables: istio's chains that iptables-nft wrote capture
// just the same, so they go too (one transaction). Reading them needs libnftables once
// iptables-nft's tables exist; an image without it (iptables mode needs none) gets a warning, not
// a failed clean, as the nftables detection does.
Status clean_iptables_nft(NftBackend* nft, ApplyReport& rep) {
  if (!nft) return Status::Ok();
  XtIstio xt;
  if (Status s = read_xt_istio(*nft, xt); !s.ok()) {
    log_warn("could not check iptables-nft's tables for istio chains ({}); legacy tables cleaned",
             s.error);
    return Status::Ok();
  }
  if (xt.empty()) return Status::Ok();
  bool committed = false;
  if (Status s = nft->write_netlink(xt.removal, committed); !s.ok())
    return Status::Fail("legacy tables cleaned, but removing istio's iptables-nft chains (" +
                        fmt::format("{}", fmt::join(xt.found, "; ")) + "): " + s.error);
  rep.committed.push_back("iptables-nft/ISTIO_*");
  rep.changed = true;
  return Status::Ok();
}

Status step(RuleVerb verb, const Config& cfg, const Plan& plan, RuleBackends b, RouteOps* routes,
            const RunSeams& seams, ApplyReport& rep) {
  if (nftables_mode(plan)) {
    NftEnv env{b.nft, verb == RuleVerb::apply ? b.tables : nullptr, routes};
    return verb == RuleVerb::apply ? nft_apply_plan(cfg, plan, env, rep)
                                   : nft_cleanup_plan(cfg, plan, env, rep);
  }
  ApplyEnv env{b.tables, routes};
  // The plan's ipsets come before its rules (and go after them).
  std::unique_ptr<IpsetOps> ipsets = plan.sets.empty() ? nullptr : seams.ipsets();
  if (verb == RuleVerb::apply)
    return ipsets ? apply_with_ipsets(cfg, plan, env, *ipsets, rep)
                  : apply_plan(cfg, plan, env, rep);
  Status s = ipsets ? cleanup_with_ipsets(cfg, plan, env, *ipsets, rep)
                    : cleanup_plan(cfg, plan, env, rep);
  return s.ok() ? clean_iptables_nft(b.nft, rep) : s;
}

int verify(const Config& cfg, const Plan& plan, const RunSeams& seams, RuleBackends b) {
  auto routes = seams.routes();
  std::string diff, error;
  int rc = 2;
  if (nftables_mode(plan)) {
    NftEnv env{b.nft, b.tables, routes.get()};
    rc = nft_verify_plan(cfg, plan, env, diff, error);
  } else {
    ApplyEnv env{b.tables, routes.get(), b.nft};
    std::unique_ptr<IpsetOps> ipsets = plan.sets.empty() ? nullptr : seams.ipsets();
    rc = ipsets ? verify_with_ipsets(cfg, plan, env, *ipsets, diff, error)
                : verify_plan(cfg, plan, env, diff, error);
  }
  if (rc == 2) {
    log_error("verify: {}", error);
    return 2;
  }
  std::fputs(diff.c_str(), stdout);
  std::fflush(stdout);
  seams.done_line(
      rc == 0 ? "verify: the tables hold exactly what these flags create" : "verify: drift found",
      {});
  return rc;
}

}  // namespace

std::string nftables_refusal(const std::vector<NftTableInfo>& tables) {
  std::vector<std::string> deletes;
  for (const NftTableInfo& t : tables)
    deletes.push_back(fmt::format("`nft delete table {} {}`", t.family, t.name));
  return fmt::format(
      "this network namespace already holds nftables state ({}). snare's iptables mode programs "
      "the legacy back-end, which would run as a second, parallel rule set next to it. On a node "
      "that uses nftables run snare with --native-nftables (add --reconcile to move istio's "
      "rules from iptables-nft's tables to it); `snare clean` with these flags removes istio's "
      "rules from both; leftover tables go with {}",
      describe_nft_tables(tables), fmt::join(deletes, ", "));
}

int run_rule_command(RuleVerb verb, const Config& cfg, const Plan& plan, const RunSeams& seams,
                     RuleBackends b) {
  const char* name = verb_name(verb);
  if (Status s = seams.check_capability(); !s.ok()) {
    log_error("{}: {}", name, s.error);
    return verb == RuleVerb::verify ? 2 : 1;
  }
  if (verb == RuleVerb::verify) return verify(cfg, plan, seams, b);
  const auto start = Clock::now();
  double waited_ms = 0;
  if (!preflight(verb, cfg, plan, seams, waited_ms)) {
    seams.unlock();  // the xtables lock, when the nftables one was what failed
    return 1;
  }
  auto routes = seams.routes();
  ApplyReport rep;
  Status s = step(verb, cfg, plan, b, routes.get(), seams, rep);
  seams.unlock();
  const std::string backend = nftables_mode(plan) ? b.nft->name() : b.tables->name();
  LogFields fields = timing_fields(backend, waited_ms, rep, start);
  if (!s.ok()) {
    log_failure(cfg, fmt::format("{} failed: {}", name, s.error), rep.diff);
    return 1;
  }
  const bool apply = verb == RuleVerb::apply;
  seams.done_line(rep.changed ? (apply ? "applied rules" : "removed rules")
                              : (apply ? "rules already in place, nothing committed"
                                       : "nothing of these flags' rules found"),
                  fields);
  return 0;
}

}  // namespace snare
