// One rule command (apply, clean, verify) against the kernel, in either mode: the checks before
// anything is touched (privileges; in iptables mode's apply, nftables state), the xtables lock
// (for legacy writes: iptables mode, and nftables mode's --reconcile migration), in nftables mode
// the namespace's nftables apply lock (a transaction is atomic, but an apply is a read, a
// transaction and routes: two at once would mix), the step over the backends, one log line with
// the per-phase times. Everything after the plan is shared: a command only picks the builder that
// makes it.
//
// The OS parts besides the backends come in as RunSeams, made by the composition root
// (cli/composition.cpp), so that the order and the exit codes are unit-tested with fakes.
// Exit codes: apply and clean 0 done, 1 failure or refusal; verify 0 equal, 1 drift, 2 trouble
// (it could not check: no privilege, a backend that cannot read).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/log.h"
#include "config/config.h"
#include "kernel/ipset.h"
#include "kernel/nft_backend.h"
#include "kernel/nft_detect.h"
#include "kernel/routes.h"
#include "kernel/tables.h"
#include "model/rule.h"

namespace snare {

enum class RuleVerb { apply, clean, verify };

struct RunSeams {
  std::function<Status()> check_capability;                      // CAP_NET_ADMIN
  std::function<Status(std::vector<NftTableInfo>&)> nft_tables;  // the namespace's nf_tables
  // An flock on `path` (`what` names it in messages: "xtables lock", "nftables apply lock"),
  // waiting up to `timeout`; `waited_ms` how long it waited. unlock() releases every lock taken,
  // the last first (and does nothing when none is held).
  std::function<Status(const std::string& what, const std::string& path,
                       std::chrono::milliseconds timeout, double& waited_ms)>
      lock;
  std::function<void()> unlock;
  // The nftables apply lock's file for the namespace the command runs in (nft_apply_lock_path).
  std::function<std::string()> nft_lock_path;
  std::function<std::unique_ptr<RouteOps>()> routes;
  // The ipsets of iptables mode's plans that have sets (ambient-host's probe sets).
  std::function<std::unique_ptr<IpsetOps>()> ipsets;
  // The command's closing info line (log_line by default).
  std::function<void(std::string_view, const LogFields&)> done_line;
};

// The backends of both modes. iptables mode writes `tables` and, through `nft`, removes istio's
// iptables-nft chains in clean and reports them as drift in verify (xt_nft.h); nftables mode writes
// `nft` and reads `tables` for istio's legacy rules (written only by --reconcile's migration).
// Either may be null: not used.
struct RuleBackends {
  TablesBackend* tables = nullptr;
  NftBackend* nft = nullptr;
};

int run_rule_command(RuleVerb verb, const Config& cfg, const Plan& plan, const RunSeams& seams,
                     RuleBackends backends);

// iptables mode's refusal of an apply next to nftables state: the message, naming every table
// and what to run (empty list: "").
std::string nftables_refusal(const std::vector<NftTableInfo>& tables);

}  // namespace snare
