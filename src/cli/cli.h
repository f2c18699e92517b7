// The command line: which subcommand runs, and the order of the rule commands' steps
// (parse -> validate -> enter the namespace -> fill from the system -> build -> dry-run or apply).
//
// The kernel-facing commands are passed in by the main (the composition root), so that the
// library can be tested with fakes and the main stays a few lines of wiring.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "config/config.h"
#include "config/flags.h"
#include "config/probe_flags.h"
#include "kernel/routes.h"
#include "model/rule.h"
#include "model/table.h"
#include "trace/live.h"

namespace snare {

struct Commands {
  std::function<int(const Config&, const Plan&)> apply;
  std::function<int(const Config&, const Plan&)> cleanup;
  std::function<int(const Config&, const Plan&)> verify;
  std::function<int(const Config&)> validate;     // --run-validation
  std::function<int(int, char**)> proxy;          // snare proxy ...
  std::function<int(const ProbeRequest&)> probe;  // snare ambient-host probe add|del
  std::function<std::string()> version_details;   // libiptc/libnl versions for `snare version`
  // The x_tables raw, mangle and nat tables of `family` in the current namespace, those the
  // kernel has (snare trace --network-namespace).
  std::function<Status(Family, std::vector<TableModel>&)> read_tables;
  // snare trace --live: the kernel's answer in the current namespace (trace/live.h's run_live
  // with the real nftables backend and trace events); `signal` as run_live's.
  std::function<LiveResult(const LiveOptions&, int& signal)> live_trace;
  // The current namespace's nf_tables rule set as libnftables' JSON listing (`list ruleset`),
  // empty when it holds no nf_tables table (no libnftables needed then).
  std::function<Status(std::string&)> nft_ruleset;
  // istio's policy routes of `family` in the current namespace (TPROXY's, ambient's), for the
  // routing step of snare trace --network-namespace.
  std::function<Status(Family, std::vector<RouteOps::TproxyRoute>&)> policy_routes;
};

// Exit codes: 0 ok; 1 failure; 2 bad flags or values; verify: 0/1/2; validation failure 126.
int run_cli(int argc, char** argv, const Commands& commands);

// The apply command with these flags and this environment, as `snare FLAGS` runs it (the CNI
// plugin's way in). Returns the exit code; a failure's reason is log_last_error().
int run_apply(const std::string& command, const std::vector<std::string>& args,
              const EnvLookup& env, const Commands& commands);

// The plan a rule command's flags make (`kind`'s flag table, filled from this host), as a
// dry-run builds it, without entering a namespace. -1: made; otherwise the exit code (--help,
// bad flags).
int plan_from_flags(Command kind, const std::vector<std::string>& args, const std::string& command,
                    const Commands& cmds, Config& cfg, Plan& plan);

// `snare trace ...` (cli/trace_cli.cpp): its arguments after the subcommand.
int run_trace(const std::vector<std::string>& args, const Commands& cmds);

// `snare trace --live` once the simulation ran (cli/trace_live_cli.cpp): the kernel's answer for
// `o`'s packet beside `sim`'s, printed; 0 they agree, 1 no kernel answer, 3 they disagree,
// 128+N after signal N.
int print_live_trace(const TraceResult& sim, const LiveOptions& o, bool json, const Commands& cmds);

// The rule text a dry-run prints.
std::string render_dry_run(const Config& cfg, const Plan& plan);

}  // namespace snare
