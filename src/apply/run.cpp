// The rule commands against the kernel (see run.h).
#include "apply/run.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <functional>

#include "apply/apply.h"
#include "apply/nft_apply.h"
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

// iptables mode's refusal of a namespace with nftables state: true when it must stop.
bool nftables_state_present(const char* verb) {
  bool has_nft = false;
  std::string what;
  if (Status s = detect_nftables(has_nft, what); !s.ok()) {
    log_warn("could not check for nftables state ({}); going on with legacy iptables", s.error);
    return false;
  }
  if (has_nft)
    log_error(
        "{}: this network namespace already holds nftables state ({}). snare's iptables mode "
        "programs the legacy back-end, which would run as a second, parallel rule set next to it; "
        "use --native-nftables on nodes that use nftables, or remove the nftables state first "
        "(nft delete table FAMILY NAME)",
        verb, what);
  return has_nft;
}

// What apply and cleanup check before they touch anything. False (after logging) when they must
// not go on. nftables mode has no nftables-state refusal (that state is its own) and takes the
// xtables lock only when it may write legacy tables (--reconcile's migration).
bool preflight(const char* verb, XtablesLock& lock, const Config& cfg) {
  if (Status s = check_net_admin(); !s.ok()) {
    log_error("{}: {}", verb, s.error);
    return false;
  }
  if (cfg.native_nftables && !cfg.reconcile) return true;
  if (!cfg.native_nftables && nftables_state_present(verb)) return false;
  const std::string path = xtables_lock_path(cfg.network_namespace, cfg.netns_pid);
  if (Status s = lock.acquire(path, kLockTimeout); !s.ok()) {
    log_error("{}: xtables lock {}: {}", verb, path, s.error);
    return false;
  }
  return true;
}

LogFields timing_fields(const std::string& backend, const XtablesLock& lock, const ApplyReport& rep,
                        Clock::time_point start) {
  return {
      {"backend", backend},
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

using Step = std::function<Status(RouteOps*, ApplyReport&)>;

// apply and cleanup alike: preflight and lock, the step against the kernel, one log line.
int run_locked(const char* verb, const Config& cfg, const std::string& backend, const Step& step,
               const char* changed_msg, const char* unchanged_msg) {
  const auto start = Clock::now();
  XtablesLock lock;
  if (!preflight(verb, lock, cfg)) return 1;
  auto routes = make_netlink_route_ops();
  ApplyReport rep;
  Status s = step(routes.get(), rep);
  lock.release();
  LogFields fields = timing_fields(backend, lock, rep, start);
  if (!s.ok()) {
    log_failure(cfg, fmt::format("{} failed: {}", verb, s.error), rep.diff);
    return 1;
  }
  log_line(LogLevel::info, rep.changed ? changed_msg : unchanged_msg, fields);
  return 0;
}

int run_verify(const std::function<int(RouteOps*, std::string&, std::string&)>& step) {
  if (Status s = check_net_admin(); !s.ok()) {
    log_error("verify: {}", s.error);
    return 2;
  }
  auto routes = make_netlink_route_ops();
  std::string diff, error;
  const int rc = step(routes.get(), diff, error);
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

}  // namespace

int apply_rules(const Config& cfg, const Plan& plan, TablesBackend& tables) {
  auto step = [&](RouteOps* routes, ApplyReport& rep) {
    ApplyEnv env{&tables, routes};
    return apply_plan(cfg, plan, env, rep);
  };
  return run_locked("apply", cfg, tables.name(), step, "applied rules",
                    "rules already in place, nothing committed");
}

int cleanup_rules(const Config& cfg, const Plan& plan, TablesBackend& tables) {
  auto step = [&](RouteOps* routes, ApplyReport& rep) {
    ApplyEnv env{&tables, routes};
    return cleanup_plan(cfg, plan, env, rep);
  };
  return run_locked("cleanup", cfg, tables.name(), step, "removed rules",
                    "nothing of these flags' rules found");
}

int verify_rules(const Config& cfg, const Plan& plan, TablesBackend& tables) {
  return run_verify([&](RouteOps* routes, std::string& diff, std::string& error) {
    ApplyEnv env{&tables, routes};
    return verify_plan(cfg, plan, env, diff, error);
  });
}

// Serialises nftables applies and cleanups into one namespace (see nft_apply_lock_path), from
// before the first read to after the routes. Holds the lock until `step` is done.
Status with_nft_lock(const std::function<Status()>& step) {
  XtablesLock lock("nftables apply lock");
  const std::string path = nft_apply_lock_path();
  if (Status s = lock.acquire(path, kLockTimeout); !s.ok()) return s;
  return step();
}

int nft_apply_rules(const Config& cfg, const Plan& plan, NftBackends b) {
  auto step = [&](RouteOps* routes, ApplyReport& rep) {
    NftEnv env{&b.nft, &b.legacy, routes};
    return with_nft_lock([&] { return nft_apply_plan(cfg, plan, env, rep); });
  };
  return run_locked("apply", cfg, b.nft.name(), step, "applied rules",
                    "rules already in place, nothing committed");
}

int nft_cleanup_rules(const Config& cfg, const Plan& plan, NftBackends b) {
  auto step = [&](RouteOps* routes, ApplyReport& rep) {
    NftEnv env{&b.nft, nullptr, routes};
    return with_nft_lock([&] { return nft_cleanup_plan(cfg, plan, env, rep); });
  };
  return run_locked("cleanup", cfg, b.nft.name(), step, "removed rules",
                    "nothing of these flags' rules found");
}

int nft_verify_rules(const Config& cfg, const Plan& plan, NftBackends b) {
  return run_verify([&](RouteOps* routes, std::string& diff, std::string& error) {
    NftEnv env{&b.nft, &b.legacy, routes};
    return nft_verify_plan(cfg, plan, env, diff, error);
  });
}

}  // namespace snare
