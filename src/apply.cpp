// Apply, cleanup, verify: orchestration over TablesBackend and RouteOps. See apply.h for the
// guarantees (all or nothing, commit order, re-runs) and reconcile.h for what counts as istio's.
#include "apply.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "log.h"
#include "nft_detect.h"
#include "privileges.h"
#include "reconcile.h"
#include "xtables_lock.h"

namespace snare {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}
std::string ms_text(double ms) { return fmt::format("{:.2f}", ms); }

// Apply order (see apply.h): the tables that only help capture first, nat (the capture) last.
constexpr Table kApplyOrder[] = {Table::raw, Table::mangle, Table::nat};
constexpr auto kLockTimeout = std::chrono::seconds(30);

struct Work {
  const RuleSet* set = nullptr;
  Table table = Table::nat;
  TablePlan tp;
  bool commit = false;
  std::string label() const {
    return fmt::format("{}/{}", family_name(set->family), table_name(table));
  }
};

std::vector<const RuleSet*> families(const Plan& plan) {
  std::vector<const RuleSet*> out{&plan.v4};
  if (plan.ipv6) out.push_back(&plan.v6);
  return out;
}

Status read_all(const Plan& plan, ApplyEnv& env, std::vector<Work>& work) {
  for (Table t : kApplyOrder)
    for (const RuleSet* set : families(plan)) {
      Work w;
      w.set = set;
      w.table = t;
      if (Status s = env.tables->read(set->family, t, w.tp.current); !s.ok()) return s;
      work.push_back(std::move(w));
    }
  return Status::Ok();
}

int count_rules(const TableState& t) {
  int n = 0;
  for (const ChainState& c : t.chains) n += static_cast<int>(c.entries.size());
  return n;
}

bool has_planned(const TableState& t) {
  for (const ChainState& c : t.chains)
    for (const EntryState& e : c.entries)
      if (e.planned) return true;
  return false;
}

// Commits the tables marked in `order`, rolling every committed one back on the first failure.
// `fault_after` injects a failure after that many commits (after the last when fewer).
Status commit_all(std::vector<Work*>& order, ApplyEnv& env, ApplyReport& rep,
                  std::vector<Work*>& done) {
  int total = 0;
  for (Work* w : order) total += w->commit ? 1 : 0;
  const int fault_at = env.fault_after_commits < 0 ? -1 : std::min(env.fault_after_commits, total);
  auto fault = [&]() -> Status {
    return Status::Fail(
        fmt::format("SNARE_FAULT_AFTER_COMMITS={}: failure injected after {} table commit(s)",
                    env.fault_after_commits, done.size()));
  };
  if (fault_at == 0) return fault();
  for (Work* w : order) {
    if (!w->commit) continue;
    if (Status s = env.tables->write(w->tp.desired); !s.ok())
      return Status::Fail(fmt::format("commit {}: {}", w->label(), s.error));
    done.push_back(w);
    rep.committed.push_back(w->label());
    rep.rules += count_rules(w->tp.desired);
    if (static_cast<int>(done.size()) == fault_at) return fault();
  }
  return Status::Ok();
}

// Writes the snapshots of the committed tables back, newest first. Returns "" or what failed.
std::string roll_back(std::vector<Work*>& done, ApplyEnv& env, ApplyReport& rep) {
  std::string errors;
  for (auto it = done.rbegin(); it != done.rend(); ++it) {
    if (Status s = env.tables->write((*it)->tp.current); !s.ok())
      errors += fmt::format("; rollback of {} failed too: {}", (*it)->label(), s.error);
  }
  if (!done.empty()) rep.rolled_back = true;
  return errors;
}

// Commits the tables in `order`; when one fails, writes back every table already committed and
// says so. Shared by apply and cleanup, which differ only in the order.
Status commit_or_roll_back(std::vector<Work*>& order, ApplyEnv& env, ApplyReport& rep,
                           std::vector<Work*>& done) {
  auto t = Clock::now();
  Status s = commit_all(order, env, rep, done);
  rep.commit_ms = ms_since(t);
  rep.changed = !done.empty();
  if (s.ok()) return s;
  return Status::Fail(s.error + roll_back(done, env, rep) +
                      (done.empty() ? "" : "; tables restored"));
}

struct RoutesAdded {
  std::vector<std::pair<Family, RouteOps::Added>> tproxy;
  bool passthrough = false;
};

void undo_routes(const Config& cfg, ApplyEnv& env, const RoutesAdded& added) {
  for (auto& [fam, a] : added.tproxy)
    if (a.rule || a.route)
      if (Status s = env.routes->del_tproxy_routes(fam, cfg.tproxy_mark_value,
                                                   cfg.tproxy_route_table_value, a);
          !s.ok())
        log_warn("undoing the {} TPROXY routes: {}", family_name(fam), s.error);
  if (added.passthrough)
    if (Status s = env.routes->del_passthrough_addr(); !s.ok())
      log_warn("removing ::6 from lo: {}", s.error);
}

Status add_routes(const Config& cfg, const Plan& plan, ApplyEnv& env, RoutesAdded& added) {
  if (!env.routes) return Status::Ok();
  if (plan_needs_tproxy_routes(cfg))
    for (const RuleSet* set : families(plan)) {
      RouteOps::Added a;
      Status s = env.routes->add_tproxy_routes(set->family, cfg.tproxy_mark_value,
                                               cfg.tproxy_route_table_value, a);
      added.tproxy.emplace_back(set->family, a);
      if (!s.ok())
        return Status::Fail(
            fmt::format("TPROXY routes ({}): {}", family_name(set->family), s.error));
    }
  if (plan.ipv6) {
    bool created = false;
    Status s = env.routes->add_passthrough_addr(created);
    added.passthrough = created;
    if (!s.ok()) return Status::Fail(fmt::format("::6/128 on lo: {}", s.error));
  }
  return Status::Ok();
}

}  // namespace

int fault_after_commits_from_env() {
  const char* v = std::getenv("SNARE_FAULT_AFTER_COMMITS");
  if (!v || !*v) return -1;
  char* end = nullptr;
  long n = std::strtol(v, &end, 10);
  if (*end || n < 0 || n > 1000) return -1;
  return static_cast<int>(n);
}

bool plan_needs_tproxy_routes(const Config& cfg) {
  return cfg.mode == InterceptMode::tproxy && (cfg.inbound_ports_all || !cfg.inbound_ports.empty());
}

Status apply_plan(const Config& cfg, const Plan& plan, ApplyEnv& env, ApplyReport& rep) {
  auto t = Clock::now();
  std::vector<Work> work;
  if (Status s = read_all(plan, env, work); !s.ok()) return s;
  rep.read_ms = ms_since(t);

  t = Clock::now();
  const bool replace = cfg.reconcile || cfg.force_apply;
  bool residue = false, differs = false;
  for (Work& w : work) {
    if (Status s = plan_table(*w.set, w.table, replace, w.tp); !s.ok()) return s;
    residue |= w.tp.residue;
    differs |= !w.tp.same;
  }
  if (residue && differs && !replace) {
    for (Work& w : work)
      if (!w.tp.same) rep.diff += diff_tables(w.tp.current, w.tp.desired);
    rep.build_ms = ms_since(t);
    return Status::Fail(
        "istio rules from an earlier run differ from what these flags create; rerun with "
        "--reconcile to replace them (the difference follows in iptables-save form)");
  }
  std::vector<Work*> order;
  for (Work& w : work) {
    w.commit = !w.tp.same || (cfg.force_apply && (w.tp.residue || has_planned(w.tp.desired)));
    order.push_back(&w);
  }
  rep.build_ms = ms_since(t);

  std::vector<Work*> done;
  Status s = commit_or_roll_back(order, env, rep, done);
  if (!s.ok()) return s;

  t = Clock::now();
  RoutesAdded added;
  s = add_routes(cfg, plan, env, added);
  rep.routes_ms = ms_since(t);
  if (!s.ok()) {
    undo_routes(cfg, env, added);
    std::string rb = roll_back(done, env, rep);
    return Status::Fail(s.error + rb + (done.empty() ? "" : "; tables restored"));
  }
  return Status::Ok();
}

Status cleanup_plan(const Config& cfg, const Plan& plan, ApplyEnv& env, ApplyReport& rep) {
  auto t = Clock::now();
  std::vector<Work> work;
  if (Status s = read_all(plan, env, work); !s.ok()) return s;
  rep.read_ms = ms_since(t);
  t = Clock::now();
  std::vector<Work*> order;
  for (Work& w : work) {
    if (Status s = cleanup_table(*w.set, w.table, w.tp); !s.ok()) return s;
    w.commit = !w.tp.same;
  }
  // Reverse of the apply order: nat (the capture) goes first.
  for (auto it = work.rbegin(); it != work.rend(); ++it) order.push_back(&*it);
  rep.build_ms = ms_since(t);
  std::vector<Work*> done;
  Status s = commit_or_roll_back(order, env, rep, done);
  if (!s.ok()) return s;

  t = Clock::now();
  std::string errors;
  if (env.routes) {
    if (plan_needs_tproxy_routes(cfg))
      for (const RuleSet* set : families(plan))
        if (Status r = env.routes->del_tproxy_routes(set->family, cfg.tproxy_mark_value,
                                                     cfg.tproxy_route_table_value, {true, true});
            !r.ok())
          errors += fmt::format("{}remove TPROXY routes ({}): {}", errors.empty() ? "" : "; ",
                                family_name(set->family), r.error);
    if (plan.ipv6)
      if (Status r = env.routes->del_passthrough_addr(); !r.ok())
        errors += fmt::format("{}remove ::6/128 from lo: {}", errors.empty() ? "" : "; ", r.error);
  }
  rep.routes_ms = ms_since(t);
  if (!errors.empty()) return Status::Fail("rules removed, but " + errors);
  return Status::Ok();
}

int verify_plan(const Config& cfg, const Plan& plan, ApplyEnv& env, std::string& diff,
                std::string& error) {
  std::vector<Work> work;
  if (Status s = read_all(plan, env, work); !s.ok()) {
    error = s.error;
    return 2;
  }
  int rc = 0;
  for (Work& w : work) {
    if (Status s = plan_table(*w.set, w.table, false, w.tp); !s.ok()) {
      error = s.error;
      return 2;
    }
    if (!w.tp.same) {
      diff += diff_tables(w.tp.current, w.tp.desired);
      rc = 1;
    }
  }
  // The routing half of the apply: TPROXY's rule and route, and ::6 on lo.
  if (env.routes) {
    if (plan_needs_tproxy_routes(cfg)) {
      for (const RuleSet* set : families(plan)) {
        RouteOps::Added present;
        if (Status s = env.routes->query_tproxy_routes(set->family, cfg.tproxy_mark_value,
                                                       cfg.tproxy_route_table_value, present);
            !s.ok()) {
          error = s.error;
          return 2;
        }
        const char* ip = set->family == Family::v4 ? "ip" : "ip -6";
        if (!present.rule) {
          diff += fmt::format("+{} rule fwmark {} lookup {}\n", ip, cfg.tproxy_mark_value,
                              cfg.tproxy_route_table_value);
          rc = 1;
        }
        if (!present.route) {
          diff += fmt::format("+{} route local default dev lo table {}\n", ip,
                              cfg.tproxy_route_table_value);
          rc = 1;
        }
      }
    }
    if (plan.ipv6) {
      bool present = false;
      if (Status s = env.routes->query_passthrough_addr(present); !s.ok()) {
        error = s.error;
        return 2;
      }
      if (!present) {
        diff += "+ip -6 addr ::6/128 dev lo\n";
        rc = 1;
      }
    }
  }
  return rc;
}

// --- the real thing: privileges, nftables check, lock, libiptc, netlink ------------------------

namespace {

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

// Shared preamble of apply and cleanup. Returns false (after logging) when they must not go on.
bool preflight(const char* verb, XtablesLock& lock, const Config& cfg) {
  if (Status s = check_net_admin(); !s.ok()) {
    log_error("{}: {}", verb, s.error);
    return false;
  }
  bool has_nft = false;
  std::string what;
  if (Status s = detect_nftables(has_nft, what); !s.ok()) {
    log_warn("could not check for nftables state ({}); going on with legacy iptables", s.error);
  } else if (has_nft) {
    log_error(
        "{}: this network namespace already holds nftables state ({}). snare programs the legacy "
        "iptables back-end, which would run as a second, parallel rule set next to it; remove the "
        "nftables state first (nft delete table FAMILY NAME) or use istio's nftables mode",
        verb, what);
    return false;
  }
  const std::string path = xtables_lock_path(cfg.network_namespace, cfg.netns_pid);
  if (Status s =
          lock.acquire(path, std::chrono::duration_cast<std::chrono::milliseconds>(kLockTimeout));
      !s.ok()) {
    log_error("{}: xtables lock {}: {}", verb, path, s.error);
    return false;
  }
  return true;
}

LogFields timing_fields(const TablesBackend& b, const XtablesLock& lock, const ApplyReport& rep,
                        Clock::time_point start) {
  return {
      {"backend", b.name()},
      {"tables", rep.committed.empty() ? "none" : fmt::format("{}", fmt::join(rep.committed, ","))},
      {"rules", std::to_string(rep.rules)},
      {"lock_wait_ms", ms_text(lock.waited_ms())},
      {"read_ms", ms_text(rep.read_ms)},
      {"build_ms", ms_text(rep.build_ms)},
      {"commit_ms", ms_text(rep.commit_ms)},
      {"routes_ms", ms_text(rep.routes_ms)},
      {"total_ms", ms_text(ms_since(start))}};
}

}  // namespace

namespace {

using PlanStep = Status (*)(const Config&, const Plan&, ApplyEnv&, ApplyReport&);

// apply and cleanup alike: preflight and lock, the step against libiptc and netlink, one log line.
int run_locked(const char* verb, PlanStep step, const Config& cfg, const Plan& plan,
               const char* changed_msg, const char* unchanged_msg) {
  const auto start = Clock::now();
  XtablesLock lock;
  if (!preflight(verb, lock, cfg)) return 1;
  auto backend = make_iptc_backend();
  auto routes = make_netlink_route_ops();
  ApplyEnv env{backend.get(), routes.get(), fault_after_commits_from_env()};
  ApplyReport rep;
  Status s = step(cfg, plan, env, rep);
  lock.release();
  LogFields fields = timing_fields(*backend, lock, rep, start);
  if (!s.ok()) {
    log_failure(cfg, fmt::format("{} failed: {}", verb, s.error), rep.diff);
    return 1;
  }
  log_line(LogLevel::info, rep.changed ? changed_msg : unchanged_msg, fields);
  return 0;
}

}  // namespace

int apply_rules(const Config& cfg, const Plan& plan) {
  return run_locked("apply", apply_plan, cfg, plan, "applied rules",
                    "rules already in place, nothing committed");
}

int cleanup_rules(const Config& cfg, const Plan& plan) {
  return run_locked("cleanup", cleanup_plan, cfg, plan, "removed rules",
                    "nothing of these flags' rules found");
}

int verify_rules(const Config& cfg, const Plan& plan) {
  if (Status s = check_net_admin(); !s.ok()) {
    log_error("verify: {}", s.error);
    return 2;
  }
  auto backend = make_iptc_backend();
  auto routes = make_netlink_route_ops();
  ApplyEnv env{backend.get(), routes.get(), -1};
  std::string diff, error;
  int rc = verify_plan(cfg, plan, env, diff, error);
  if (rc == 2) {
    log_error("verify: {}", error);
    return 2;
  }
  std::fputs(diff.c_str(), stdout);
  std::fflush(stdout);
  log_info("{}", rc == 0 ? "verify: the tables hold exactly what these flags create"
                         : "verify: drift found");
  return rc;
}

}  // namespace snare
