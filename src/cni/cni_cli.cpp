// snare-cni's command line (see cni_cli.h).
#include "cni/cni_cli.h"

#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <thread>

#include "base/log.h"
#include "base/parse.h"
#include "cli/cli.h"
#include "cli/composition.h"
#include "cni/plugin.h"

namespace snare::cni {
namespace {

const char* kUsage =
    "usage: istio-cni                 (CNI_COMMAND and the CNI variables set: the CNI plugin)\n"
    "       snare-cni print-flags [--kubeconfig FILE] --namespace NS --pod NAME "
    "[--native-nftables]\n"
    "                                 [--enablement-selectors JSON]\n"
    "                                 print the snare flags this pod's rules come from "
    "(kubeconfig\n"
    "                                 default: /var/run/istio-cni/istio-cni-kubeconfig); for an\n"
    "                                 ambient pod (istio's helm selectors unless given), the\n"
    "                                 `snare ambient` flags of its annotations\n"
    "       snare-cni install --cni-bin-dir DIR [--watch]\n"
    "                                 install the plugin as DIR/istio-cni (see the README)\n";

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Only the variables istio's plugin reads from its own environment (FillConfigFromEnvironment);
// the runtime's other variables must not turn into flags.
EnvLookup plugin_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    for (const char* allowed :
         {"ISTIO_OUTBOUND_OWNER_GROUPS", "ISTIO_OUTBOUND_OWNER_GROUPS_EXCLUDE",
          "ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR"})
      if (name == allowed)
        if (const char* v = std::getenv(allowed)) return std::string(v);
    return std::nullopt;
  };
}

// Runs `apply` with fd 2 going to a memory file, then writes what it wrote to stderr, a
// plain-text line (the rule code's own "snare: error: ..." lines, a library's message) turned into
// a JSON log line, so that the plugin's stderr is JSON throughout.
int with_json_stderr(const std::function<int()>& apply) {
  std::fflush(stderr);
  const int mem = memfd_create("snare-cni-stderr", MFD_CLOEXEC), saved = dup(2);
  if (mem < 0 || saved < 0 || dup2(mem, 2) < 0) {
    for (int fd : {mem, saved})
      if (fd >= 0) close(fd);
    return apply();
  }
  const int rc = apply();
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  std::string text;
  char buf[4096];
  lseek(mem, 0, SEEK_SET);
  for (ssize_t n; (n = read(mem, buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  close(mem);
  const std::string error_prefix = "snare: error: ";
  for (const std::string& line : split_all(text, '\n')) {
    if (line.empty()) continue;
    if (line[0] == '{')
      std::fputs((line + "\n").c_str(), stderr);
    else if (line.rfind(error_prefix, 0) == 0)
      log_line(LogLevel::error, line.substr(error_prefix.size()));
    else
      log_line(LogLevel::info, line);
  }
  return rc;
}

PluginDeps real_deps() {
  PluginDeps d;
  d.load_kubeconfig = load_kubeconfig;
  d.make_api = make_kube_api;
  d.make_agent = make_cni_agent;
  d.sleep = [](std::chrono::milliseconds ms) { std::this_thread::sleep_for(ms); };
  d.apply = [](const std::vector<std::string>& flags, std::string& error) {
    std::vector<std::string> args = flags;
    args.insert(args.end(), {"--log_as_json"});
    const int rc = with_json_stderr(
        [&] { return run_apply("istio-cni", args, plugin_env(), make_commands()); });
    if (rc != 0) error = log_last_error();
    return rc;
  };
  return d;
}

int plugin() {
  CniEnv e{env("CNI_COMMAND"), env("CNI_CONTAINERID"), env("CNI_NETNS"),
           env("CNI_IFNAME"),  env("CNI_ARGS"),        env("CNI_PATH")};
  std::string input;
  if (e.command != "VERSION")
    input.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  PluginDeps deps = real_deps();
  std::string out;
  const int rc = run_plugin(e, input, deps, out);
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);
  return rc;
}

}  // namespace

int print_flags(const std::vector<std::string>& args);
int install(const std::vector<std::string>& args);

int cni_cli(int argc, char** argv) {
  // Every line snare-cni writes to stderr is a JSON log line, whatever the command: the runtime
  // and the DaemonSet's log collectors parse them.
  log_configure(LogLevel::info, true);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    if (env("CNI_COMMAND").empty())
      return (log_error("snare-cni: no CNI_COMMAND in the environment and no command; run "
                        "`snare-cni --help`"),
              2);
    return plugin();
  }
  if (args[0] == "print-flags") return print_flags({args.begin() + 1, args.end()});
  if (args[0] == "install") return install({args.begin() + 1, args.end()});
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help")
    return (std::fputs(kUsage, stdout), 0);
  log_error("snare-cni: unknown command \"{}\"; run `snare-cni --help`", args[0]);
  return 2;
}

}  // namespace snare::cni
