// Subcommand dispatch and the rule commands' step order (see cli.h).
#include "cli/cli.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "base/log.h"
#include "build_info.h"
#include "builder/builder.h"
#include "config/ambient_flags.h"
#include "config/fill_config.h"
#include "config/flags.h"
#include "config/host_facts.h"
#include "ext/forms.h"
#include "ext/nft_kernel_form.h"
#include "kernel/netns.h"
#include "model/table.h"
#include "render/nft.h"
#include "render/nft_form_json.h"
#include "render/restore.h"
#include "render/save.h"

namespace snare {
namespace {

enum class Verb { apply, clean, verify };

const char* kUsage =
    "usage: snare [istio-iptables] [FLAGS]   write the capture rules (istio-iptables' flags)\n"
    "       snare clean [FLAGS]              remove what these flags create (and istio's "
    "iptables-nft chains)\n"
    "       snare verify [FLAGS]             compare the live rules with these flags (0 same, 1 "
    "drift, 2 trouble)\n"
    "       snare ambient [clean|verify] [FLAGS]  ambient mode's in-pod redirection to ztunnel\n"
    "       snare ambient-host [clean|verify] [FLAGS]  ambient mode's node-side probe SNAT and "
    "probe sets\n"
    "       snare ambient-host probe add|del IP --pod-uid UID  a pod's probe-set membership\n"
    "       snare proxy [FLAGS]              run the REDIRECT/TPROXY relay on 15001/15006\n"
    "       snare trace DIR PROTO SRC DST [FLAGS] (-- RULE FLAGS | --rules FILE)  where a packet "
    "goes through the rules, and why (`snare trace --help`)\n"
    "       snare cni [print-flags|install]  istio-cni's plugin (snare-cni; `snare cni --help`)\n"
    "       snare version                    print version, git revision, libiptc, libnl, "
    "libnftables "
    "versions\n"
    "Run `snare --help` or `snare proxy --help` for the flags.\n";

void error_line(const std::string& msg) {
  log_record_error(msg);
  std::fprintf(stderr, "snare: error: %s\n", msg.c_str());
}

int print_version(const Commands& cmds) {
  std::printf("snare %s (git %s)\n%s", SNARE_VERSION, SNARE_GIT_REV,
              cmds.version_details ? cmds.version_details().c_str() : "");
  return 0;
}

// The raw flags of either table into a Config: --help, --version, or the first error. -1: go on;
// otherwise the exit code.
template <typename Raw, typename Make>
int finish_config(Status parsed, const Raw& raw, const Commands& cmds, Make make, Config& cfg) {
  if (!parsed.ok()) {
    error_line(parsed.error);
    return 2;
  }
  if (raw.help) {
    std::fputs(raw.help_text.c_str(), stdout);
    return 0;
  }
  if (raw.version) return print_version(cmds);
  if (Status s = make(); !s.ok()) {
    error_line(s.error);
    return 2;
  }
  log_configure(cfg.log_level, cfg.log_as_json);
  return -1;
}

// Flags and environment into a Config, with the flag table of `kind`'s command.
int parse_config(Command kind, const std::vector<std::string>& args, const std::string& command,
                 const EnvLookup& env, const Commands& cmds, Config& cfg,
                 std::vector<std::string>& warnings) {
  if (kind != Command::sidecar) {
    AmbientRawFlags raw;
    Status s = parse_ambient_flags(kind, args, env, command, raw);
    return finish_config(
        s, raw, cmds, [&] { return make_ambient_config(kind, raw, cfg); }, cfg);
  }
  RawFlags raw;
  Status s = parse_flags(args, env, command, raw);
  return finish_config(
      s, raw, cmds, [&] { return make_config(raw, cfg, warnings); }, cfg);
}

// Enters the pod's namespace first: IPv6 detection reads its addresses, and every libiptc or
// netlink handle must be opened inside it. A dry-run goes on where it is, with a warning. A
// namespace that cannot be entered is a failure for apply and clean and trouble for verify (2: it
// could not read the rules, which is not drift).
int enter_namespace(Verb verb, const Config& cfg, std::vector<std::string>& warnings) {
  if (cfg.network_namespace.empty() && cfg.netns_pid <= 0) return -1;
  Status s = enter_netns(cfg.network_namespace, cfg.netns_pid);
  if (s.ok()) return -1;
  if (!cfg.dry_run) {
    error_line(s.error);
    return verb == Verb::verify ? 2 : 1;
  }
  warnings.push_back(s.error + " (dry-run goes on in the current namespace)");
  return -1;
}

int run_verb(Verb verb, const Config& cfg, const Plan& plan, const Commands& cmds) {
  // ambient-host writes the node's own namespace: that is what it is for.
  const bool guarded = cfg.command != Command::ambient_host;
  if (guarded && (!cfg.skip_rule_apply || verb != Verb::apply)) {
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
      return cmds.cleanup(cfg, plan);
    case Verb::verify:
      return cmds.verify(cfg, plan);
  }
  if (rc == 0 && cfg.run_validation) rc = cmds.validate(cfg);
  return rc;
}

// What the flags leave open comes from the host: istio-iptables' environment, resolv.conf
// and addresses for the sidecar; kubelet's UID for ambient-host's nftables rule.
int fill_from_host(Command kind, const EnvLookup& env, Config& cfg,
                   std::vector<std::string>& warnings) {
  HostFacts& host = real_host_facts();
  if (Status s = kind == Command::sidecar ? fill_config(cfg, host, env, warnings)
                                          : fill_ambient_config(cfg, host);
      !s.ok()) {
    error_line(s.error);
    return 2;
  }
  for (const auto& w : warnings) log_warn("{}", w);
  return -1;
}

int run_rules(Verb verb, const std::string& command, const std::vector<std::string>& args,
              const Commands& cmds, const EnvLookup& env = process_env(),
              Command kind = Command::sidecar) {
  Config cfg;
  std::vector<std::string> warnings;
  if (int rc = parse_config(kind, args, command, env, cmds, cfg, warnings); rc >= 0) return rc;
  if (verb == Verb::apply && cfg.cleanup_only) verb = Verb::clean;
  if (int rc = enter_namespace(verb, cfg, warnings); rc >= 0) return rc;
  if (int rc = fill_from_host(kind, env, cfg, warnings); rc >= 0) return rc;
  Plan plan = build_plan(cfg);
  if (cfg.dry_run) {
    std::fputs(render_dry_run(cfg, plan).c_str(), stdout);
    return 0;
  }
  return run_verb(verb, cfg, plan, cmds);
}

// `snare cni ...` is snare-cni, the CNI plugin's own binary (it carries OpenSSL and yaml-cpp, which
// the init container's snare should not load at every start): run it from snare's directory.
int run_snare_cni(int argc, char** argv) {
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  std::string path = n > 0 ? std::string(self, static_cast<size_t>(n)) : std::string();
  path = path.substr(0, path.find_last_of('/') + 1) + "snare-cni";
  std::vector<char*> args = {const_cast<char*>(path.c_str())};
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  execv(path.c_str(), args.data());
  error_line(fmt::format("snare cni: cannot run {}: {} (install snare-cni next to snare)", path,
                         errno_text(errno)));
  return 1;
}

// `snare ambient-host probe add|del IP --pod-uid UID [FLAGS]`: 2 for bad arguments (nothing
// changed), else the command's code.
int run_probe(const std::vector<std::string>& args, const Commands& cmds) {
  ProbeRequest req;
  if (Status s = parse_probe_args(args, process_env(), req); !s.ok()) {
    error_line(s.error);
    return 2;
  }
  if (req.help) {
    std::fputs(req.help_text.c_str(), stdout);
    return 0;
  }
  log_configure(LogLevel::info, req.log_as_json);
  return cmds.probe(req);
}

// `snare ambient [clean|verify] FLAGS`, `snare ambient-host [clean|verify] FLAGS`.
int run_ambient(const std::string& sub, std::vector<std::string> args, const Commands& cmds) {
  args.erase(args.begin());
  if (sub == "ambient-host" && !args.empty() && args[0] == "probe")
    return run_probe(std::vector<std::string>(args.begin() + 1, args.end()), cmds);
  const Command kind = sub == "ambient" ? Command::ambient : Command::ambient_host;
  Verb verb = Verb::apply;
  std::string name = "snare " + sub;
  const std::string word = args.empty() ? "" : args[0];
  if (word == "clean" || word == "verify") {
    verb = word == "clean" ? Verb::clean : Verb::verify;
    name += " " + word;
    args.erase(args.begin());
  }
  return run_rules(verb, name, args, cmds, process_env(), kind);
}

}  // namespace

int plan_from_flags(Command kind, const std::vector<std::string>& args, const std::string& command,
                    const Commands& cmds, Config& cfg, Plan& plan) {
  std::vector<std::string> warnings;
  const EnvLookup env = process_env();
  if (int rc = parse_config(kind, args, command, env, cmds, cfg, warnings); rc >= 0) return rc;
  if (int rc = fill_from_host(kind, env, cfg, warnings); rc >= 0) return rc;
  plan = build_plan(cfg);
  return -1;
}

int run_apply(const std::string& command, const std::vector<std::string>& args,
              const EnvLookup& env, const Commands& cmds) {
  return run_rules(Verb::apply, command, args, cmds, env);
}

std::string render_dry_run(const Config& cfg, const Plan& plan) {
  // nftables: one inet table per istio table holds both families.
  if (plan.dialect == Dialect::nftables)
    return cfg.output_format == OutputFormat::save ? nft_form_json(nft_expected_form(plan))
                                                   : render_nft(plan);
  std::string out;
  for (Family f : plan_families(plan)) {
    out += fmt::format("# {}\n", family_name(f));
    if (cfg.output_format == OutputFormat::save)
      out += render_save(replay_fresh(plan, entered_chain, f));
    else
      out += render_restore(plan, f);
  }
  return out;
}

int run_cli(int argc, char** argv, const Commands& cmds) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const std::string self = argc > 0 ? argv[0] : "snare";
  const std::string base = self.substr(self.find_last_of('/') + 1);
  std::string command = base == "istio-iptables" ? "istio-iptables" : "snare";
  const std::string sub = args.empty() ? "" : args[0];
  // istio's injector passes `istio-iptables` as the first argument to the image's entrypoint.
  if (sub == "istio-iptables" || sub == "clean" || sub == "verify") {
    args.erase(args.begin());
    const Verb verb = sub == "clean" ? Verb::clean : sub == "verify" ? Verb::verify : Verb::apply;
    return run_rules(verb, "snare " + sub, args, cmds);
  }
  if (sub == "ambient" || sub == "ambient-host") return run_ambient(sub, args, cmds);
  if (sub == "proxy") return cmds.proxy(argc - 1, argv + 1);
  if (sub == "trace")
    return run_trace(std::vector<std::string>(args.begin() + 1, args.end()), cmds);
  if (sub == "cni") return run_snare_cni(argc - 1, argv + 1);
  if (sub == "version") return print_version(cmds);
  if (sub == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!sub.empty() && sub[0] != '-') {
    error_line(fmt::format("unknown subcommand \"{}\"", sub));
    std::fputs(kUsage, stderr);
    return 2;
  }
  return run_rules(Verb::apply, command, args, cmds);
}

}  // namespace snare
