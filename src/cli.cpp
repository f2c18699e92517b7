// Subcommand dispatch and the rule commands' step order (see cli.h).
#include "cli.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstring>

#include "build_info.h"
#include "builder.h"
#include "flags.h"
#include "log.h"
#include "netns.h"
#include "render_restore.h"
#include "render_save.h"
#include "system.h"

namespace snare {
namespace {

enum class Verb { apply, clean, verify };

const char* kUsage =
    "usage: snare [istio-iptables] [FLAGS]   write the capture rules (istio-iptables' flags)\n"
    "       snare clean [FLAGS]              remove what these flags create\n"
    "       snare verify [FLAGS]             compare the live rules with these flags (0 same, 1 "
    "drift, 2 trouble)\n"
    "       snare proxy [FLAGS]              run the REDIRECT/TPROXY relay on 15001/15006\n"
    "       snare version                    print version, git revision, libiptc and libnl "
    "versions\n"
    "Run `snare --help` or `snare proxy --help` for the flags.\n";

void error_line(const std::string& msg) { std::fprintf(stderr, "snare: error: %s\n", msg.c_str()); }

int run_rules(Verb verb, const std::string& command, const std::vector<std::string>& args,
              const Commands& cmds) {
  RawFlags raw;
  EnvLookup env = process_env();
  if (Status s = parse_flags(args, env, command, raw); !s.ok()) {
    error_line(s.error);
    return 2;
  }
  if (raw.help) {
    std::fputs(raw.help_text.c_str(), stdout);
    return 0;
  }
  if (raw.version) {
    std::printf("snare %s (git %s)\n%s", SNARE_VERSION, SNARE_GIT_REV,
                cmds.version_details ? cmds.version_details().c_str() : "");
    return 0;
  }
  Config cfg;
  std::vector<std::string> warnings;
  if (Status s = make_config(raw, cfg, warnings); !s.ok()) {
    error_line(s.error);
    return 2;
  }
  log_configure(cfg.log_level, cfg.log_as_json);
  if (verb == Verb::apply && cfg.cleanup_only) verb = Verb::clean;

  // Enter the pod's namespace first: IPv6 detection reads its addresses, and every libiptc or
  // netlink handle must be opened inside it.
  if (!cfg.network_namespace.empty() || cfg.netns_pid > 0) {
    Status s = enter_netns(cfg.network_namespace, cfg.netns_pid);
    if (!s.ok()) {
      if (!cfg.dry_run) {
        error_line(s.error);
        return 1;
      }
      warnings.push_back(s.error + " (dry-run goes on in the current namespace)");
    }
  }
  System& sys = real_system();
  if (Status s = fill_config(cfg, sys, env, warnings); !s.ok()) {
    error_line(s.error);
    return 2;
  }
  for (const auto& w : warnings) log_warn("{}", w);

  Plan plan = build_plan(cfg);
  const bool save_form = cfg.output_format == OutputFormat::save;
  // The kernel stores numbers: names must resolve for the save form and for anything applied.
  // A restore-form dry-run keeps them as given, as istio's does.
  if (save_form || !cfg.dry_run) {
    if (Status s = resolve_names(plan, sys); !s.ok()) {
      error_line(s.error);
      return 2;
    }
  }
  if (cfg.dry_run) {
    std::fputs(render_dry_run(cfg, plan).c_str(), stdout);
    return 0;
  }

  if (!cfg.skip_rule_apply || verb != Verb::apply) {
    if (Status s = check_not_host_netns(cfg.allow_host_netns); !s.ok()) {
      error_line(s.error);
      return verb == Verb::verify ? 2 : 1;
    }
  }
  int rc = 0;
  switch (verb) {
    case Verb::apply:
      if (!cfg.skip_rule_apply) rc = cmds.apply(cfg, plan);
      break;
    case Verb::clean:
      rc = cmds.cleanup(cfg, plan);
      break;
    case Verb::verify:
      return cmds.verify(cfg, plan);
  }
  if (rc == 0 && verb == Verb::apply && cfg.run_validation) rc = cmds.validate(cfg);
  return rc;
}

}  // namespace

std::string render_dry_run(const Config& cfg, const Plan& plan) {
  std::string out;
  auto one = [&](const RuleSet& set, const char* title) {
    out += fmt::format("# {}\n", title);
    if (cfg.output_format == OutputFormat::save) {
      out += render_save(materialize(set), set.family);
    } else {
      out += render_restore(set);
    }
  };
  one(plan.v4, "ipv4");
  if (plan.ipv6) one(plan.v6, "ipv6");
  return out;
}

int run_cli(int argc, char** argv, const Commands& cmds) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string self = argc > 0 ? argv[0] : "snare";
  std::string base = self.substr(self.find_last_of('/') + 1);
  std::string command = base == "istio-iptables" ? "istio-iptables" : "snare";
  // istio's injector passes `istio-iptables` as the first argument to the image's entrypoint.
  if (!args.empty() && args[0] == "istio-iptables") {
    args.erase(args.begin());
    command = "snare istio-iptables";
  } else if (!args.empty() && args[0] == "clean") {
    args.erase(args.begin());
    return run_rules(Verb::clean, "snare clean", args, cmds);
  } else if (!args.empty() && args[0] == "verify") {
    args.erase(args.begin());
    return run_rules(Verb::verify, "snare verify", args, cmds);
  } else if (!args.empty() && args[0] == "proxy") {
    return cmds.proxy(argc - 1, argv + 1);
  } else if (!args.empty() && args[0] == "version") {
    std::printf("snare %s (git %s)\n%s", SNARE_VERSION, SNARE_GIT_REV,
                cmds.version_details ? cmds.version_details().c_str() : "");
    return 0;
  } else if (!args.empty() && args[0] == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  } else if (!args.empty() && !args[0].empty() && args[0][0] != '-') {
    error_line(fmt::format("unknown subcommand \"{}\"", args[0]));
    std::fputs(kUsage, stderr);
    return 2;
  }
  return run_rules(Verb::apply, command, args, cmds);
}

}  // namespace snare
