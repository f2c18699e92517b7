// The rule commands against the kernel (see run.h).
#include "apply/run.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>

#include "apply/apply.h"
#include "base/log.h"
#include "kernel/nft_detect.h"
#include "kernel/privileges.h"
#include "kernel/routes.h"
#include "kernel/xtables_lock.h"

namespace snare {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kLockTimeout = std::chrono::seconds(30);

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

// What apply and cleanup check before they touch anything. False (after logging) when they must
// not go on.
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
        "{}: this network namespace already holds nftables state ({}). snare's iptables mode "
        "programs the legacy back-end, which would run as a second, parallel rule set next to it; "
        "use --native-nftables on nodes that use nftables, or remove the nftables state first "
        "(nft delete table FAMILY NAME)",
        verb, what);
    return false;
  }
  const std::string path = xtables_lock_path(cfg.network_namespace, cfg.netns_pid);
  if (Status s = lock.acquire(path, kLockTimeout); !s.ok()) {
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
      {"total_ms",
       ms_text(std::chrono::duration<double, std::milli>(Clock::now() - start).count())}};
}

using PlanStep = Status (*)(const Config&, const Plan&, ApplyEnv&, ApplyReport&);

// apply and cleanup alike: preflight and lock, the step against the kernel, one log line.
int run_locked(const char* verb, PlanStep step, const Config& cfg, const Plan& plan,
               TablesBackend& tables, const char* changed_msg, const char* unchanged_msg) {
  const auto start = Clock::now();
  XtablesLock lock;
  if (!preflight(verb, lock, cfg)) return 1;
  auto routes = make_netlink_route_ops();
  ApplyEnv env{&tables, routes.get()};
  ApplyReport rep;
  Status s = step(cfg, plan, env, rep);
  lock.release();
  LogFields fields = timing_fields(tables, lock, rep, start);
  if (!s.ok()) {
    log_failure(cfg, fmt::format("{} failed: {}", verb, s.error), rep.diff);
    return 1;
  }
  log_line(LogLevel::info, rep.changed ? changed_msg : unchanged_msg, fields);
  return 0;
}

}  // namespace

int apply_rules(const Config& cfg, const Plan& plan, TablesBackend& tables) {
  return run_locked("apply", apply_plan, cfg, plan, tables, "applied rules",
                    "rules already in place, nothing committed");
}

int cleanup_rules(const Config& cfg, const Plan& plan, TablesBackend& tables) {
  return run_locked("cleanup", cleanup_plan, cfg, plan, tables, "removed rules",
                    "nothing of these flags' rules found");
}

int verify_rules(const Config& cfg, const Plan& plan, TablesBackend& tables) {
  if (Status s = check_net_admin(); !s.ok()) {
    log_error("verify: {}", s.error);
    return 2;
  }
  auto routes = make_netlink_route_ops();
  ApplyEnv env{&tables, routes.get()};
  std::string diff, error;
  const int rc = verify_plan(cfg, plan, env, diff, error);
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
